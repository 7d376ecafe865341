/**
 * Where a run encodes its frames (SnapshotOptions.encoder):
 * - 'native': the decode backend's own JPEG encoder (the addon's
 *   libjpeg-turbo): nothing to load or start. The snapshot pipeline has
 *   each lane encode as it decodes (Extractor.nextJpeg), the frame handed
 *   over band by band; `encode` takes a frame held in JavaScript, on Node's
 *   thread pool. JPEG only, native backend only; it writes the pixels sharp
 *   writes.
 * - 'workers': sharp in the shared pool of encode worker threads (pool.ts),
 *   started on first use and kept, each frame moved into a worker;
 * - 'inline': sharp on the calling thread (inline.ts), nothing to start but
 *   sharp itself;
 * - 'auto': 'native' where it applies (JPEG from the native backend), else
 *   'workers'.
 * sharp's work runs on Node's thread pool too, one encode per thread.
 */

import { encodeInline, startInlineEncoder } from './inline.js';
import { encodeFrame, startEncodePool } from './pool.js';
import type { EncodeTask } from './task.js';

export const encoderChoices = ['auto', 'native', 'workers', 'inline'] as const;

export type EncoderChoice = (typeof encoderChoices)[number];

/** The encoder a run uses, once 'auto' is resolved. */
export type EncoderName = Exclude<EncoderChoice, 'auto'>;

export interface Encoder {
  readonly name: EncoderName;
  /** Gets ready now, so that start-up overlaps the decoding the run has just started. */
  start(): void;
  /** Takes the frame (the caller must not touch it again); rejects with VSNAP_INTERNAL. */
  encode(task: EncodeTask): Promise<Buffer>;
}

/** The encoders that run sharp, which writes every format. */
export const sharpEncoders: Readonly<Record<'workers' | 'inline', Encoder>> = {
  workers: { name: 'workers', start: startEncodePool, encode: encodeFrame },
  inline: { name: 'inline', start: startInlineEncoder, encode: encodeInline },
};

const nothingToStart = (): void => {};

/** The 'native' encoder over a backend's JPEG encoder. */
export function nativeEncoder(encodeJpeg: (task: EncodeTask) => Promise<Buffer>): Encoder {
  return { name: 'native', start: nothingToStart, encode: encodeJpeg };
}
