/**
 * One raw RGB24 frame in, one JPEG, PNG, WebP or upright raw image out, with sharp. Loading this
 * module loads sharp (through require(): its CommonJS build loads in about
 * half the time of its ES modules, which Node's ESM loader translates one by
 * one) and sets libvips, which is one per process whichever thread loads it:
 * - one thread per image: encodes run side by side instead (on Node's thread
 *   pool, inline or from the encode workers), one per core;
 * - no operation cache: every frame is new input that is encoded once, so
 *   the cache could only hold on to frames that are done with.
 *
 * JPEGs use the standard Huffman tables, as Pillow and OpenCV write by
 * default, rather than tables optimised per image: the pixels decoded are
 * the same (only the entropy coding differs), the files 6-25% larger (13% on
 * a 1080p frame at quality 80) and the encode about 3 times faster (8 ms
 * against 25 ms for that frame), which is most of what a snapshot costs.
 */

import { createRequire } from 'node:module';

import type { EncodeTask } from './task.js';

const sharp = createRequire(import.meta.url)('sharp') as typeof import('sharp').default;

sharp.concurrency(1);
sharp.cache(false);

/** Reads `task.frame` in place (no copy); it must not change until the promise settles. */
export async function encodeImage(task: EncodeTask): Promise<Buffer> {
  let image = sharp(Buffer.from(task.frame), {
    raw: { width: task.width, height: task.height, channels: 3 },
  });
  if (task.rotation !== 0) image = image.rotate(task.rotation);
  switch (task.format) {
    case 'jpg':
      return image.jpeg({ quality: task.quality, optimiseCoding: false }).toBuffer();
    case 'png':
      return image.png({ compressionLevel: task.compression }).toBuffer();
    case 'webp':
      return image.webp({ quality: task.quality }).toBuffer();
    case 'raw':
      return image.raw().toBuffer();
  }
}
