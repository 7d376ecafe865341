/**
 * An encode worker (a piscina worker thread): one raw RGB24 frame in, one
 * JPEG or PNG out. The pool gives each worker thread one task at a time, so
 * libvips is held to one thread per worker and the pool's size alone sets
 * how many cores encoding uses.
 */

import { move } from 'piscina';
import sharp from 'sharp';

import type { EncodeTask } from './task.js';

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
  const encoded = await image.toBuffer();
  // sharp hands back external memory, which cannot be detached: posting it
  // would copy it anyway (or, on newer Node, refuse it in a transfer list).
  // So copy it once here into memory that can move, and move that.
  const bytes = new Uint8Array(encoded.byteLength);
  bytes.set(encoded);
  return move(bytes) as Uint8Array;
}
