/**
 * How one ffmpeg run is aimed at one frame: where `-ss` seeks, and the pts
 * window its `select` filter keeps.
 *
 * The seek aims at the keyframe the frame is decoded from, not at the frame:
 * demuxers seek differently (MP4 through its index by dts, MPEG-TS by a
 * binary search over timestamps in the byte stream), and aiming at the frame
 * lands a TS seek past that keyframe, so the frame never comes.
 *
 * The window reaches halfway to the neighbouring frames because ffmpeg gives
 * a decoded frame its best-effort timestamp, which can differ from the
 * packet's pts by a tick: FLV stores milliseconds, and with B-frames 1234
 * comes out as 1233. Halfway keeps every other frame out.
 */

import type { WasmProbe } from './probe-output.js';

export interface FrameTarget {
  /**
   * For `-ss`, which counts from the container's start; undefined when the
   * frame is decoded from the first keyframe, so the run reads from the start
   * without seeking (any seek in an FLV without an index loses its first GOP).
   */
  seekSeconds: number | undefined;
  /** The pts window of the frame, in the stream's time base: from <= pts < to. */
  from: bigint;
  to: bigint;
}

/**
 * Where to seek and what to keep to decode the shown frame with `pts`, or
 * undefined when `pts` is no shown frame. The keyframe is the last one before
 * the frame in decode order that is shown no later than it: an open GOP's
 * leading pictures, shown before their keyframe, need the keyframe before.
 */
export function frameTarget({ stream, packets }: WasmProbe, pts: bigint): FrameTarget | undefined {
  const target = packets.findIndex((p) => p.pts === pts && !p.discard);
  if (target < 0) return undefined;

  const firstKeyframe = packets.findIndex((p) => p.keyframe);
  let seekSeconds: number | undefined;
  for (let i = target; i > firstKeyframe; i--) {
    const key = packets[i];
    if (!key.keyframe || key.pts === undefined || key.pts > pts) continue;
    // MP4 seeks by dts, which is never above pts; the smaller one is right for both kinds of demuxer.
    const at = key.dts !== undefined && key.dts < key.pts ? key.dts : key.pts;
    const seconds = (Number(at) * stream.timeBase.num) / stream.timeBase.den - stream.containerStart;
    // Floored to ffmpeg's microseconds so rounding never moves the seek past the keyframe.
    seekSeconds = Math.max(0, Math.floor(seconds * 1e6) / 1e6);
    break;
  }

  let before: bigint | undefined;
  let after: bigint | undefined;
  for (const p of packets) {
    if (p.pts === undefined || p.discard) continue;
    if (p.pts < pts && (before === undefined || p.pts > before)) before = p.pts;
    if (p.pts > pts && (after === undefined || p.pts < after)) after = p.pts;
  }
  // Up to, not including, the midpoint on each side; a frame with one neighbour gets the same reach on its other side.
  const reachBelow = before === undefined ? undefined : (pts - before - 1n) / 2n;
  const reachAbove = after === undefined ? undefined : (after - pts - 1n) / 2n;
  const below = reachBelow ?? reachAbove ?? 0n;
  const above = reachAbove ?? reachBelow ?? 0n;
  return { seekSeconds, from: pts - below, to: pts + above + 1n };
}
