/**
 * Where a run encodes its frames (SnapshotOptions.encoder):
 * - 'workers': the shared pool of encode worker threads (pool.ts), started
 *   on first use and kept, each frame moved into a worker;
 * - 'inline': sharp on the calling thread (inline.ts), nothing to start but
 *   sharp itself.
 * Either way sharp's work runs on Node's thread pool, one encode per thread.
 */

import { encodeInline, startInlineEncoder } from './inline.js';
import { encodeFrame, startEncodePool } from './pool.js';
import type { EncodeTask } from './task.js';

export const encoderChoices = ['workers', 'inline'] as const;

export type EncoderChoice = (typeof encoderChoices)[number];

export interface Encoder {
  /** Gets ready now, so that start-up overlaps the decoding the run has just started. */
  start(): void;
  /** Takes the frame (the caller must not touch it again); rejects with VSNAP_INTERNAL. */
  encode(task: EncodeTask): Promise<Buffer>;
}

export const encoders: Readonly<Record<EncoderChoice, Encoder>> = {
  workers: { start: startEncodePool, encode: encodeFrame },
  inline: { start: startInlineEncoder, encode: encodeInline },
};
