/**
 * The time model for the wasm backend: the port of native/core/Timeline.cpp,
 * with the parts of Decoder.cpp around it (fallbackDuration,
 * checkDeclaredEnd). It must plan exactly what the
 * native backend plans for the same packets (frame indices, frame times, pts
 * and the keyframe decoding starts from), so the two change together. The
 * model itself (origin, frame times, targets, the two sampling modes) is
 * stated once, in native/core/Timeline.h.
 *
 * Timestamps are bigints. Target times (exact rationals, from the sampling
 * rule in src/engine/sampling.ts) are compared with frame times exactly, as
 * the C++ does in __int128: a target becomes the ticks since the origin at
 * or before it, and whether it falls on a tick.
 */

import { corruptInput, internal, unsupportedInput } from '../src/errors.js';
import type { SamplingMode } from '../src/options.js';
import type { WasmProbe } from './probe-output.js';

/** A demuxed packet of the video stream; structurally a WasmPacket (probe-output.ts). */
export interface TimelinePacket {
  pts: bigint | undefined;
  dts: bigint | undefined;
  duration: bigint | undefined;
  keyframe: boolean;
  discard: boolean;
}

export interface TimeBase {
  num: number;
  den: number;
}

/** One planned output (Target in Timeline.h). */
export interface PlannedTarget {
  /** The frame's pts, in the stream's time base. */
  pts: bigint;
  /** Display index. */
  frameIndex: number;
  /** Seconds since origin, rounded to the millisecond (frameTimeOf). */
  frameTime: number;
  /** The keyframe to decode from; undefined when there is none before the frame (Timeline::kStreamStart). */
  startKeyPts: bigint | undefined;
  /** The target time it answers (the first, in keyframe mode), as a position in the plan's times. */
  targetIndex: number;
}

/** num / den seconds exactly (sampling.ts). */
export interface Rational {
  num: bigint;
  den: bigint;
}

/** Timeline::frameTime: seconds since origin, rounded to the millisecond in doubles exactly as the C++ does. */
export function frameTimeOf(pts: bigint, origin: bigint, timeBase: TimeBase): number {
  const milliseconds = ((Number(pts - origin) * timeBase.num) / timeBase.den) * 1000;
  // std::round: halves away from zero (Math.round takes them up).
  return (Math.sign(milliseconds) * Math.round(Math.abs(milliseconds))) / 1000;
}

export class Timeline {
  readonly timeBase: TimeBase;
  /** Displayed frames in display order, and whether each is a keyframe. */
  readonly #pts: readonly bigint[];
  readonly #key: readonly boolean[];
  /** Every keyframe packet, discarded ones too (they can start decoding), sorted. */
  readonly #allKeyPts: readonly bigint[];
  readonly #end: bigint;

  private constructor(timeBase: TimeBase, pts: bigint[], key: boolean[], allKeyPts: bigint[], end: bigint) {
    this.timeBase = timeBase;
    this.#pts = pts;
    this.#key = key;
    this.#allKeyPts = allKeyPts;
    this.#end = end;
  }

  /**
   * Timeline::addPacket for each of `packets` (decode order), then finish.
   * A packet's time is its pts, or its dts where the container stores no pts
   * (AVI); packets with neither are left out. `fallbackDuration` (see
   * fallbackDuration below) is the last frame's duration when neither its
   * packet nor a gap to the frame before gives one.
   */
  static fromPackets(packets: readonly TimelinePacket[], timeBase: TimeBase, fallbackDuration: bigint): Timeline {
    const shown: { pts: bigint; key: boolean; duration: bigint }[] = [];
    const allKeyPts: bigint[] = [];
    for (const packet of packets) {
      const time = packet.pts ?? packet.dts;
      if (time === undefined) continue;
      if (packet.keyframe) allKeyPts.push(time);
      // AVPacket.duration is 0 when unknown.
      if (!packet.discard) shown.push({ pts: time, key: packet.keyframe, duration: packet.duration ?? 0n });
    }
    if (shown.length === 0) throw corruptInput('the video stream has no frames');
    // Array.prototype.sort is stable, as the C++'s std::stable_sort.
    shown.sort((a, b) => compare(a.pts, b.pts));
    allKeyPts.sort(compare);

    const last = shown[shown.length - 1];
    const previous = shown.length > 1 ? shown[shown.length - 2].pts : undefined;
    // Timeline::endOf: a last frame of unknown duration lasts as long as the gap before it.
    let lastDuration = last.duration;
    if (lastDuration <= 0n) lastDuration = previous !== undefined ? last.pts - previous : fallbackDuration;
    const end = last.pts + (lastDuration > 1n ? lastDuration : 1n);

    return new Timeline(timeBase, shown.map((f) => f.pts), shown.map((f) => f.key), allKeyPts, end);
  }

  /**
   * Timeline.fromPackets over a probe's packets, with the fallback duration
   * of its frame rate. A stream whose reordered frames have packets without
   * a pts (AVI or MPEG-PS with B-frames) is refused: the native backend
   * places those frames by the packets after them (Timeline.h), and this
   * port does not.
   */
  static fromProbe({ stream, packets }: WasmProbe): Timeline {
    if (stream.reorders && packets.some((packet) => !packet.discard && packet.pts === undefined && packet.dts !== undefined)) {
      throw unsupportedInput(
        `The wasm backend cannot place the frames of this ${stream.codec} stream: its container gives I- or ` +
          'P-frames no presentation time (AVI or MPEG-PS with B-frames). The native backend reads it.',
      );
    }
    return Timeline.fromPackets(packets, stream.timeBase, fallbackDuration(stream.averageFrameRate, stream.timeBase));
  }

  get frameCount(): number {
    return this.#pts.length;
  }

  /** The displayed frames' pts in display order: frame i shows at `framePts[i]`. */
  get framePts(): readonly bigint[] {
    return this.#pts;
  }

  /** The display index of the frame with `pts`; -1 when no displayed frame has it. */
  frameIndexOf(pts: bigint): number {
    const at = firstAbove(this.#pts.length, (i) => this.#pts[i] >= pts);
    return this.#pts[at] === pts ? at : -1;
  }

  /** The pts of the displayed keyframes, in display order. */
  keyframePts(): bigint[] {
    return this.#pts.filter((_, i) => this.#key[i]);
  }

  /** The first displayed frame's pts. */
  get origin(): bigint {
    return this.#pts[0];
  }

  /** Where the last displayed frame stops being shown. */
  get end(): bigint {
    return this.#end;
  }

  variableFrameRate(): boolean {
    if (this.#pts.length < 3) return false;
    let lo = this.#pts[1] - this.#pts[0];
    let hi = lo;
    for (let i = 2; i < this.#pts.length; i++) {
      const gap = this.#pts[i] - this.#pts[i - 1];
      if (gap < lo) lo = gap;
      if (gap > hi) hi = gap;
    }
    // A time base coarser than the frame rate (30 fps in milliseconds) makes
    // gaps of 33 and 34 ticks: that is rounding, not a variable rate.
    const tolerance = lo / 100n > 1n ? lo / 100n : 1n;
    return hi - lo > tolerance;
  }

  /** The frame times of the displayed keyframes. */
  keyframeTimes(): number[] {
    const times: number[] = [];
    this.#key.forEach((key, i) => {
      if (key) times.push(frameTimeOf(this.#pts[i], this.origin, this.timeBase));
    });
    return times;
  }

  /** The last keyframe (discarded ones included) whose pts <= `pts`; undefined when none is. */
  decodeStartFor(pts: bigint): bigint | undefined {
    const after = firstAbove(this.#allKeyPts.length, (i) => this.#allKeyPts[i] > pts);
    return after === 0 ? undefined : this.#allKeyPts[after - 1];
  }

  /** Timeline::keyBefore: the keyframe shown before the one at `keyPts`; undefined when there is none. */
  keyBefore(keyPts: bigint): bigint | undefined {
    const at = this.#allKeyPts.indexOf(keyPts);
    return at > 0 ? this.#allKeyPts[at - 1] : undefined;
  }

  /**
   * Timeline::plan: the outputs for `times` (seconds since the origin,
   * exact, sampling.ts), in plan order; keyframe mode prefers the keyframes
   * shown in `window` ([start, end)), where it is given.
   */
  plan(mode: SamplingMode, times: readonly Rational[], window?: { start: Rational; end: Rational }): PlannedTarget[] {
    switch (mode) {
      case 'exact':
        return times.map((time, k) => {
          const latest = this.origin + ticksOf(time, this.timeBase).floor;
          // A target is >= 0: the first frame, at the origin, is shown by then.
          const shown = firstAbove(this.#pts.length, (i) => this.#pts[i] > latest);
          return this.#targetFor(Math.max(shown - 1, 0), k);
        });
      case 'keyframe':
        return this.#pickKeyframes(times, window);
      default:
        throw internal(`unknown sampling mode ${String(mode)}`);
    }
  }

  /** Timeline::pickKeyframes over keyframes whose pts are all known: each keyframe once, at its first target. */
  #pickKeyframes(times: readonly Rational[], window: { start: Rational; end: Rational } | undefined): PlannedTarget[] {
    const keys: number[] = [];
    this.#key.forEach((key, i) => {
      if (key) keys.push(i);
    });
    if (keys.length === 0) throw corruptInput('the video stream has no keyframes');
    const relative = (k: number): bigint => this.#pts[keys[k]] - this.origin;
    const windowStart = window === undefined ? undefined : ticksOf(window.start, this.timeBase);
    const windowEnd = window === undefined ? undefined : ticksOf(window.end, this.timeBase);
    const inWindow = (k: number): boolean =>
      windowStart === undefined || windowEnd === undefined || (!before(relative(k), windowStart) && before(relative(k), windowEnd));
    const picked: PlannedTarget[] = [];
    const taken = new Set<number>();
    times.forEach((time, target) => {
      const at = ticksOf(time, this.timeBase);
      const after = firstAbove(keys.length, (k) => relative(k) > at.floor);
      let pick: number;
      if (after === 0) {
        pick = 0;
      } else if (after === keys.length) {
        pick = after - 1;
      } else if (inWindow(after - 1) !== inWindow(after)) {
        // The one shown in the window, where the other is not.
        pick = inWindow(after - 1) ? after - 1 : after;
      } else {
        // The nearer, the earlier on a tie: 2t <= rel(a) + rel(b).
        const twice = ticksOf({ num: 2n * time.num, den: time.den }, this.timeBase);
        const sum = relative(after - 1) + relative(after);
        pick = twice.floor < sum || (twice.floor === sum && twice.whole) ? after - 1 : after;
      }
      if (taken.has(pick)) return;
      taken.add(pick);
      picked.push(this.#targetFor(keys[pick], target));
    });
    return picked;
  }

  #targetFor(index: number, targetIndex: number): PlannedTarget {
    const pts = this.#pts[index];
    return {
      pts,
      frameIndex: index,
      targetIndex,
      frameTime: frameTimeOf(pts, this.origin, this.timeBase),
      startKeyPts: this.#key[index] ? pts : this.decodeStartFor(pts),
    };
  }
}

/**
 * Decoder::fallbackDuration: one frame at the average frame rate ("30/1" as
 * ffprobe writes it), in ticks of `timeBase`, rounded to the nearest as
 * av_rescale_q does; 1 when the rate is unknown ("0/0"). It can be 0 for a
 * rate above the time base's resolution; the timeline then lasts a tick.
 */
export function fallbackDuration(avgFrameRate: string | undefined, timeBase: TimeBase): bigint {
  const rate = /^(\d+)\/(\d+)$/.exec(avgFrameRate ?? '');
  const num = rate === null ? 0n : BigInt(rate[1]);
  const den = rate === null ? 0n : BigInt(rate[2]);
  if (num <= 0n || den <= 0n) return 1n;
  // av_rescale_q(1, 1 / rate, timeBase) = b / c, halves up (all positive here).
  const b = den * BigInt(timeBase.den);
  const c = num * BigInt(timeBase.num);
  return (b + c / 2n) / c;
}

/**
 * Decoder::checkDeclaredEnd: refuses a stream whose frames end well before
 * where the container says it ends (`declaredEndSeconds`, from
 * declaredEndTime in probe-output.ts; 0 when unknown), since its data is cut
 * off. The arithmetic is in doubles as in the C++, so the same streams fail.
 */
export function checkDeclaredEnd(declaredEndSeconds: number, timeline: Timeline): void {
  const tb = timeline.timeBase.num / timeline.timeBase.den;
  const foundEnd = Number(timeline.end) * tb;
  const declaredDuration = declaredEndSeconds - Number(timeline.origin) * tb;
  if (declaredEndSeconds > 0 && declaredEndSeconds - foundEnd > Math.max(0.5, 0.02 * declaredDuration)) {
    throw corruptInput(
      `truncated data: the video stream declares ${secondsText(declaredDuration)} but its frames end at ` +
        secondsText(Number(timeline.end - timeline.origin) * tb),
    );
  }
}

/**
 * secondsText in Decoder.cpp, printf's "%.3f s". printf rounds a value
 * exactly halfway between two thousandths (an odd multiple of 1/16) to the
 * even one, where toFixed would take the one away from zero.
 */
function secondsText(seconds: number): string {
  const halfway = Number.isInteger(seconds * 16) && !Number.isInteger(seconds * 8);
  const shown = halfway ? (Math.round(seconds * 500) * 2) / 1000 : seconds;
  return `${shown.toFixed(3)} s`;
}

/** The first of 0..count-1 for which `above` holds, `above` being false then true; count when none. */
function firstAbove(count: number, above: (i: number) => boolean): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (above(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A target in ticks of `timeBase` since the origin: its floor, and whether that is it exactly (ticksOf in Timeline.cpp). */
function ticksOf(time: Rational, timeBase: TimeBase): { floor: bigint; whole: boolean } {
  const num = time.num * BigInt(timeBase.den);
  const den = time.den * BigInt(timeBase.num);
  return { floor: num / den, whole: num % den === 0n };
}

/** Whether `ticks` since the origin is before the target `t`. */
function before(ticks: bigint, t: { floor: bigint; whole: boolean }): boolean {
  return ticks < t.floor || (ticks === t.floor && !t.whole);
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
