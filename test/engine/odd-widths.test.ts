/**
 * Frames whose width is not a multiple of 16 (854 × 480 is 16:9 480p; 1080
 * wide is a phone's portrait video), in both formats, on both backends,
 * through the CLI: a child process, so that a heap overrun shows as a crash
 * of the extraction and not as a dead test worker. Every column of every
 * image is the reference decode's, the rightmost included.
 *
 * Debian's swscale writes RGB24 8 or 16 pixels at a time; into rows packed
 * at width × 3 bytes it left the last width % 8 pixels of each row as they
 * were (854 wide: six columns of garbage) and, at a width of 72, wrote 24
 * bytes past the frame (glibc aborted in free). RgbBands in
 * native/core/Decoder.h pads the rows it converts into.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixedGop, testsrc2, x264 } from '../helpers/fixtures.js';
import { fixturePath, type MadeFile } from '../helpers/made-file.js';
import { decodeImage, probeVideo, referenceFrames, type ProbedVideo } from '../helpers/oracle.js';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'vsnap');

const h264 = (name: string, width: number, height: number, remux?: MadeFile['remux']): MadeFile => ({
  name,
  ext: 'mp4',
  encoder: 'libx264',
  encode: [...testsrc2(width, height, 10, 2), ...x264(), '-bf', '0', ...fixedGop(10), '-pix_fmt', 'yuv420p'],
  remux,
});

const videos: readonly MadeFile[] = [
  h264('odd-width-72x48', 72, 48),
  h264('odd-width-854x480', 854, 480),
  h264('odd-width-1080x192', 1080, 192),
  // Turned for display: the native backend converts the whole frame, then turns it.
  h264('odd-width-72x48-rotate-cw90', 72, 48, { input: [], output: ['-metadata:s:v:0', 'rotate=270'] }),
  {
    name: 'odd-width-72x48-mjpeg',
    ext: 'avi',
    encoder: 'mjpeg',
    encode: [...testsrc2(72, 48, 10, 2), '-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj420p'],
  },
];

// The PNG is the converted frame itself; the wasm backend's FFmpeg rounds
// a few values differently from the CLI's.
const maxPngDifference = 3;
// Against the reference encoded by sharp with the same settings, no column
// of a JPEG differs by more than 2.4 levels of luma on average (wasm; the
// native backend's match exactly); the columns swscale left unwritten
// differed by 175.
const maxJpegColumnError = 6;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vsnap-odd-widths-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Extracted {
  data: { frame_index: number; path: string }[];
}

describe.each(videos)('$name', (file) => {
  let video: ProbedVideo;
  beforeAll(async () => {
    video = await probeVideo(await fixturePath(file));
  });

  describe.each(['native', 'wasm'])('on the %s backend', (backend) => {
    it.each(['png', 'jpg'] as const)('gives every column of the frame as %s', async (format) => {
      const out = join(scratch, `${file.name}-${backend}-${format}`);
      const { stdout } = await execFileAsync(
        process.execPath,
        [bin, 'extract', video.path, '--out', out, '--interval', '1', '--format', format, '--quality', '95', '--backend', backend, '--json'],
        { cwd: root, encoding: 'utf8' },
      );
      const extracted = JSON.parse(stdout) as Extracted;
      expect(extracted.data.map((d) => d.frame_index)).toEqual([0, 10]);
      const references = await referenceFrames(video, extracted.data.map((d) => d.frame_index));
      for (const output of extracted.data) {
        const image = await decodeImage(await readFile(resolve(root, output.path)));
        expect({ width: image.width, height: image.height }).toEqual({ width: video.displayWidth, height: video.displayHeight });
        const reference = references.get(output.frame_index)!;
        const where = `frame ${output.frame_index}`;
        if (format === 'png') {
          expect(maxDifference(image.pixels, reference), where).toBeLessThanOrEqual(maxPngDifference);
        } else {
          // Against the reference as sharp encodes it with the same settings, so that only the input differs.
          const encoded = await decodeImage(await sharp(reference, { raw: { width: image.width, height: image.height, channels: 3 } })
            .jpeg({ quality: 95, optimiseCoding: false })
            .toBuffer());
          const worst = worstColumn(image.pixels, encoded.pixels, image.width);
          expect(worst.error, `${where}, column ${worst.column}`).toBeLessThanOrEqual(maxJpegColumnError);
        }
      }
    });
  });
});

function maxDifference(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** The column whose BT.601 luma differs most, on average, between two packed RGB24 images. */
function worstColumn(a: Buffer, b: Buffer, width: number): { column: number; error: number } {
  expect(a.length).toBe(b.length);
  const height = a.length / 3 / width;
  const luma = (rgb: Buffer, i: number) => 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
  let worst = { column: 0, error: 0 };
  for (let x = 0; x < width; x++) {
    let sum = 0;
    for (let y = 0; y < height; y++) {
      const i = (y * width + x) * 3;
      sum += Math.abs(luma(a, i) - luma(b, i));
    }
    if (sum / height > worst.error) worst = { column: x, error: sum / height };
  }
  return worst;
}
