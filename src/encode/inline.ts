/**
 * Encoding on the calling thread: sharp-encode.ts loaded into this thread,
 * its encodes running on Node's thread pool like the decode lanes. Nothing
 * to start but sharp itself (about 35 ms, once per process), against a pool
 * of worker threads that each start Node and load sharp: the choice of a
 * process that makes one run, as `vsnap extract` does.
 */

import { encodeFailure, type EncodeTask } from './task.js';

type SharpEncode = typeof import('./sharp-encode.js');

let loading: Promise<SharpEncode> | undefined;

/** Loads sharp now, on this thread, between the caller's awaits (while the lanes decode). */
export function startInlineEncoder(): void {
  if (loading !== undefined) return;
  loading = import('./sharp-encode.js');
  // A failure to load is reported by every encode; this promise only starts it.
  loading.catch(() => undefined);
}

export async function encodeInline(task: EncodeTask): Promise<Buffer> {
  startInlineEncoder();
  try {
    const { encodeImage } = await (loading as Promise<SharpEncode>);
    return await encodeImage(task);
  } catch (error) {
    throw encodeFailure(task, error);
  }
}
