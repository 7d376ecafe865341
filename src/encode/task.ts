/**
 * The message between the pool and an encode worker. The raw frame is moved
 * (transferred) into the worker, never copied; the encoded image, a few
 * percent of its size, comes back as a copy (worker.ts says why).
 */

import { internal, type VsnapError } from '../errors.js';
import type { ImageFormat } from '../options.js';

export interface EncodeTask {
  /** Packed RGB24, width * height * 3 bytes, before rotation. */
  frame: ArrayBuffer;
  width: number;
  height: number;
  /** Clockwise degrees: 0, 90, 180 or 270. */
  rotation: number;
  /** 'raw': the upright pixels, packed RGB24. */
  format: ImageFormat;
  /** Quality 1..100, used for 'jpg' and 'webp'. */
  quality: number;
  /** PNG compression level 0..9, used for 'png'. */
  compression: number;
}

/** How an encode failed, the same whichever encoder ran it: VSNAP_INTERNAL. */
export function encodeFailure(task: EncodeTask, error: unknown): VsnapError {
  const message = error instanceof Error ? error.message : String(error);
  return internal(`Could not encode a ${task.width}x${task.height} frame as ${task.format}: ${message}`, error);
}
