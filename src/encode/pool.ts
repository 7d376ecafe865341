/**
 * The shared pool of encode workers (piscina), created on first use. It has
 * max(1, availableParallelism) threads, all started with the pool and kept
 * warm; an idle worker does not keep the process alive. `encodeFrame` moves
 * the raw frame into a worker (the caller's ArrayBuffer is detached, never
 * copied) and resolves with the encoded bytes, or rejects with VSNAP_INTERNAL.
 *
 * Encodes take no abort signal on purpose: piscina can stop a running task
 * only by terminating its worker, and restarting a worker (loading sharp)
 * costs more than the few milliseconds left of an encode. A run that stops
 * drops the results of its encodes still in flight instead.
 */

import { availableParallelism } from 'node:os';

import type { Piscina } from 'piscina';

import { loadPiscina } from '../piscina.js';
import { workerFileUrl } from '../worker-file.js';
import { encodeFailure, type EncodeTask } from './task.js';

let pool: Piscina<EncodeTask, Uint8Array> | undefined;

export function encodeThreads(): number {
  return Math.max(1, availableParallelism());
}

export async function encodeFrame(task: EncodeTask): Promise<Buffer> {
  let bytes: Uint8Array;
  try {
    bytes = await sharedPool().run(task, { transferList: [task.frame] });
  } catch (error) {
    throw encodeFailure(task, error);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Starts the workers now, so that their start-up (loading sharp) overlaps
 * the caller's own work instead of delaying the first encode.
 */
export function startEncodePool(): void {
  sharedPool();
}

/** Stops the workers; the next encode starts a new pool. */
export async function shutdownEncodePool(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.destroy();
}

function sharedPool(): Piscina<EncodeTask, Uint8Array> {
  if (pool === undefined) {
    const threads = encodeThreads();
    const Pool = loadPiscina();
    pool = new Pool<EncodeTask, Uint8Array>({
      filename: workerFileUrl(import.meta.url, 'src/encode', 'worker.js', 'The vsnap encode worker'),
      name: 'default',
      minThreads: threads,
      maxThreads: threads,
    });
  }
  return pool;
}
