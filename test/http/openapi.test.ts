import { describe, expect, it } from 'vitest';

import { type ApiErrorCode, apiErrorCodes, httpCodeOf } from '../../src/http/api-error.js';
import { documentedOperations, openApiDocument, openApiPath } from '../../src/http/openapi.js';
import { defaultSnapshotParameters } from '../../src/http/snapshot-request.js';
import { apiExtensionNames, sampleOptions } from '../../src/option-schema.js';

type Json = Record<string, unknown>;

const document = openApiDocument as unknown as Json;
const base = '/v3/openapi/workspaces/{workspace_name}/video-snapshot/{service_id}';

/** The value a local `$ref` (`#/components/...`) points at, or undefined. */
function resolvePointer(pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  return pointer
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((at, part) => (typeof at === 'object' && at !== null ? (at as Json)[part] : undefined), document);
}

/** The object itself, or what its `$ref` points at. */
function deref(value: unknown): Json {
  const object = value as Json;
  return typeof object.$ref === 'string' ? deref(resolvePointer(object.$ref)) : object;
}

/** Every value in the document with its JSON path. */
function* walk(value: unknown, at = '#'): Generator<[string, unknown]> {
  yield [at, value];
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) yield* walk(child, `${at}/${key}`);
}

interface Operation {
  method: string;
  path: string;
  operation: Json;
}

function operations(): Operation[] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, operation]) => ({ method, path, operation: operation as Json })),
  );
}

/** The codes and http_code an error response documents. */
function errorCodesOf(response: Json): { codes: ApiErrorCode[]; httpCodes: number[] } {
  const schema = ((response.content as Json)['application/json'] as Json).schema as Json;
  const own = (schema.allOf as Json[])[1] as Json;
  const properties = own.properties as Json;
  return { codes: (properties.code as Json).enum as ApiErrorCode[], httpCodes: (properties.http_code as Json).enum as number[] };
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and survives JSON as it is', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });

  it('documents exactly the service routes', () => {
    expect(documentedOperations).toEqual([
      { method: 'post', path: `${base}/sync`, expressPath: '/v3/openapi/workspaces/:workspace_name/video-snapshot/:service_id/sync' },
      { method: 'post', path: `${base}/async`, expressPath: '/v3/openapi/workspaces/:workspace_name/video-snapshot/:service_id/async' },
      {
        method: 'get',
        path: `${base}/async/task-status`,
        expressPath: '/v3/openapi/workspaces/:workspace_name/video-snapshot/:service_id/async/task-status',
      },
      { method: 'get', path: '/health', expressPath: '/health' },
      { method: 'get', path: '/metrics', expressPath: '/metrics' },
      { method: 'get', path: openApiPath, expressPath: '/openapi.json' },
    ]);
  });

  it('resolves every $ref', () => {
    const refs = [...walk(document)].filter(([at]) => at.endsWith('/$ref'));
    expect(refs.length).toBeGreaterThan(20);
    for (const [at, pointer] of refs) expect(resolvePointer(pointer as string), `${at} → ${String(pointer)}`).toBeDefined();
  });

  it('gives every operation a unique id, a summary and described responses', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, operation } of operations()) {
      expect(operation.summary, `${method} ${path}`).toEqual(expect.any(String));
      const responses = Object.entries(operation.responses as Json);
      expect(responses.map(([status]) => status)).toContain('200');
      for (const [status, response] of responses) {
        expect(status).toMatch(/^[1-5][0-9]{2}$/);
        expect(deref(response).description, `${method} ${path} ${status}`).toEqual(expect.any(String));
      }
    }
  });

  it('declares each path template parameter once, required', () => {
    for (const { path, operation } of operations()) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = ((operation.parameters as Json[] | undefined) ?? []).map(deref).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name)).toEqual(templated);
      for (const parameter of declared) expect(parameter.required).toBe(true);
    }
  });

  it('asks for the bearer key on the API routes only', () => {
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    expect(((document.components as Json).securitySchemes as Json).bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const { path, operation } of operations()) {
      expect(operation.security, path).toEqual(path.startsWith('/v3/') ? undefined : []);
      if (path.startsWith('/v3/')) expect(Object.keys(operation.responses as Json)).toContain('401');
    }
  });

  it('documents every error code of api-error.ts, each under its own status', () => {
    const responses = (document.components as Json).responses as Json;
    const documented = Object.values(responses).flatMap((response) => {
      const { codes, httpCodes } = errorCodesOf(response as Json);
      expect(httpCodes).toEqual([...new Set(codes.map(httpCodeOf))]);
      return codes;
    });
    expect([...new Set(documented)].sort()).toEqual([...apiErrorCodes].sort());
    for (const { method, path, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (status === '200') continue;
        for (const code of errorCodesOf(deref(response)).codes) expect(httpCodeOf(code), `${method} ${path} ${code}`).toBe(Number(status));
      }
    }
  });

  it('sends Retry-After with every 429 and 503', () => {
    for (const { operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        const headers = deref(response).headers as Json;
        expect(Object.keys(headers)).toContain('X-Request-Id');
        if (status === '429' || status === '503') expect(deref(headers['Retry-After']).schema).toEqual({ type: 'integer', minimum: 1 });
      }
    }
  });

  it('describes the error envelope and the success envelope of the API document', () => {
    const schemas = (document.components as Json).schemas as Json;
    expect((schemas.ErrorEnvelope as Json).required).toEqual(['request_id', 'latency', 'code', 'http_code', 'message']);
    const sync = deref(((document.paths as Json)[`${base}/sync`] as Json).post as Json);
    const ok = (((deref((sync.responses as Json)['200']).content as Json)['application/json'] as Json).schema as Json);
    expect(ok.required).toEqual(['request_id', 'latency', 'usage', 'result']);
    expect(Object.keys((schemas.Usage as Json).properties as Json)).toEqual(['image_count', 'image']);
    expect(Object.keys((schemas.SnapshotResult as Json).properties as Json)).toEqual(['frame_index', 'frame_time', 'path', 'content']);
    expect(((schemas.TaskStatus as Json).properties as Json).status).toMatchObject({ enum: ['PENDING', 'SUCCESS', 'FAIL'] });
  });

  it('takes the request limits and defaults from the options table and the request parser', () => {
    const schemas = (document.components as Json).schemas as Json;
    const parameters = (schemas.SnapshotParameters as Json).properties as Record<string, Json>;
    const literals = (...values: string[]) => values.map((value) => ({ const: value, type: 'string' }));
    // The seed's three, with the seed's defaults; the API keeps its integer interval.
    expect(parameters.interval).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: sampleOptions.interval.api.schema.maximum,
      default: defaultSnapshotParameters.interval,
    });
    expect(sampleOptions.interval.api.schema.maximum).toBe(3600);
    expect(parameters.format).toMatchObject({ anyOf: literals('jpg', 'png', 'webp'), default: defaultSnapshotParameters.format });
    expect(parameters.mode).toMatchObject({ anyOf: literals('exact', 'keyframe'), default: defaultSnapshotParameters.mode });
    // vsnap's extensions, each as the options table defines it; quality and compression are not the API's.
    expect(Object.keys(parameters).sort()).toEqual(['interval', 'format', 'mode', ...apiExtensionNames].sort());
    expect(apiExtensionNames).toEqual(['start', 'end', 'count', 'times', 'width', 'height', 'fit', 'tonemap', 'sprite']);
    expect(parameters.count).toMatchObject({ type: 'integer', minimum: 1 });
    expect(parameters.times).toMatchObject({ type: 'array', minItems: 1, items: { type: 'number', minimum: 0 } });
    expect(parameters.fit).toMatchObject({ anyOf: literals('cover', 'contain', 'fill', 'inside', 'outside') });
    expect(parameters.tonemap).toMatchObject({ anyOf: literals('auto', 'off'), default: 'auto' });
    expect(parameters.sprite).toMatchObject({ type: 'object', required: ['columns', 'rows'], additionalProperties: false });
    // TypeBox's symbol keys do not reach the document.
    for (const schema of Object.values(parameters)) expect(Object.getOwnPropertySymbols(schema)).toEqual([]);
    expect((schemas.SnapshotInput as Json).oneOf).toEqual([{ required: ['content'] }, { required: ['oss'] }]);
    expect(((schemas.AsyncSnapshotOutput as Json).properties as Record<string, Json>).type?.enum).toEqual(['oss']);
    expect((schemas.SyncSnapshotOutput as Json).else).toEqual({ required: ['oss'] });
  });
});
