/**
 * Validation of everything a caller passes in, done once in TypeScript before
 * anything reaches a backend. Each option has one check of one shape: if
 * defined, check type and range, else take the default. A failed check throws
 * VSNAP_INVALID_OPTION with `Expected <what> for <name> but received <value>`
 * and `option` set to the name. Unknown option keys are rejected by name.
 *
 * Front ends that spell options differently (the CLI's `--interval`) pass
 * `nameOf` so that messages use their spelling.
 */

import { encoderChoices, type EncoderChoice } from './encode/encoders.js';
import { backendChoices, type BackendChoice, type BackendInput } from './engine/backend.js';
import type { SizeOptions } from './engine/geometry.js';
import type { OptionNamer, Sampling } from './engine/sampling.js';
import { invalidOption, unknownOption } from './errors.js';
import { resolveLimits, type Limits } from './limits.js';
import {
  checkOption,
  defaultOf,
  sampleOptions,
  type Fit,
  type ImageFormat,
  type OptionFace,
  type SampleOptionName,
  type SampleOptionValues,
  type SamplingMode,
  type Tonemap,
} from './option-schema.js';

export { intervalRange } from './option-schema.js';
export type { Fit, ImageFormat, SamplingMode, Tonemap } from './option-schema.js';
export type { OptionNamer } from './engine/sampling.js';

/**
 * A path to a video file; an http(s) URL, read by range (an MP4's index,
 * then only the packets needed) rather than downloaded; or the bytes of a
 * whole video.
 */
export type SnapshotInput = string | { url: string } | Uint8Array;

/**
 * The snapshot options: the ones every face shares (option-schema.ts: which
 * times, which frames, what images), and the library's own.
 */
export interface SnapshotOptions extends SampleOptionValues {
  /** Aborting it stops the run, which then rejects with VSNAP_ABORTED. */
  signal?: AbortSignal;
  /** 'native', 'wasm', or 'auto' (native when it loads, else wasm). Default $VSNAP_BACKEND, else 'auto'. */
  backend?: BackendChoice;
  /** Any of maxDuration (s), maxPixels, maxTargets; each defaults to its variable, else to defaultLimits (limits.ts). */
  limits?: Partial<Limits>;
  /**
   * Where images are encoded. 'native': JPEGs by the native addon
   * (libjpeg-turbo, on Node's thread pool beside the decode lanes; nothing
   * to load or start), for JPEG on the native backend only. 'workers': sharp
   * on vsnap's pool of worker threads, started on first use and kept for
   * later runs. 'inline': sharp loaded on the calling thread, with no
   * threads to start, for a process that makes one run. 'auto': 'native'
   * where it applies (JPEG from the native backend), else 'workers'. The
   * native encoder and sharp write the same pixels. Default 'auto'.
   */
  encoder?: EncoderChoice;
}

export interface ProbeOptions {
  /** As SnapshotOptions.backend. */
  backend?: BackendChoice;
}

export interface ResolvedSnapshotOptions {
  sampling: Sampling;
  mode: SamplingMode;
  format: ImageFormat;
  quality: number;
  compression: number;
  size: SizeOptions;
  sprite: { columns: number; rows: number } | undefined;
  tonemap: Tonemap;
  signal: AbortSignal | undefined;
  /** undefined: the loader's default ($VSNAP_BACKEND, else 'auto'). */
  backend: BackendChoice | undefined;
  limits: Limits;
  encoder: EncoderChoice;
  /** How the face that gave the options names them, for errors found once the video is open. */
  nameOf: OptionNamer;
}

export const defaultSnapshotOptions = Object.freeze({
  interval: 1,
  format: defaultOf('format') as ImageFormat,
  mode: defaultOf('mode') as SamplingMode,
  quality: defaultOf('quality') as number,
  compression: defaultOf('compression') as number,
  fit: defaultOf('fit') as Fit,
  tonemap: defaultOf('tonemap') as Tonemap,
  encoder: 'auto' as EncoderChoice,
});

const libraryKeys = ['signal', 'backend', 'limits', 'encoder'] as const;
const optionKeys: readonly string[] = [...Object.keys(sampleOptions), ...libraryKeys];

const asIs: OptionNamer = (key) => key;

/**
 * Validates `options` (undefined means all defaults) and fills in the
 * defaults. The CLI and the API pass their options in the library's keys,
 * with their `face`, whose schemas apply (option-schema.ts), and `nameOf`,
 * which spells each key as they do.
 */
export function resolveSnapshotOptions(options: unknown, nameOf: OptionNamer = asIs, face: OptionFace = 'library'): ResolvedSnapshotOptions {
  if (options !== undefined && !isPlainObject(options)) throw invalidOption('options', 'an object', options);
  const given = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!optionKeys.includes(key)) throw unknownOption(nameOf(key), optionKeys.map(nameOf));
  }
  const value = <K extends SampleOptionName>(name: K) => checkOption(name, given[name], nameOf(name), face);
  const format = value('format') ?? defaultSnapshotOptions.format;
  const sprite = value('sprite');
  if (sprite !== undefined && format === 'raw') throw invalidOption(nameOf('sprite'), `no value when ${nameOf('format')} is raw`, sprite);
  return {
    sampling: resolveSampling(value, nameOf),
    mode: value('mode') ?? defaultSnapshotOptions.mode,
    format,
    quality: value('quality') ?? defaultSnapshotOptions.quality,
    compression: value('compression') ?? defaultSnapshotOptions.compression,
    size: { width: value('width'), height: value('height'), fit: value('fit') ?? defaultSnapshotOptions.fit },
    sprite,
    tonemap: value('tonemap') ?? defaultSnapshotOptions.tonemap,
    signal: checkSignal(given.signal, nameOf('signal')),
    backend: checkBackend(given.backend, nameOf('backend')),
    limits: resolveLimits(given.limits, nameOf('limits')),
    encoder: checkEncoder(given.encoder, format, nameOf('encoder')),
    nameOf,
  };
}

/**
 * Which times the run asks for: chosen `times`, or a `count`, or an
 * `interval` (the default), in a window from `start` to `end`. Chosen times
 * take no interval, count or window; a count takes no interval.
 */
function resolveSampling(
  value: <K extends SampleOptionName>(name: K) => SampleOptionValues[K],
  nameOf: OptionNamer,
): Sampling {
  const [interval, count, times, start, end] = [value('interval'), value('count'), value('times'), value('start'), value('end')];
  if (times !== undefined) {
    const other = (['interval', 'count', 'start', 'end'] as const).find((name) => value(name) !== undefined);
    if (other !== undefined) {
      throw invalidOption(nameOf('times'), `no value when ${nameOf(other)} is given (chosen times need no interval, count or window)`, times);
    }
    return { kind: 'times', times };
  }
  if (count !== undefined && interval !== undefined) {
    throw invalidOption(nameOf('count'), `no value when ${nameOf('interval')} is given (a count places targets of its own)`, count);
  }
  if (end !== undefined && end <= (start ?? 0)) {
    throw invalidOption(nameOf('end'), `a time after ${nameOf('start')} (${start ?? 0} s)`, end);
  }
  return count !== undefined
    ? { kind: 'count', count, start: start ?? 0, end }
    : { kind: 'interval', interval: interval ?? defaultSnapshotOptions.interval, start: start ?? 0, end };
}

/** The native encoder writes JPEG only; with another format it is refused by name rather than replaced. */
function checkEncoder(value: unknown, format: ImageFormat, name: string): EncoderChoice {
  const encoder = checkChoice(value, name, encoderChoices, defaultSnapshotOptions.encoder);
  if (encoder === 'native' && format !== 'jpg') {
    throw invalidOption(name, `'auto', 'workers' or 'inline' with format '${format}' (the native encoder writes JPEG only)`, value);
  }
  return encoder;
}

/** Validates probe()'s options: only `backend`. */
export function resolveProbeOptions(options: unknown, nameOf: OptionNamer = asIs): ProbeOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw invalidOption('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (key !== 'backend') throw unknownOption(nameOf(key), [nameOf('backend')]);
  }
  return { backend: checkBackend((options as ProbeOptions).backend, nameOf('backend')) };
}

function checkBackend(value: unknown, name: string): BackendChoice | undefined {
  return value === undefined ? undefined : checkChoice(value, name, backendChoices, 'auto');
}

/** Validates the input and gives the shape a backend takes. */
export function resolveInput(input: unknown): BackendInput {
  if (typeof input === 'string' && input.length > 0) return { path: input };
  if (input instanceof Uint8Array && input.byteLength > 0) return { data: input };
  if (isPlainObject(input) && Object.keys(input).length === 1 && 'url' in input) {
    return { url: checkUrl(input.url, 'input.url') };
  }
  throw invalidOption('input', 'a non-empty file path string, { url } or a non-empty Uint8Array', input);
}

/**
 * An absolute http: or https: URL. Credentials in the URL are refused: a
 * presigned URL carries its signature in the query, and nothing else should
 * reach FFmpeg's http protocol. A refused URL is shown without its
 * credentials or query.
 */
function checkUrl(value: unknown, name: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    throw invalidOption(name, 'an http or https URL without user:password', value);
  }
  const url = new URL(value);
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '') {
    return value;
  }
  throw invalidOption(name, 'an http or https URL without user:password', `${url.protocol}//${url.host}${url.pathname}`);
}

/** Validates a directory argument (a non-empty path string). */
export function resolveDirectory(dir: unknown, name: string): string {
  if (typeof dir === 'string' && dir.length > 0) return dir;
  throw invalidOption(name, 'a non-empty directory path string', dir);
}

function checkChoice<T extends string>(value: unknown, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw invalidOption(name, `one of ${choices.join(', ')}`, value);
}

function checkSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw invalidOption(name, 'an AbortSignal', value);
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
