/**
 * Errors of the storage floor. `VsnapErrorCode` in src/errors.ts is a closed
 * list and storage must not widen it, so storage has its own small error
 * type with stable codes; the service maps them to its error envelope
 * (VSNAP_INVALID_STORAGE_PATH → InvalidParameter, VSNAP_STORAGE_NOT_FOUND →
 * the documented not-found answer). Messages are one line and name the URL
 * and what is wrong with it. Each error has one factory here.
 */

import { describeValue } from '../errors.js';

export const storageErrorCodes = ['VSNAP_INVALID_STORAGE_PATH', 'VSNAP_STORAGE_NOT_FOUND'] as const;

export type StorageErrorCode = (typeof storageErrorCodes)[number];

export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StorageError';
    this.code = code;
  }
}

/** `Invalid storage path <url>: <reason>`. */
export function invalidStoragePath(url: unknown, reason: string): StorageError {
  return new StorageError('VSNAP_INVALID_STORAGE_PATH', `Invalid storage path ${describeValue(url)}: ${reason}`);
}

export function storageNotFound(url: string, cause?: unknown): StorageError {
  return new StorageError('VSNAP_STORAGE_NOT_FOUND', `No object at ${JSON.stringify(url)}`, cause);
}
