/**
 * The test videos: one table, each row naming its container and codec, the
 * ffmpeg recipe that makes it (made-file.ts caches the result), the
 * intervals the engine tests sample it at, and the traits it exists for.
 * All are small (320x240 or so, 3-12 s, under 1 MB) and show moving content
 * (testsrc2), so that adjacent frames differ and a pixel check can tell them
 * apart.
 *
 * `traits` are the properties a fixture exists for; fixtures.test.ts checks
 * each against ffprobe, so a recipe that stops producing them fails loudly.
 */

import type { MadeFile } from './made-file.js';

export interface FixtureTraits {
  /** Coded size. */
  width: number;
  height: number;
  pixelFormat: string;
  /** Clockwise degrees the picture is turned for display (what ffmpeg's autorotate applies). */
  rotation: number;
  /** Irregular gaps between frames. */
  variableFrameRate: boolean;
  /** The first displayed frame has a pts above 0. */
  nonZeroOrigin: boolean;
  /** Some packets carry the discard flag (an edit list starting after a keyframe). */
  discardedPackets: boolean;
  /** Frames are reordered (decode order differs from display order). */
  reordered: boolean;
  /** I- or P-frame packets carry no pts (AVI, MPEG-PS with B-frames): their display times follow from later packets. */
  anchorsWithoutPts: boolean;
  /** Frames displayed before a keyframe but decoded after it (leading pictures of an open GOP). */
  openGop: boolean;
  /** The last packet carries no duration, so the last frame lasts as long as the gap before it. */
  lastDurationMissing: boolean;
  /** The longest distance between displayed keyframes, at least this many seconds. */
  minKeyframeGap: number;
}

export interface Fixture extends MadeFile {
  /** The video codec ffprobe reports. */
  codec: string;
  /** Sampling intervals in seconds that the engine tests use on this fixture. */
  intervals: readonly number[];
  traits: FixtureTraits;
}

/** testsrc2: a moving pattern with a running timecode, so every frame differs from its neighbours. */
export function testsrc2(width: number, height: number, rate: number, seconds: number): string[] {
  return ['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${rate}:duration=${seconds}`];
}

export function x264(...params: string[]): string[] {
  return ['-c:v', 'libx264', '-preset', 'veryfast', ...(params.length ? ['-x264-params', params.join(':')] : [])];
}

/** Keyframes every `frames` frames exactly, no scene-cut keyframes. */
export function fixedGop(frames: number): string[] {
  return ['-g', String(frames), '-keyint_min', String(frames), '-sc_threshold', '0'];
}

const plain: FixtureTraits = {
  width: 320,
  height: 240,
  pixelFormat: 'yuv420p',
  rotation: 0,
  variableFrameRate: false,
  nonZeroOrigin: false,
  discardedPackets: false,
  reordered: false,
  anchorsWithoutPts: false,
  openGop: false,
  lastDurationMissing: false,
  minKeyframeGap: 0,
};

const bFrames = [...testsrc2(320, 240, 30, 4), ...x264('b-pyramid=normal'), '-bf', '3', ...fixedGop(45), '-pix_fmt', 'yuv420p'];

export const fixtures: readonly Fixture[] = [
  {
    name: 'mp4-h264',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    encode: [...testsrc2(320, 240, 30, 4), ...x264(), '-bf', '0', ...fixedGop(45), '-pix_fmt', 'yuv420p'],
    intervals: [1, 2],
    traits: { ...plain, minKeyframeGap: 1.5 },
  },
  {
    name: 'mp4-hevc',
    ext: 'mp4',
    codec: 'hevc',
    encoder: 'libx265',
    // x265 makes open GOPs (CRA keyframes with leading pictures) by default.
    encode: [
      ...testsrc2(320, 240, 30, 4),
      '-c:v', 'libx265', '-preset', 'veryfast',
      '-x265-params', 'log-level=error:keyint=40:min-keyint=40:scenecut=0',
      '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p',
    ],
    intervals: [1, 3],
    traits: { ...plain, reordered: true, openGop: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'mov-h264',
    ext: 'mov',
    codec: 'h264',
    encoder: 'libx264',
    encode: [...testsrc2(320, 240, 25, 4), ...x264(), '-bf', '2', ...fixedGop(36), '-pix_fmt', 'yuv420p'],
    // At 0.3 s, targets 0.6, 1.2, 1.8 ... fall exactly on frames (25 fps), and
    // 6 * 0.3 is 1.7999999999999998 in floating point: only exact arithmetic
    // picks frame 45 there.
    intervals: [1, 2, 0.3],
    traits: { ...plain, reordered: true, minKeyframeGap: 1.4 },
  },
  {
    name: 'mkv-h264',
    ext: 'mkv',
    codec: 'h264',
    encoder: 'libx264',
    encode: [...testsrc2(320, 240, 24, 4), ...x264(), '-bf', '0', ...fixedGop(48), '-pix_fmt', 'yuv420p'],
    intervals: [1, 3],
    traits: { ...plain, minKeyframeGap: 2 },
  },
  {
    name: 'webm-vp8',
    ext: 'webm',
    codec: 'vp8',
    encoder: 'libvpx',
    encode: [
      ...testsrc2(320, 240, 30, 4),
      '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k', '-g', '40', '-keyint_min', '40',
    ],
    intervals: [1, 2],
    traits: { ...plain, minKeyframeGap: 1.3 },
  },
  {
    name: 'webm-vp9',
    ext: 'webm',
    codec: 'vp9',
    encoder: 'libvpx-vp9',
    encode: [
      ...testsrc2(320, 240, 30, 4),
      '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k', '-g', '50', '-keyint_min', '50',
    ],
    intervals: [1, 2],
    traits: { ...plain, minKeyframeGap: 1.6 },
  },
  {
    name: 'webm-av1',
    ext: 'webm',
    codec: 'av1',
    encoder: 'libaom-av1',
    encode: [
      ...testsrc2(320, 240, 30, 3),
      '-c:v', 'libaom-av1', '-usage', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', '30', '-keyint_min', '30',
    ],
    intervals: [1, 2],
    traits: { ...plain, minKeyframeGap: 1 },
  },
  {
    name: 'avi-mpeg4',
    ext: 'avi',
    codec: 'mpeg4',
    encoder: 'mpeg4',
    encode: [...testsrc2(320, 240, 30, 4), '-c:v', 'mpeg4', '-q:v', '4', '-g', '40'],
    intervals: [1, 2],
    traits: { ...plain, minKeyframeGap: 1.3 },
  },
  {
    name: 'avi-mpeg4-bframes',
    ext: 'avi',
    codec: 'mpeg4',
    encoder: 'mpeg4',
    // AVI stores decode times only: FFmpeg gives the B-frames a pts and the
    // I- and P-frames none, so their display times follow from later packets
    // (the first frame is shown one frame late, at the second packet's time).
    encode: [...testsrc2(320, 240, 30, 4), '-c:v', 'mpeg4', '-q:v', '4', '-g', '40', '-bf', '2'],
    intervals: [0.5, 1],
    traits: { ...plain, reordered: true, anchorsWithoutPts: true, nonZeroOrigin: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'avi-h264-bframes',
    ext: 'avi',
    codec: 'h264',
    encoder: 'libx264',
    // No pts at all, and H.264 holds two frames back (a B-pyramid): FFmpeg
    // gives each frame it outputs the dts of the packet sent last, so frame i
    // shows at packet i + 2's time and the last two get none.
    encode: bFrames,
    intervals: [0.5, 1],
    traits: { ...plain, reordered: true, anchorsWithoutPts: true, nonZeroOrigin: true, minKeyframeGap: 1.5 },
  },
  {
    name: 'mpg-mpeg2',
    ext: 'mpg',
    codec: 'mpeg2video',
    encoder: 'mpeg2video',
    // MPEG-PS writes a pts only where a PES packet starts: at this bit rate
    // some I- and P-frames share one and get none.
    encode: [...testsrc2(320, 240, 30, 4), '-c:v', 'mpeg2video', '-b:v', '200k', '-g', '40', '-bf', '2'],
    intervals: [0.5, 1],
    traits: { ...plain, reordered: true, anchorsWithoutPts: true, nonZeroOrigin: true, openGop: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'flv-h264',
    ext: 'flv',
    codec: 'h264',
    encoder: 'libx264',
    // FLV has no edit lists: B-frame delay shifts the first pts to 67 ms.
    encode: [...testsrc2(320, 240, 30, 4), ...x264(), '-bf', '3', ...fixedGop(40), '-pix_fmt', 'yuv420p'],
    intervals: [1, 2],
    traits: { ...plain, reordered: true, nonZeroOrigin: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'flv-flv1',
    ext: 'flv',
    codec: 'flv1',
    encoder: 'flv',
    encode: [...testsrc2(320, 240, 30, 4), '-c:v', 'flv', '-q:v', '4', '-g', '40'],
    intervals: [1, 3],
    traits: { ...plain, lastDurationMissing: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'mp4-bframes',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    encode: bFrames,
    intervals: [1, 2],
    traits: { ...plain, reordered: true, minKeyframeGap: 1.5 },
  },
  {
    name: 'mp4-long-gop',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    // 12 s at 15 fps with keyframes at 0 s and 10 s only.
    encode: [...testsrc2(320, 240, 15, 12), ...x264(), '-bf', '2', ...fixedGop(150), '-pix_fmt', 'yuv420p'],
    intervals: [1, 5],
    traits: { ...plain, reordered: true, minKeyframeGap: 10 },
  },
  {
    name: 'mp4-vfr',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    // 30 fps for 1 s, nothing until 2.5 s (targets 1 s and 2 s both fall on
    // frame 29), 30 fps to 3 s, two frames near 3.2 s, then every 4th frame.
    encode: [
      ...testsrc2(320, 240, 30, 6),
      '-vf', 'select=lt(t\\,1)+between(t\\,2.5\\,3)+between(t\\,3.2\\,3.25)+gt(t\\,4)*not(mod(n\\,4))',
      '-fps_mode', 'vfr',
      ...x264(), '-bf', '0', '-g', '20', '-pix_fmt', 'yuv420p',
    ],
    intervals: [0.5, 1],
    traits: { ...plain, variableFrameRate: true, minKeyframeGap: 1 },
  },
  {
    name: 'mkv-start-offset',
    ext: 'mkv',
    codec: 'h264',
    encoder: 'libx264',
    encode: [
      ...testsrc2(320, 240, 30, 4), ...x264(), '-bf', '0', ...fixedGop(40), '-pix_fmt', 'yuv420p',
      '-output_ts_offset', '5',
    ],
    intervals: [1, 2],
    traits: { ...plain, nonZeroOrigin: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'ts-h264',
    ext: 'ts',
    codec: 'h264',
    encoder: 'libx264',
    // MPEG-TS starts near 1.4 s, with a 90 kHz time base.
    encode: [...testsrc2(320, 240, 30, 4), ...x264(), '-bf', '2', ...fixedGop(40), '-pix_fmt', 'yuv420p'],
    intervals: [1, 2],
    traits: { ...plain, reordered: true, nonZeroOrigin: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'mp4-rotate-cw90',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    encode: [...testsrc2(320, 240, 30, 3), ...x264(), '-bf', '0', ...fixedGop(30), '-pix_fmt', 'yuv420p'],
    // FFmpeg 5.1 has no -display_rotation and writes the `rotate` tag as a
    // display matrix only on stream copy. Tag 270 makes ffprobe say -90: a
    // phone's portrait video, turned clockwise for display.
    remux: { input: [], output: ['-metadata:s:v:0', 'rotate=270'] },
    intervals: [1, 2],
    traits: { ...plain, rotation: 90, minKeyframeGap: 1 },
  },
  {
    name: 'mp4-rotate-ccw90',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    encode: [...testsrc2(320, 240, 30, 3), ...x264(), '-bf', '0', ...fixedGop(30), '-pix_fmt', 'yuv420p'],
    // Tag 90: ffprobe says 90, and ffmpeg turns the picture counterclockwise.
    remux: { input: [], output: ['-metadata:s:v:0', 'rotate=90'] },
    intervals: [2],
    traits: { ...plain, rotation: 270, minKeyframeGap: 1 },
  },
  {
    name: 'mp4-odd-size',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    // testsrc2 makes even sizes only, so scale; 4:4:4 lets x264 take odd dimensions.
    encode: [
      ...testsrc2(320, 240, 30, 3), '-vf', 'scale=321:241',
      ...x264(), '-bf', '0', ...fixedGop(30), '-pix_fmt', 'yuv444p',
    ],
    intervals: [1, 2],
    traits: { ...plain, width: 321, height: 241, pixelFormat: 'yuv444p', minKeyframeGap: 1 },
  },
  {
    name: 'mkv-10bit',
    ext: 'mkv',
    codec: 'h264',
    encoder: 'libx264',
    encode: [...testsrc2(320, 240, 30, 3), ...x264(), '-bf', '2', ...fixedGop(30), '-pix_fmt', 'yuv420p10le'],
    intervals: [1, 2],
    traits: { ...plain, pixelFormat: 'yuv420p10le', reordered: true, minKeyframeGap: 1 },
  },
  {
    name: 'mkv-open-gop',
    ext: 'mkv',
    codec: 'h264',
    encoder: 'libx264',
    encode: [
      ...testsrc2(320, 240, 30, 4),
      ...x264('open-gop=1', 'b-pyramid=normal', 'keyint=40', 'min-keyint=40', 'scenecut=0'),
      '-bf', '3', '-pix_fmt', 'yuv420p',
    ],
    intervals: [1, 2],
    traits: { ...plain, reordered: true, openGop: true, minKeyframeGap: 1.3 },
  },
  {
    name: 'mp4-edit-list',
    ext: 'mp4',
    codec: 'h264',
    encoder: 'libx264',
    encode: bFrames,
    // Cutting at 1.3 s with stream copy keeps the GOP from 0 s: its packets
    // before the cut are marked discard, and the first displayed frame is
    // not a keyframe.
    remux: { input: ['-ss', '1.3'], output: [] },
    intervals: [1, 2],
    traits: { ...plain, reordered: true, discardedPackets: true, minKeyframeGap: 1.5 },
  },
];

export function fixtureNamed(name: string): Fixture {
  const fixture = fixtures.find((f) => f.name === name);
  if (!fixture) throw new Error(`No fixture named ${name}`);
  return fixture;
}
