/**
 * The body schema of the sync and async snapshot routes, checked once and
 * turned into a fully-defaulted `SnapshotRequest`. Every failure throws an
 * ApiError InvalidParameter (400) whose message is
 * `Expected <what> for <field> but received <value>`, the field written as a
 * dotted path (`input.content`, `parameters.interval`, `output.oss`).
 *
 * Decisions beyond the document:
 * - Unknown keys are ignored at every level, so clients written for a newer
 *   version of the API keep working. Known keys are checked strictly: `null`
 *   is a wrong type, not an absent value.
 * - `input.content` is `data:video/<format>;base64,<data>`, nothing between
 *   the media type and `;base64`. The scheme and media type are
 *   case-insensitive (RFC 2397, RFC 2045). Formats: mp4, avi, mkv, mov, flv,
 *   webm, and the registered spellings quicktime (mov), x-matroska (mkv),
 *   x-flv (flv), x-msvideo (avi). The data is strict RFC 4648 base64:
 *   standard alphabet, no whitespace, length a multiple of 4, at most two
 *   `=` only at the end, zero padding bits; it must decode to at least one byte.
 * - `input.oss` must be a string starting with `oss://` and naming something
 *   after it; the storage module checks the rest of the path.
 * - `input.file_name` is 1 to 255 UTF-8 bytes, not `.` or `..`, without `/`,
 *   `\` or control characters. When absent it is the last segment of
 *   `input.oss`, or `video.<format>` for content.
 * - `parameters` are the snapshot options' API face (option-schema.ts),
 *   validated by the library's rules with the API's schemas, and named
 *   `parameters.<field>` in errors. `interval` is an integer number of
 *   seconds from 1 to 3600, as the seed types it (a numeric string such as
 *   "1" is refused). vsnap's own: `mode` (exact, default, or keyframe),
 *   `format` webp, and the extensions `start`, `end`, `count`, `times`,
 *   `width`, `height`, `fit` and `sprite`; a request without them is the
 *   seed's. `sprite` needs oss output: its sheets are files.
 * - `output` is required, as in the document's body table; `output.type`
 *   defaults to oss, and then `output.oss` is required. base64 output is for
 *   sync calls only. `output.oss` given with type base64 is refused rather
 *   than ignored, since the caller clearly expected files in OSS.
 */

import { VsnapError } from '../errors.js';
import { apiExtensionNames, apiParameterName, sampleOptions, type OptionEntry, type SampleOptionName } from '../option-schema.js';
import { resolveSnapshotOptions, type ImageFormat, type SamplingMode } from '../options.js';
import type { SnapshotExtensions } from '../tasks/job.js';
import { ApiError, invalidParameter, invalidParameterDescribed } from './api-error.js';

export type SnapshotKind = 'sync' | 'async';

export type VideoContainer = 'mp4' | 'avi' | 'mkv' | 'mov' | 'flv' | 'webm';

export type SnapshotSource =
  | { type: 'content'; data: Buffer; container: VideoContainer; fileName: string }
  | { type: 'oss'; path: string; fileName: string };

export type OssDestination = { type: 'oss'; path: string };

export type SnapshotDestination = { type: 'base64' } | OssDestination;

export interface SnapshotParameters {
  /** Seconds between targets; unused when `extensions` hold a count or times. */
  interval: number;
  format: ImageFormat;
  mode: SamplingMode;
  /** vsnap's extensions the request gave (apiExtensionNames); absent when it gave none. */
  extensions?: SnapshotExtensions;
}

export interface SyncSnapshotRequest {
  kind: 'sync';
  input: SnapshotSource;
  parameters: SnapshotParameters;
  output: SnapshotDestination;
}

export interface AsyncSnapshotRequest {
  kind: 'async';
  input: SnapshotSource;
  parameters: SnapshotParameters;
  output: OssDestination;
}

export type SnapshotRequest = SyncSnapshotRequest | AsyncSnapshotRequest;

export const defaultSnapshotParameters: Readonly<SnapshotParameters> = Object.freeze({
  interval: 1,
  format: 'jpg',
  mode: 'exact',
});

export const maxFileNameBytes = 255;

/** Media subtype (lower case) → container. */
const containerOfSubtype: Readonly<Record<string, VideoContainer>> = Object.freeze({
  mp4: 'mp4',
  avi: 'avi',
  'x-msvideo': 'avi',
  mkv: 'mkv',
  'x-matroska': 'mkv',
  mov: 'mov',
  quicktime: 'mov',
  flv: 'flv',
  'x-flv': 'flv',
  webm: 'webm',
});

/** Longer than any accepted `data:video/<subtype>;base64` header. */
const maxDataUriHeaderLength = 64;
const dataUriForm = 'a data URI of the form data:video/<format>;base64,<data>';
const videoMediaTypes = 'video/mp4, video/avi, video/mkv, video/mov, video/flv or video/webm';
const ossPathForm = 'a string of the form oss://<bucket>/<path>';

export function parseSnapshotRequest(body: unknown, kind: 'sync'): SyncSnapshotRequest;
export function parseSnapshotRequest(body: unknown, kind: 'async'): AsyncSnapshotRequest;
export function parseSnapshotRequest(body: unknown, kind: SnapshotKind): SnapshotRequest;
export function parseSnapshotRequest(body: unknown, kind: SnapshotKind): SnapshotRequest {
  const fields = objectAt(body, 'body');
  const input = parseInput(fields.input);
  const parameters = parseParameters(fields.parameters);
  if (kind === 'sync') return { kind, input, parameters, output: spriteOutput(parameters, parseOutput(fields.output, kind)) };
  return { kind, input, parameters, output: parseOutput(fields.output, kind) };
}

function parseInput(value: unknown): SnapshotSource {
  const input = objectAt(value, 'input');
  const hasContent = input.content !== undefined;
  const hasOss = input.oss !== undefined;
  if (hasContent === hasOss) {
    throw invalidParameterDescribed(
      'input',
      'exactly one of input.content or input.oss',
      hasContent ? 'both' : 'neither',
    );
  }
  const fileName = input.file_name === undefined ? undefined : parseFileName(input.file_name);
  if (hasOss) {
    const path = parseOssPath(input.oss, 'input.oss');
    return { type: 'oss', path, fileName: fileName ?? fileNameOfOssPath(path) };
  }
  const { data, container } = parseDataUri(input.content);
  return { type: 'content', data, container, fileName: fileName ?? `video.${container}` };
}

function parseDataUri(value: unknown): { data: Buffer; container: VideoContainer } {
  const field = 'input.content';
  if (typeof value !== 'string') throw invalidParameter(field, dataUriForm, value);
  const comma = value.indexOf(',');
  // Only a short header is read, so a malformed multi-megabyte value is never copied whole.
  const header = comma === -1 || comma > maxDataUriHeaderLength ? '' : value.slice(0, comma).toLowerCase();
  const match = /^data:([^;,]*);base64$/.exec(header);
  if (match === null) throw invalidParameter(field, dataUriForm, value);
  const mediaType = match[1] ?? '';
  const subtype = mediaType.startsWith('video/') ? mediaType.slice('video/'.length) : undefined;
  const container = subtype === undefined ? undefined : containerOfSubtype[subtype];
  if (container === undefined) throw invalidParameter(field, `${videoMediaTypes} as the media type`, mediaType);
  const encoded = value.slice(comma + 1);
  // One native decode checks megabytes in milliseconds (isStrictBase64); only
  // a refused value is walked in JavaScript, to say what is wrong.
  const data = Buffer.from(encoded, 'base64');
  if (!isStrictBase64(encoded, data)) {
    const defect = base64Defect(encoded) ?? 'data that is not canonical base64';
    throw invalidParameterDescribed(field, 'strict base64 video data', defect);
  }
  if (data.byteLength === 0) throw invalidParameterDescribed(field, 'non-empty video data', '0 bytes');
  return { data, container };
}

const base64Strict = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Whether `text` is strict base64, given `data`, what Node decoded from it.
 * Node's decoder skips what is not in its alphabet and stops at `=`, so any
 * such character leaves `data` shorter than the length the text promises;
 * its alphabet also holds the URL-safe `-` and `_`, which strict base64
 * refuses; and the bits after the last byte must be zero. No re-encoding:
 * a second megabytes-long string would only feed the garbage collector.
 */
function isStrictBase64(text: string, data: Buffer): boolean {
  if (text.length % 4 !== 0) return false;
  const pads = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (data.length !== (text.length / 4) * 3 - pads) return false;
  if (text.includes('-') || text.includes('_')) return false;
  if (pads === 0) return true;
  const last = base64Value(text.charCodeAt(text.length - pads - 1));
  return (last & (pads === 2 ? 0x0f : 0x03)) === 0;
}

/** Why `text` is not strict RFC 4648 base64, or undefined when it is. */
function base64Defect(text: string): string | undefined {
  if (!base64Strict.test(text)) {
    const firstPad = text.indexOf('=');
    for (let i = 0; i < text.length; i += 1) {
      const char = text.charAt(i);
      if (char === '=') continue;
      if (!/[A-Za-z0-9+/]/.test(char)) return `the character ${JSON.stringify(char)} at offset ${i} of the data`;
      if (firstPad !== -1 && i > firstPad) return `padding "=" before the end, at offset ${firstPad} of the data`;
    }
    return 'more than two "=" of padding';
  }
  if (text.length % 4 !== 0) return `data of ${text.length} characters, not a multiple of 4 (missing or extra padding)`;
  const pads = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (pads > 0) {
    const last = base64Value(text.charCodeAt(text.length - pads - 1));
    const unusedBits = pads === 2 ? 0x0f : 0x03;
    if ((last & unusedBits) !== 0) return 'non-zero padding bits in the last group';
  }
  return undefined;
}

function base64Value(code: number): number {
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 71;
  if (code >= 48 && code <= 57) return code + 4;
  return code === 43 ? 62 : 63;
}

function parseOssPath(value: unknown, field: string): string {
  if (typeof value === 'string' && value.startsWith('oss://') && value.length > 'oss://'.length) return value;
  throw invalidParameter(field, ossPathForm, value);
}

function isFileName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    Buffer.byteLength(value, 'utf8') <= maxFileNameBytes &&
    value !== '.' &&
    value !== '..' &&
    !/[/\\\u0000-\u001f\u007f]/.test(value)
  );
}

function parseFileName(value: unknown): string {
  if (isFileName(value)) return value;
  throw invalidParameter(
    'input.file_name',
    `a file name of 1 to ${maxFileNameBytes} bytes without path separators or control characters`,
    value,
  );
}

/** The last segment of an oss path, or `video` when it has none usable as a file name. */
function fileNameOfOssPath(path: string): string {
  const segment = path.slice(path.lastIndexOf('/') + 1);
  return isFileName(segment) ? segment : 'video';
}

/**
 * The parameters, checked as the library checks its options (the API's
 * schemas, its names), the rules that join them included. Their defaults are
 * the seed's; the extensions are kept only where given.
 */
function parseParameters(value: unknown): SnapshotParameters {
  if (value === undefined) return { ...defaultSnapshotParameters };
  const parameters = objectAt(value, 'parameters');
  const given: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(sampleOptions) as [SampleOptionName, OptionEntry][]) {
    if (entry.api !== undefined && parameters[entry.api.field] !== undefined) given[name] = parameters[entry.api.field];
  }
  try {
    resolveSnapshotOptions(given, apiParameterName, 'api');
  } catch (error) {
    if (error instanceof VsnapError && error.code === 'VSNAP_INVALID_OPTION') {
      throw new ApiError('InvalidParameter', error.message, { parameter: error.option, cause: error });
    }
    throw error;
  }
  const extensions = Object.fromEntries(apiExtensionNames.filter((name) => given[name] !== undefined).map((name) => [name, given[name]]));
  return {
    interval: (given.interval as number | undefined) ?? defaultSnapshotParameters.interval,
    format: (given.format as ImageFormat | undefined) ?? defaultSnapshotParameters.format,
    mode: (given.mode as SamplingMode | undefined) ?? defaultSnapshotParameters.mode,
    ...(Object.keys(extensions).length > 0 ? { extensions: extensions as SnapshotExtensions } : {}),
  };
}

/** A sprite's sheets are files: base64 output has nowhere to put them. */
function spriteOutput(parameters: SnapshotParameters, output: SnapshotDestination): SnapshotDestination {
  const sprite = parameters.extensions?.sprite;
  if (sprite !== undefined && output.type === 'base64') {
    throw invalidParameter('parameters.sprite', 'no value when output.type is "base64" (sprite sheets are written to oss)', sprite);
  }
  return output;
}

function parseOutput(value: unknown, kind: 'async'): OssDestination;
function parseOutput(value: unknown, kind: 'sync'): SnapshotDestination;
function parseOutput(value: unknown, kind: SnapshotKind): SnapshotDestination {
  const output = objectAt(value, 'output');
  const type = parseChoice(output.type, 'output.type', ['base64', 'oss'], 'oss');
  if (type === 'oss') return { type, path: parseOssPath(output.oss, 'output.oss') };
  if (kind === 'async') {
    throw invalidParameter('output.type', '"oss" (base64 output is available for sync calls only)', type);
  }
  if (output.oss !== undefined) {
    throw invalidParameter('output.oss', 'no value when output.type is "base64"', output.oss);
  }
  return { type };
}

function parseChoice<T extends string>(value: unknown, field: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw invalidParameter(field, `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
}

/** The own enumerable fields of a JSON object; arrays, null and class instances are refused. */
function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value);
    // A prototype-free copy: a key absent from the body never reads an inherited property.
    if (proto === Object.prototype || proto === null) return Object.assign(Object.create(null), value);
  }
  throw invalidParameter(field, 'a JSON object', value);
}
