/**
 * The oracle of the size rule: what size an output must have, from the
 * upright picture's size and the size options (sharp's vocabulary), and the
 * image it must resemble: the exact frame, decoded by the ffmpeg CLI
 * (smoothFrames) and resized by sharp with a Lanczos kernel.
 * Independent of src/engine/geometry.ts.
 *
 * The reference frames are converted to RGB with full chroma interpolation
 * (Lanczos): the engine scales its frames' chroma planes with Lanczos, and
 * against the CLI's default conversion (each chroma sample repeated) even a
 * crop at scale 1 differs by 28 dB of RGB PSNR at testsrc2's colour edges.
 * Images are compared on luma (BT.601), as the oracle compares JPEG.
 *
 *   width only, height only   the other side keeps the aspect ratio (rounded, at least 1)
 *   fill, cover, contain      exactly width x height
 *   inside                    the whole picture, as large as fits in width x height
 *   outside                   the whole picture, as small as covers width x height
 */

import sharp from 'sharp';
import { expect } from 'vitest';
import { ffmpeg } from './ffmpeg.js';
import { matchPsnr, type ProbedVideo } from './oracle.js';

export type FitName = 'cover' | 'contain' | 'fill' | 'inside' | 'outside';

export interface SizeSpec {
  width?: number;
  height?: number;
  fit?: FitName;
}

const side = (value: number): number => Math.max(1, Math.round(value));

/** The upright size an output of a `pictureWidth` x `pictureHeight` picture must have. */
export function expectedSize(pictureWidth: number, pictureHeight: number, spec: SizeSpec): { width: number; height: number } {
  const { width, height } = spec;
  if (width === undefined && height === undefined) return { width: pictureWidth, height: pictureHeight };
  if (height === undefined) return { width: width!, height: side((width! * pictureHeight) / pictureWidth) };
  if (width === undefined) return { width: side((height * pictureWidth) / pictureHeight), height };
  const fit = spec.fit ?? 'cover';
  if (fit === 'inside' || fit === 'outside') {
    const pick = fit === 'inside' ? Math.min : Math.max;
    const factor = pick(width / pictureWidth, height / pictureHeight);
    return { width: side(pictureWidth * factor), height: side(pictureHeight * factor) };
  }
  return { width, height };
}

/**
 * `rgb` (packed RGB24, upright) resized as `spec` asks, with sharp: the
 * sizes that keep the aspect ratio are computed above and stretched to, so
 * that sharp's own rounding does not decide them; cover takes the centre of
 * the picture with the output's aspect ratio and scales it (scaling first
 * and cropping after, as sharp does, shifts the picture by a fraction of a
 * pixel); contain pads with black.
 */
export async function resizedReference(rgb: Buffer, pictureWidth: number, pictureHeight: number, spec: SizeSpec): Promise<Buffer> {
  const { width, height } = expectedSize(pictureWidth, pictureHeight, spec);
  const both = spec.width !== undefined && spec.height !== undefined;
  const fit = both ? (spec.fit ?? 'cover') : 'fill';
  let image = sharp(rgb, { raw: { width: pictureWidth, height: pictureHeight, channels: 3 } });
  if (fit === 'cover') {
    const wider = pictureWidth * height > pictureHeight * width;
    const cropWidth = wider ? Math.min(pictureWidth, side((pictureHeight * width) / height)) : pictureWidth;
    const cropHeight = wider ? pictureHeight : Math.min(pictureHeight, side((pictureWidth * height) / width));
    const left = Math.floor((pictureWidth - cropWidth) / 2);
    const top = Math.floor((pictureHeight - cropHeight) / 2);
    image = sharp(await image.extract({ left, top, width: cropWidth, height: cropHeight }).raw().toBuffer(), {
      raw: { width: cropWidth, height: cropHeight, channels: 3 },
    });
  }
  return image
    .resize(width, height, { fit: fit === 'contain' ? 'contain' : 'fill', kernel: 'lanczos3', background: { r: 0, g: 0, b: 0 } })
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** A rectangle of a packed RGB24 image, as packed RGB24. */
export function cropRgb(rgb: Buffer, imageWidth: number, x: number, y: number, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let row = 0; row < height; row++) {
    rgb.copy(out, row * width * 3, ((y + row) * imageWidth + x) * 3, ((y + row) * imageWidth + x + width) * 3);
  }
  return out;
}

/** sharp's name of each file format. */
export const sharpFormat: Readonly<Record<string, string>> = { jpg: 'jpeg', png: 'png', webp: 'webp' };

/**
 * Frames at these display indices (those outside the video left out) as
 * packed RGB24, upright, decoded by the ffmpeg CLI with its chroma
 * interpolated (see above).
 */
export async function smoothFrames(video: ProbedVideo, indices: readonly number[]): Promise<Map<number, Buffer>> {
  const wanted = [...new Set(indices)].filter((i) => i >= 0 && i < video.pts.length).sort((a, b) => a - b);
  const select = wanted.map((i) => `eq(n\\,${i})`).join('+');
  const raw = await ffmpeg([
    '-i', video.path,
    '-vf', `select=${select}`, '-fps_mode', 'passthrough', '-frames:v', String(wanted.length),
    '-sws_flags', 'lanczos+full_chroma_int+accurate_rnd',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
  ]);
  const frameBytes = video.displayWidth * video.displayHeight * 3;
  if (raw.length !== frameBytes * wanted.length) {
    throw new Error(`${video.path}: ffmpeg gave ${raw.length} bytes for frames ${wanted.join(', ')}, expected ${frameBytes * wanted.length}`);
  }
  return new Map(wanted.map((index, i) => [index, raw.subarray(i * frameBytes, (i + 1) * frameBytes)]));
}

/**
 * The least luma PSNR, in dB, of an output against its frame resized. Two
 * Lanczos implementations (FFmpeg's swscale and libvips) that shrink the
 * same frame agree to 40-52 dB on testsrc2 (measured on every fit, both
 * backends, quality 95), 34.7 at worst for a 7x5 JPEG; libvips enlarges with
 * an interpolator of its own, and there they agree to 32-34 dB. Neighbouring
 * frames score 12-27 dB.
 */
export function minSizedPsnr(video: ProbedVideo, spec: SizeSpec): number {
  const { width, height } = expectedSize(video.displayWidth, video.displayHeight, spec);
  return width > video.displayWidth || height > video.displayHeight ? 30 : 35;
}

/** Luma PSNR of `pixels` (an output, packed RGB24) against `frame` (upright, full size) resized as `spec` asks. */
export async function imageMatch(pixels: Buffer, frame: Buffer, video: ProbedVideo, spec: SizeSpec): Promise<number> {
  const reference = await resizedReference(frame, video.displayWidth, video.displayHeight, spec);
  return matchPsnr('jpg', pixels, reference);
}

/** Outputs smaller than this are not compared with the frames next to theirs: a few dozen pixels cannot tell frames 1/30 s apart. */
const minPixelsToTellNeighbours = 1000;

/**
 * Checks that `pixels` (an output, packed RGB24, upright) is frame `frame`
 * resized as `spec` asks, and none of the frames next to it; `frames` holds
 * the video's frames (smoothFrames) around it.
 */
export async function expectResizedFrame(
  pixels: Buffer,
  frames: ReadonlyMap<number, Buffer>,
  frame: number,
  video: ProbedVideo,
  spec: SizeSpec,
  where: string,
): Promise<void> {
  const match = await imageMatch(pixels, frames.get(frame)!, video, spec);
  expect(match, `${where} (frame ${frame}): PSNR against its frame, resized`).toBeGreaterThanOrEqual(minSizedPsnr(video, spec));
  const { width, height } = expectedSize(video.displayWidth, video.displayHeight, spec);
  if (width * height < minPixelsToTellNeighbours) return;
  for (const n of [frame - 1, frame + 1].filter((i) => frames.has(i))) {
    expect(await imageMatch(pixels, frames.get(n)!, video, spec), `${where} (frame ${frame}): PSNR against frame ${n}`).toBeLessThan(match);
  }
}
