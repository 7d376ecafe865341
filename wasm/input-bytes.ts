/**
 * Brings a backend input whole into memory for the wasm backend, whose core
 * reads nothing but memory: a file is read, a URL downloaded, a buffer
 * copied, each once, into a SharedArrayBuffer that every worker thread reads
 * in place.
 *
 * The limit is the largest typed array (buffer.constants.MAX_LENGTH, 4 GiB on
 * Node 20): the core's filesystem reads a file held as one. A larger input is
 * refused with VSNAP_INPUT_TOO_LARGE before any of it is read: a file by its
 * size, a download by its Content-Length or, without one, as soon as it
 * passes the limit.
 */

import { constants } from 'node:buffer';
import { open } from 'node:fs/promises';

import { inputNotFound, inputTooLarge } from '../src/errors.js';
import type { BackendInput } from '../src/engine/backend.js';

/** The largest input the wasm backend holds, in bytes. */
export const maxWasmInputBytes = constants.MAX_LENGTH;

/** The input's bytes, in shared memory. `signal` stops a read or download in progress. */
export async function loadInputBytes(input: BackendInput, signal?: AbortSignal): Promise<Uint8Array> {
  if ('data' in input) {
    const bytes = sharedBytes(input.data.byteLength, '<buffer>');
    bytes.set(input.data);
    return bytes;
  }
  if ('path' in input) return readFileBytes(input.path);
  return download(input.url, signal);
}

function checkSize(length: number, name: string): void {
  if (length <= maxWasmInputBytes) return;
  throw inputTooLarge(
    `${name} is ${length} bytes, more than the ${maxWasmInputBytes} bytes the wasm backend can hold; ` +
      'use the native backend for inputs this large',
  );
}

function sharedBytes(length: number, name: string): Uint8Array {
  checkSize(length, name);
  return new Uint8Array(new SharedArrayBuffer(length));
}

async function readFileBytes(path: string): Promise<Uint8Array> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw inputNotFound(`${path} could not be read: ${(error as Error).message}`, error);
  }
  try {
    const { size } = await file.stat();
    const bytes = sharedBytes(size, path);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await file.read(bytes, filled, size - filled, filled);
      // The file shrank while it was read: keep what there is, the probe will call it truncated.
      if (bytesRead === 0) return bytes.subarray(0, filled);
      filled += bytesRead;
    }
    return bytes;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EISDIR') throw inputNotFound(`${path} could not be read: it is a directory`, error);
    throw error;
  } finally {
    await file.close();
  }
}

/** Scheme, host and path only: the query of a presigned URL is its credential. */
function shownUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

async function download(url: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const name = shownUrl(url);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    if (signal?.aborted === true) throw error;
    throw inputNotFound(`${name} could not be read: ${(error as Error).message}`, error);
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw inputNotFound(`${name} could not be read: HTTP ${response.status} ${response.statusText}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isSafeInteger(declared)) {
    if (declared > maxWasmInputBytes) await response.body.cancel();
    checkSize(declared, name);
    const bytes = sharedBytes(declared, name);
    let filled = 0;
    for await (const chunk of response.body) {
      const part = chunk as Uint8Array;
      if (filled + part.byteLength > declared) {
        throw inputNotFound(`${name} could not be read: more bytes than its Content-Length of ${declared}`);
      }
      bytes.set(part, filled);
      filled += part.byteLength;
    }
    return bytes.subarray(0, filled);
  }
  // No length declared: collect, then copy into shared memory once the size is known.
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const part = chunk as Uint8Array;
    total += part.byteLength;
    // Leaving the loop by throwing cancels the download.
    checkSize(total, name);
    parts.push(part);
  }
  const bytes = sharedBytes(total, name);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
