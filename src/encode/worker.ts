/**
 * An encode worker (a piscina worker thread): one raw RGB24 frame in, one
 * JPEG or PNG out. The pool gives each worker thread one task at a time, so
 * libvips is held to one thread per worker and the pool's size alone sets
 * how many cores encoding uses.
 *
 * Start-up is on the critical path of a short extraction, so this module
 * loads as little as it can:
 * - sharp through require(): its CommonJS build loads in about half the time
 *   of its ES modules, which Node's ESM loader translates one by one;
 * - nothing of piscina: its `move()` would load the whole pool library into
 *   every worker (about 30 ms) to save one copy of the encoded image, which
 *   is a fraction of a millisecond.
 */

import { createRequire } from 'node:module';

import type { EncodeTask } from './task.js';

const sharp = createRequire(import.meta.url)('sharp') as typeof import('sharp').default;

sharp.concurrency(1);
// Every frame is new input that is encoded once, so libvips' operation cache
// could only hold on to frames that are done with.
sharp.cache(false);

export default async function encode(task: EncodeTask): Promise<Uint8Array> {
  let image = sharp(Buffer.from(task.frame), {
    raw: { width: task.width, height: task.height, channels: 3 },
  });
  if (task.rotation !== 0) image = image.rotate(task.rotation);
  image =
    task.format === 'jpg'
      ? image.jpeg({ quality: task.quality })
      : image.png({ compressionLevel: task.compression });
  // Posted back by copy: sharp's buffer is external memory, which cannot be
  // transferred.
  return image.toBuffer();
}
