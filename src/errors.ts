/**
 * The one error type of vsnap. Every error vsnap raises on purpose is a
 * VsnapError with a stable `code` (one of `errorCodes`); option errors also
 * name the offending option in `option`. Messages are one line, so the CLI
 * and the service can print them as they are.
 *
 * Each error has one factory here; nothing else constructs a VsnapError.
 * Errors thrown by the native module carry a `code` too, and `fromNative`
 * turns them into VsnapErrors keeping both code and message.
 */

import type { NativeErrorCode } from './engine/binding.js';

export const errorCodes = [
  'VSNAP_INVALID_OPTION',
  'VSNAP_BACKEND_UNAVAILABLE',
  'VSNAP_INPUT_NOT_FOUND',
  'VSNAP_INPUT_CHANGED',
  'VSNAP_INPUT_TOO_LARGE',
  'VSNAP_UNSUPPORTED_INPUT',
  'VSNAP_NO_VIDEO_STREAM',
  'VSNAP_CORRUPT_INPUT',
  'VSNAP_LIMIT_EXCEEDED',
  'VSNAP_ABORTED',
  'VSNAP_INTERNAL',
] as const;

export type VsnapErrorCode = (typeof errorCodes)[number];

export class VsnapError extends Error {
  readonly code: VsnapErrorCode;
  /** The option at fault; set for VSNAP_INVALID_OPTION only. */
  readonly option: string | undefined;

  constructor(code: VsnapErrorCode, message: string, details: { option?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'VsnapError';
    this.code = code;
    this.option = details.option;
  }
}

/** `Expected <expected> for <option> but received <received>`. */
export function invalidOption(option: string, expected: string, received: unknown): VsnapError {
  return new VsnapError(
    'VSNAP_INVALID_OPTION',
    `Expected ${expected} for ${option} but received ${describeValue(received)}`,
    { option },
  );
}

/** An option key that does not exist; `option` is the key. */
export function unknownOption(option: string, known: readonly string[]): VsnapError {
  return new VsnapError(
    'VSNAP_INVALID_OPTION',
    `Expected one of ${known.join(', ')} for option name but received ${describeValue(option)}`,
    { option },
  );
}

/** A SnapshotRun is one pass over its input; a second iteration is refused. */
export function runAlreadyIterated(): VsnapError {
  return new VsnapError(
    'VSNAP_INVALID_OPTION',
    'A snapshot run can be iterated only once; call snapshot() again for another pass',
  );
}

/** One failed attempt to load a backend: what was tried and why it failed. */
export interface LoadAttempt {
  candidate: string;
  reason: string;
}

export function backendUnavailable(what: string, attempts: readonly LoadAttempt[], hint: string): VsnapError {
  const tried = attempts.map((a) => `${a.candidate}: ${oneLine(a.reason)}`).join('; ');
  return new VsnapError('VSNAP_BACKEND_UNAVAILABLE', `${what} could not be loaded (tried ${tried}). ${hint}`);
}

export function inputNotFound(message: string, cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_INPUT_NOT_FOUND', message, { cause });
}

/** A remote input (a URL) changed between two of the reads of one extraction: its size or validator differ. */
export function inputChanged(message: string, cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_INPUT_CHANGED', message, { cause });
}

/** An input bigger than the backend in use can hold; refused before any work. */
export function inputTooLarge(message: string): VsnapError {
  return new VsnapError('VSNAP_INPUT_TOO_LARGE', message);
}

export function unsupportedInput(message: string, cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_UNSUPPORTED_INPUT', message, { cause });
}

export function noVideoStream(message: string, cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_NO_VIDEO_STREAM', message, { cause });
}

export function corruptInput(message: string, cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_CORRUPT_INPUT', message, { cause });
}

/** A video over one of the run's limits (limits.ts); refused before it is decoded. */
export function limitExceeded(message: string, cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_LIMIT_EXCEEDED', message, { cause });
}

export function aborted(message = 'The snapshot run was aborted', cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_ABORTED', message, { cause });
}

export function internal(message: string, cause?: unknown): VsnapError {
  return new VsnapError('VSNAP_INTERNAL', message, { cause });
}

/**
 * Turns an error thrown or rejected by a backend module into a VsnapError,
 * keeping its code and message. An error without a known code is a bug on
 * the native side, so it becomes VSNAP_INTERNAL with the original as cause.
 */
export function fromNative(error: unknown): VsnapError {
  if (error instanceof VsnapError) return error;
  const message = error instanceof Error ? oneLine(error.message) : oneLine(String(error));
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  switch (code as NativeErrorCode | undefined) {
    case 'VSNAP_INPUT_NOT_FOUND':
      return inputNotFound(message, error);
    case 'VSNAP_INPUT_CHANGED':
      return inputChanged(message, error);
    case 'VSNAP_UNSUPPORTED_INPUT':
      return unsupportedInput(message, error);
    case 'VSNAP_NO_VIDEO_STREAM':
      return noVideoStream(message, error);
    case 'VSNAP_CORRUPT_INPUT':
      return corruptInput(message, error);
    case 'VSNAP_LIMIT_EXCEEDED':
      return limitExceeded(message, error);
    case 'VSNAP_ABORTED':
      return aborted(message, error);
    case 'VSNAP_INTERNAL':
      return internal(message, error);
    default:
      return internal(`Unexpected error from the decode backend: ${message}`, error);
  }
}

/** A short, one-line rendering of any value, for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === 'string' && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
