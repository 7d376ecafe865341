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
import { invalidOption, unknownOption } from './errors.js';
import { resolveLimits, type Limits } from './limits.js';

export type ImageFormat = 'jpg' | 'png';
export type SamplingMode = 'exact' | 'keyframe';

/**
 * A path to a video file; an http(s) URL, read by range (an MP4's index,
 * then only the packets needed) rather than downloaded; or the bytes of a
 * whole video.
 */
export type SnapshotInput = string | { url: string } | Uint8Array;

export interface SnapshotOptions {
  /** Seconds between targets, from 0.001 to 1e9. Default 1. */
  interval?: number;
  /** Default 'jpg'. */
  format?: ImageFormat;
  /** 'exact': the frame shown at each target; 'keyframe': the nearest keyframe. Default 'exact'. */
  mode?: SamplingMode;
  /** JPEG quality, integer 1..100, used when format is 'jpg'. Default 80. */
  quality?: number;
  /** PNG zlib compression level, integer 0..9, used when format is 'png'. Default 3. */
  compression?: number;
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
  interval: number;
  format: ImageFormat;
  mode: SamplingMode;
  quality: number;
  compression: number;
  signal: AbortSignal | undefined;
  /** undefined: the loader's default ($VSNAP_BACKEND, else 'auto'). */
  backend: BackendChoice | undefined;
  limits: Limits;
  encoder: EncoderChoice;
}

export const defaultSnapshotOptions: Readonly<Omit<ResolvedSnapshotOptions, 'signal' | 'backend' | 'limits'>> = Object.freeze({
  interval: 1,
  format: 'jpg',
  mode: 'exact',
  quality: 80,
  compression: 3,
  encoder: 'auto',
});

const optionKeys: readonly (keyof SnapshotOptions)[] = [
  'interval',
  'format',
  'mode',
  'quality',
  'compression',
  'signal',
  'backend',
  'limits',
  'encoder',
];

export type OptionNamer = (key: string) => string;

const asIs: OptionNamer = (key) => key;

/** Validates `options` (undefined means all defaults) and fills in the defaults. */
export function resolveSnapshotOptions(options: unknown, nameOf: OptionNamer = asIs): ResolvedSnapshotOptions {
  if (options === undefined) {
    return { ...defaultSnapshotOptions, signal: undefined, backend: undefined, limits: resolveLimits(undefined, 'limits') };
  }
  if (!isPlainObject(options)) throw invalidOption('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!(optionKeys as readonly string[]).includes(key)) {
      throw unknownOption(nameOf(key), optionKeys.map(nameOf));
    }
  }
  const given = options as Record<string, unknown>;
  return {
    interval: checkInterval(given.interval, nameOf('interval')),
    format: checkChoice(given.format, nameOf('format'), ['jpg', 'png'], defaultSnapshotOptions.format),
    mode: checkChoice(given.mode, nameOf('mode'), ['exact', 'keyframe'], defaultSnapshotOptions.mode),
    quality: checkInteger(given.quality, nameOf('quality'), 1, 100, defaultSnapshotOptions.quality),
    compression: checkInteger(given.compression, nameOf('compression'), 0, 9, defaultSnapshotOptions.compression),
    signal: checkSignal(given.signal, nameOf('signal')),
    backend: checkBackend(given.backend, nameOf('backend')),
    limits: resolveLimits(given.limits, nameOf('limits')),
    encoder: checkEncoder(given.encoder, given.format, nameOf('encoder')),
  };
}

/** The native encoder writes JPEG only; with format 'png' it is refused by name rather than replaced. */
function checkEncoder(value: unknown, format: unknown, name: string): EncoderChoice {
  const encoder = checkChoice(value, name, encoderChoices, defaultSnapshotOptions.encoder);
  if (encoder === 'native' && format === 'png') {
    throw invalidOption(name, "'auto', 'workers' or 'inline' with format 'png' (the native encoder writes JPEG only)", value);
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

/**
 * Intervals vsnap plans: frame times are kept to the millisecond, so a finer
 * interval only repeats frames; a far coarser one is a typo (and past
 * ~2^31 s, or below ~2^-32 s, FFmpeg's rational of it degenerates).
 */
export const intervalRange = { min: 0.001, max: 1e9 } as const;

function checkInterval(value: unknown, name: string): number {
  if (value === undefined) return defaultSnapshotOptions.interval;
  if (typeof value === 'number' && value >= intervalRange.min && value <= intervalRange.max) return value;
  throw invalidOption(name, intervalExpects, value);
}

export const intervalExpects = `a number of seconds from ${intervalRange.min} to ${intervalRange.max}`;

function checkInteger(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw invalidOption(name, `an integer between ${min} and ${max}`, value);
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
