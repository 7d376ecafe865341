/**
 * The independent oracle: what the engine must output, computed from ffprobe
 * alone, and the reference pixels of any frame, decoded by the ffmpeg CLI.
 *
 * The timeline rule, as the spec states it:
 *   origin         pts of the first displayed frame
 *   frame_time(i)  (pts[i] - origin) in seconds, rounded to the millisecond
 *   frame_index(i) i, the position in display order
 *   frame i is shown from pts[i] to pts[i+1]; the last one for its packet
 *   duration, or the gap before it when that is 0 or missing; end = last pts
 *   plus that duration
 *   targets        t_k = k * interval while t_k < end - origin
 *   exact          per target, the last frame with frame_time <= t_k
 *   keyframe       per target, the nearest displayed keyframe (earlier on a
 *                  tie), consecutive repeats dropped
 * Keyframes are packets flagged K; packets flagged D are not displayed.
 * Frame times are the decoded frames' (pts, else best-effort timestamp). A
 * container that stores no pts on some packets (AVI; MPEG-PS) leaves those
 * I- and P-frames of a codec with B-frames without one until later packets
 * are decoded: there the keyframes are the frames FFmpeg decodes as key
 * frames, and a last frame that FFmpeg gives no time at all is shown one
 * frame gap after the one before it. All
 * comparisons are exact, on integers: pts times time base against the
 * interval as the decimal JavaScript prints for it (0.3 is 3/10). Tests use
 * short decimals only: how the engine reads a repeating one (1/3) is not
 * pinned.
 */

import sharp from 'sharp';
import { ffmpeg, ffprobeJson } from './ffmpeg.js';

export type Mode = 'exact' | 'keyframe';

export interface Rational {
  num: bigint;
  den: bigint;
}

export interface ProbedPacket {
  pts: bigint | undefined;
  duration: bigint | undefined;
  key: boolean;
  discard: boolean;
}

export interface ProbedVideo {
  path: string;
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  codec: string;
  pixelFormat: string;
  /** Coded size. */
  width: number;
  height: number;
  /** Clockwise degrees ffmpeg's autorotate turns the picture: 0, 90, 180 or 270. */
  rotation: number;
  displayWidth: number;
  displayHeight: number;
  timeBase: Rational;
  /** Packets of the video stream in decode order. */
  packets: ProbedPacket[];
  /** Some displayed packets carry no pts (AVI or MPEG-PS with B-frames): keyframes are then known by decoding. */
  anchorsWithoutPts: boolean;
  /** Displayed frames in display order: pts, and whether a K packet carries it. */
  pts: bigint[];
  key: boolean[];
  origin: bigint;
  end: bigint;
  /** The container's bit rate as FFmpeg computes it (over FFmpeg's own container duration). */
  formatBitRate: number;
}

export interface ExpectedOutput {
  frameIndex: number;
  frameTime: number;
  pts: bigint;
  /** pts of the keyframe packet decoding must start from; undefined: the stream's start. */
  decodeStart: bigint | undefined;
}

export interface FfprobeEntry {
  type?: string;
  pts?: number;
  best_effort_timestamp?: number;
  duration?: number;
  flags?: string;
  /** Frames: 1 when FFmpeg decoded a key frame. */
  key_frame?: number;
}

/** The parts of `ffprobe -show_packets -show_frames -show_streams -show_format -of json` the oracle reads. */
export interface FfprobeOutput {
  packets_and_frames?: FfprobeEntry[];
  streams?: {
    codec_name: string;
    pix_fmt: string;
    width: number;
    height: number;
    time_base: string;
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { format_name: string; bit_rate?: string };
}

/** Reads the first video stream's packets and frames with ffprobe (decoding it whole). */
export async function probeVideo(path: string): Promise<ProbedVideo> {
  const out = await ffprobeJson([
    '-select_streams', 'v:0', '-show_packets', '-show_frames', '-show_streams', '-show_format', path,
  ]);
  return videoFromFfprobe(path, out as FfprobeOutput);
}

/** The oracle's reading of ffprobe's output for one video stream. */
export function videoFromFfprobe(path: string, out: FfprobeOutput): ProbedVideo {
  const stream = out.streams?.[0];
  if (!stream || !out.format) throw new Error(`ffprobe found no video stream in ${path}`);
  const entries = out.packets_and_frames ?? [];

  const packets: ProbedPacket[] = entries
    .filter((e) => e.type === 'packet')
    .map((e) => ({
      pts: optionalBig(e.pts),
      duration: optionalBig(e.duration),
      key: (e.flags ?? '').includes('K'),
      discard: (e.flags ?? '').includes('D'),
    }));
  const frames = entries.filter((e) => e.type === 'frame');
  const pts = frameTimes(path, frames);
  if (pts.length < 2) throw new Error(`${path}: the oracle needs at least two frames`);
  for (let i = 1; i < pts.length; i++) {
    if (pts[i] <= pts[i - 1]) throw new Error(`${path}: frame pts not increasing at display index ${i}`);
  }

  const anchorsWithoutPts = packets.some((p) => !p.discard && p.pts === undefined);
  const keyPts = new Set(packets.filter((p) => p.key && !p.discard && p.pts !== undefined).map((p) => p.pts));
  const key = anchorsWithoutPts ? frames.map((f) => f.key_frame === 1) : pts.map((p) => keyPts.has(p));

  const last = pts[pts.length - 1];
  const lastPacket = packets.find((p) => p.pts === last && !p.discard);
  const lastDuration =
    lastPacket?.duration !== undefined && lastPacket.duration > 0n ? lastPacket.duration : last - pts[pts.length - 2];

  const [num, den] = stream.time_base.split('/').map((s) => BigInt(s));
  const rotation = clockwiseRotation(stream.side_data_list);
  const turned = rotation === 90 || rotation === 270;
  return {
    path,
    formatName: out.format.format_name,
    codec: stream.codec_name,
    pixelFormat: stream.pix_fmt,
    width: stream.width,
    height: stream.height,
    rotation,
    displayWidth: turned ? stream.height : stream.width,
    displayHeight: turned ? stream.width : stream.height,
    timeBase: { num, den },
    packets,
    anchorsWithoutPts,
    pts,
    key,
    origin: pts[0],
    end: last + lastDuration,
    formatBitRate: Number(out.format.bit_rate ?? NaN),
  };
}

/**
 * Each decoded frame's time. Only the last frames may have none (those a
 * codec that holds frames back gives up when drained: one for MPEG-4 part 2,
 * two for H.264 with a B-pyramid); each is then shown one gap after the one
 * before.
 */
function frameTimes(path: string, frames: FfprobeEntry[]): bigint[] {
  const times: bigint[] = [];
  const timed = (frame: FfprobeEntry) => (frame.pts ?? frame.best_effort_timestamp) !== undefined;
  frames.forEach((frame, i) => {
    const value = frame.pts ?? frame.best_effort_timestamp;
    if (value !== undefined) {
      times.push(BigInt(value));
    } else if (i >= 2 && !frames.slice(i).some(timed)) {
      times.push(2n * times[i - 1] - times[i - 2]);
    } else {
      throw new Error(`${path}: frame ${i} has no timestamp`);
    }
  });
  return times;
}

/** ffprobe prints the display matrix's counterclockwise angle; ffmpeg turns the picture by its negation. */
function clockwiseRotation(sideData: { rotation?: number }[] | undefined): number {
  const ccw = sideData?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
  return (((-Math.round(ccw)) % 360) + 360) % 360;
}

function optionalBig(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}

/** A decimal number as an exact fraction: 0.5 is 5/10, not the nearest binary fraction. */
export function decimalFraction(value: number): Rational {
  const text = String(value);
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`The oracle takes plain positive decimals, not ${text}`);
  const [whole, fraction = ''] = text.split('.');
  return { num: BigInt(whole + fraction), den: 10n ** BigInt(fraction.length) };
}

/** Seconds since origin, rounded to the millisecond (half up), computed exactly. */
export function frameTimeOf(video: ProbedVideo, pts: bigint): number {
  const scaled = (pts - video.origin) * video.timeBase.num * 1000n;
  const den = video.timeBase.den;
  const ms = scaled >= 0n ? (2n * scaled + den) / (2n * den) : -((-2n * scaled + den) / (2n * den));
  return Number(ms) / 1000;
}

/** pts of the first displayed frame, in seconds. */
export function startSeconds(video: ProbedVideo): number {
  return Number((video.origin * video.timeBase.num * 1_000_000n) / video.timeBase.den) / 1e6;
}

export function durationSeconds(video: ProbedVideo): number {
  return Number(((video.end - video.origin) * video.timeBase.num * 1_000_000n) / video.timeBase.den) / 1e6;
}

/** frame_time of every displayed keyframe, in display order. */
export function keyframeTimes(video: ProbedVideo): number[] {
  return video.pts.filter((_, i) => video.key[i]).map((p) => frameTimeOf(video, p));
}

/** Gaps between frames that differ by more than a millisecond (a 1 ms time base alternates 33 and 34 at 30 fps). */
export function isVariableFrameRate(video: ProbedVideo): boolean {
  let min = video.pts[1] - video.pts[0];
  let max = min;
  for (let i = 2; i < video.pts.length; i++) {
    const gap = video.pts[i] - video.pts[i - 1];
    if (gap < min) min = gap;
    if (gap > max) max = gap;
  }
  return (max - min) * video.timeBase.num * 1000n > video.timeBase.den;
}

/** The outputs the rule asks for, in order. */
export function expectedOutputs(video: ProbedVideo, interval: number, mode: Mode): ExpectedOutput[] {
  const step = decimalFraction(interval);
  const { num: tbNum, den: tbDen } = video.timeBase;
  // Everything is scaled by tbDen * step.den so that times compare as integers:
  // a pts offset d is d * tbNum * step.den, target k is k * step.num * tbDen.
  const offsetOf = (pts: bigint) => (pts - video.origin) * tbNum * step.den;
  const targetOf = (k: bigint) => k * step.num * tbDen;
  const endOffset = offsetOf(video.end);

  const keyIndices = video.key.flatMap((isKey, i) => (isKey ? [i] : []));
  if (mode === 'keyframe' && keyIndices.length === 0) throw new Error(`${video.path}: no displayed keyframe`);

  const picked: number[] = [];
  let frame = 0;
  let keyAt = 0;
  for (let k = 0n; targetOf(k) < endOffset; k++) {
    const target = targetOf(k);
    if (mode === 'exact') {
      while (frame + 1 < video.pts.length && offsetOf(video.pts[frame + 1]) <= target) frame++;
      picked.push(frame);
    } else {
      // Move to the next keyframe while it is strictly nearer; a tie keeps the earlier.
      while (
        keyAt + 1 < keyIndices.length &&
        abs(offsetOf(video.pts[keyIndices[keyAt + 1]]) - target) < abs(offsetOf(video.pts[keyIndices[keyAt]]) - target)
      ) {
        keyAt++;
      }
      const index = keyIndices[keyAt];
      if (picked[picked.length - 1] !== index) picked.push(index);
    }
  }
  return picked.map((i) => ({
    frameIndex: i,
    frameTime: frameTimeOf(video, video.pts[i]),
    pts: video.pts[i],
    decodeStart: decodeStartFor(video, video.pts[i]),
  }));
}

/**
 * The last keyframe packet, displayed or not, at or before this pts. Where
 * keyframe packets carry no pts, the last keyframe displayed at or before it
 * stands for it: the tests compare decoding starts, never seek to them.
 */
function decodeStartFor(video: ProbedVideo, pts: bigint): bigint | undefined {
  let start: bigint | undefined;
  if (video.anchorsWithoutPts) {
    video.pts.forEach((p, i) => {
      if (video.key[i] && p <= pts) start = p;
    });
    return start;
  }
  for (const p of video.packets) {
    if (p.key && p.pts !== undefined && p.pts <= pts && (start === undefined || p.pts > start)) start = p.pts;
  }
  return start;
}

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

/**
 * Frames at these display indices as packed RGB24, upright (ffmpeg applies
 * the rotation itself), decoded by the ffmpeg CLI.
 */
export async function referenceFrames(video: ProbedVideo, indices: readonly number[]): Promise<Map<number, Buffer>> {
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  const select = wanted.map((i) => `eq(n\\,${i})`).join('+');
  const raw = await ffmpeg([
    '-i', video.path,
    '-vf', `select=${select}`, '-fps_mode', 'passthrough', '-frames:v', String(wanted.length),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
  ]);
  const frameBytes = video.displayWidth * video.displayHeight * 3;
  if (raw.length !== frameBytes * wanted.length) {
    throw new Error(`${video.path}: ffmpeg gave ${raw.length} bytes for frames ${wanted.join(', ')}, expected ${frameBytes * wanted.length}`);
  }
  return new Map(wanted.map((index, i) => [index, raw.subarray(i * frameBytes, (i + 1) * frameBytes)]));
}

export interface DecodedImage {
  width: number;
  height: number;
  /** Packed RGB24. */
  pixels: Buffer;
}

/** Decodes an engine output (PNG or JPEG) to packed RGB24 with sharp, without applying any EXIF orientation. */
export async function decodeImage(data: Buffer): Promise<DecodedImage> {
  const { data: pixels, info } = await sharp(data).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`Expected 3 channels after decoding, got ${info.channels}`);
  return { width: info.width, height: info.height, pixels };
}

/**
 * How close an engine output is to its reference frame, in dB of PSNR, and
 * the least that counts as a match. PNG is lossless, so all of RGB is
 * compared. JPEG subsamples chroma, which on testsrc2's saturated colour bars
 * costs about 26-27 dB of RGB PSNR at quality 80, too near the 18-20 dB of a
 * neighbouring frame to tell them apart; its luma keeps 40.6-43 dB against
 * 20-27 dB for a neighbour (measured on every fixture), so JPEG is compared
 * on luma (BT.601 Y).
 */
export const minPsnr = { png: 35, jpg: 37 } as const;

export function matchPsnr(format: 'png' | 'jpg', output: Buffer, reference: Buffer): number {
  return format === 'png' ? psnr(output, reference) : psnr(luma(output), luma(reference));
}

/** BT.601 luma of packed RGB24, unrounded. */
function luma(rgb: Buffer): Float64Array {
  const y = new Float64Array(rgb.length / 3);
  for (let i = 0; i < y.length; i++) y[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  return y;
}

/** Peak signal-to-noise ratio in dB of two same-sized 8-bit images (or planes); Infinity when identical. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`PSNR of images of ${a.length} and ${b.length} samples`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255 * a.length) / sum);
}
