/**
 * The body schemas of the OpenAPI document (openapi.ts): requests, results
 * and the two envelopes, as JSON Schema 2020-12 (OpenAPI 3.1).
 *
 * The request schemas say what snapshot-request.ts accepts: the parameters
 * are the snapshot options' API schemas as they are (option-schema.ts, the
 * one definition), the rest is built from the parser's constants (defaults,
 * file-name limit); where JSON Schema cannot say it (the case-insensitive
 * data URI, file names counted in UTF-8 bytes, options that exclude each
 * other) the description does. Unknown fields are allowed, as the parser
 * ignores them.
 */

import { apiErrorCodes } from './api-error.js';
import { apiExtensionNames, sampleOptions, schemaOf, type OptionEntry, type SampleOptionName } from '../option-schema.js';
import { defaultSnapshotParameters, maxFileNameBytes } from './snapshot-request.js';

export type JsonObject = { [key: string]: unknown };

/** A reference to a component of the document: `ref('TaskId')`, `ref('RetryAfter', 'headers')`. */
export const ref = (name: string, kind = 'schemas'): JsonObject => ({ $ref: `#/components/${kind}/${name}` });

const ossPath = { type: 'string', pattern: '^oss://', minLength: 'oss://x'.length };

export const openApiSchemas = {
  RequestId: { type: 'string', pattern: '^[0-9a-f]{32}$' },
  Latency: { type: 'integer', minimum: 0, description: 'Milliseconds the service took' },
  TaskId: { type: 'string', pattern: '^snapshot-[0-9]{14}-[0-9a-f]{32}$' },
  Usage: {
    type: 'object',
    description: 'Empty until a task has succeeded; then the image count, under both spellings the API uses',
    properties: { image_count: { type: 'integer', minimum: 0 }, image: { type: 'integer', minimum: 0 } },
  },
  SnapshotInput: {
    type: 'object',
    description: 'Exactly one of content and oss',
    oneOf: [{ required: ['content'] }, { required: ['oss'] }],
    properties: {
      content: {
        type: 'string',
        description:
          'data:video/<format>;base64,<data>, the scheme and media type in any case; formats mp4, avi, mkv, mov, flv, webm ' +
          '(also quicktime, x-matroska, x-flv, x-msvideo); strict RFC 4648 base64 of at least one byte',
      },
      oss: { ...ossPath, description: 'oss://<bucket>/<key> of the video' },
      file_name: {
        type: 'string',
        minLength: 1,
        description: `1 to ${maxFileNameBytes} UTF-8 bytes, not . or .., without / \\ or control characters`,
      },
    },
  },
  SnapshotParameters: {
    type: 'object',
    description:
      `interval, format and mode are the seed's; ${apiExtensionNames.join(', ')} are vsnap's extensions. ` +
      'times excludes interval, count, start and end; count excludes interval; end must be after start; ' +
      'sprite needs output.type oss',
    properties: parameterSchemas(),
  },
  SyncSnapshotOutput: {
    type: 'object',
    properties: {
      type: { enum: ['base64', 'oss'], default: 'oss' },
      oss: { ...ossPath, description: 'Prefix of the images; required for type oss' },
    },
    if: { required: ['type'], properties: { type: { const: 'base64' } } },
    then: { not: { required: ['oss'] } },
    else: { required: ['oss'] },
  },
  AsyncSnapshotOutput: {
    type: 'object',
    required: ['oss'],
    properties: {
      type: { enum: ['oss'], default: 'oss', description: 'base64 is for sync calls only' },
      oss: ossPath,
    },
  },
  SyncSnapshotRequest: {
    type: 'object',
    required: ['input', 'output'],
    description: 'Unknown fields are ignored; null is never a valid value',
    properties: {
      input: ref('SnapshotInput'),
      parameters: ref('SnapshotParameters'),
      output: ref('SyncSnapshotOutput'),
    },
  },
  AsyncSnapshotRequest: {
    type: 'object',
    required: ['input', 'output'],
    description: 'Unknown fields are ignored; null is never a valid value',
    properties: {
      input: ref('SnapshotInput'),
      parameters: ref('SnapshotParameters'),
      output: ref('AsyncSnapshotOutput'),
    },
  },
  SnapshotResult: {
    type: 'object',
    required: ['frame_index', 'frame_time'],
    oneOf: [{ required: ['path'] }, { required: ['content'] }],
    properties: {
      frame_index: { type: 'integer', minimum: 0 },
      frame_time: { type: 'number', minimum: 0, description: 'Seconds' },
      path: {
        type: 'string',
        description: 'URL-encoded oss:// path of the image: {output.oss}/{task_id}/snapshot_{K}.{ext}',
      },
      content: { type: 'string', description: 'Base64 image (sync calls with output.type base64)' },
    },
  },
  SyncResult: {
    type: 'object',
    required: ['task_id', 'status', 'data'],
    properties: {
      task_id: ref('TaskId'),
      status: { const: 'SUCCESS' },
      data: { type: 'array', items: ref('SnapshotResult') },
    },
  },
  AcceptedTask: {
    type: 'object',
    required: ['task_id', 'status'],
    properties: { task_id: ref('TaskId'), status: { const: 'PENDING' } },
  },
  TaskStatus: {
    type: 'object',
    required: ['task_id', 'status'],
    properties: {
      task_id: ref('TaskId'),
      status: { enum: ['PENDING', 'SUCCESS', 'FAIL'], description: 'PENDING while waiting or running' },
      data: { type: 'array', items: ref('SnapshotResult'), description: 'When SUCCESS' },
      error: { type: 'string', description: 'When FAIL: why, in one line' },
    },
  },
  ErrorEnvelope: {
    type: 'object',
    required: ['request_id', 'latency', 'code', 'http_code', 'message'],
    properties: {
      request_id: ref('RequestId'),
      latency: ref('Latency'),
      code: { enum: apiErrorCodes },
      http_code: { type: 'integer' },
      message: { type: 'string' },
    },
  },
};

/** Each API parameter's schema, from the snapshot options' one definition, with the seed's defaults. */
function parameterSchemas(): JsonObject {
  const properties: JsonObject = {};
  for (const [name, entry] of Object.entries(sampleOptions) as [SampleOptionName, OptionEntry][]) {
    if (entry.api === undefined) continue;
    // A plain copy: TypeBox marks its schemas with symbol keys, which a JSON document has no use for.
    const schema = JSON.parse(JSON.stringify(schemaOf(name, 'api'))) as JsonObject;
    const seedDefault = (defaultSnapshotParameters as Record<string, unknown>)[name];
    properties[entry.api.field] = seedDefault === undefined ? schema : { ...schema, default: seedDefault };
  }
  return properties;
}
