/**
 * The time model for the wasm backend: the port of native/core/Timeline.cpp,
 * with the parts of Decoder.cpp around it (fallbackDuration,
 * checkDeclaredEnd, the interval's av_d2q). It must plan exactly what the
 * native backend plans for the same packets (frame indices, frame times, pts
 * and the keyframe decoding starts from), so the two change together. The
 * model itself (origin, frame times, targets, the two sampling modes) is
 * stated once, in native/core/Timeline.h.
 *
 * Timestamps are bigints. Target times are compared with frame times exactly,
 * as the C++ does in __int128: k * interval against (pts - origin) * timeBase,
 * both scaled to the denominator timeBase.den * interval.den.
 */

import { corruptInput, internal, limitExceeded, unsupportedInput } from '../src/errors.js';
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
}

interface Rational {
  num: bigint;
  den: bigint;
}

/** The interval as the native plan uses it: av_d2q(seconds, 1 << 24). */
export function intervalRational(seconds: number): { num: bigint; den: bigint } {
  return d2q(seconds, 1 << 24);
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

  /** Timeline::targetCount: how many targets t_k = k * interval the stream has; plan() loops over each. */
  targetCount(intervalSeconds: number): number {
    const interval = plannableInterval(intervalSeconds);
    const span = (this.#end - this.origin) * BigInt(this.timeBase.num) * interval.den;
    const step = interval.num * BigInt(this.timeBase.den);
    return span <= 0n ? 0 : Number((span + step - 1n) / step);
  }

  /** The outputs for targets every `intervalSeconds` (finite, > 0), in plan order. */
  plan(mode: SamplingMode, intervalSeconds: number): PlannedTarget[] {
    const interval = plannableInterval(intervalSeconds);
    // Frame times and target times in units of 1 / (timeBase.den * interval.den) seconds.
    const ptsFactor = BigInt(this.timeBase.num) * interval.den;
    const targetStep = interval.num * BigInt(this.timeBase.den);
    const relative = (i: number): bigint => (this.#pts[i] - this.origin) * ptsFactor;
    const span = (this.#end - this.origin) * ptsFactor;

    switch (mode) {
      case 'exact': {
        const targets: PlannedTarget[] = [];
        let i = 0;
        for (let t = 0n; t < span; t += targetStep) {
          while (i + 1 < this.#pts.length && relative(i + 1) <= t) i++;
          targets.push(this.#targetFor(i));
        }
        return targets;
      }
      case 'keyframe': {
        // Timeline::pickKeyframes over keyframes whose pts are all known.
        const keys: number[] = [];
        this.#key.forEach((key, i) => {
          if (key) keys.push(i);
        });
        if (keys.length === 0) throw corruptInput('the video stream has no keyframes');
        const chosen: number[] = [];
        for (let t = 0n; t < span; t += targetStep) {
          const after = firstAbove(keys.length, (k) => relative(keys[k]) > t);
          let pick: number;
          if (after === 0) {
            pick = 0;
          } else if (after === keys.length) {
            pick = after - 1;
          } else {
            // The earlier keyframe on a tie.
            pick = t - relative(keys[after - 1]) <= relative(keys[after]) - t ? after - 1 : after;
          }
          if (chosen[chosen.length - 1] !== pick) chosen.push(pick);
        }
        return chosen.map((k) => this.#targetFor(keys[k]));
      }
      default:
        throw internal(`unknown sampling mode ${String(mode)}`);
    }
  }

  #targetFor(index: number): PlannedTarget {
    const pts = this.#pts[index];
    return {
      pts,
      frameIndex: index,
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

/** The interval's rational as Decoder::plan checks it: positive, finite, and not so small or large that it degenerates. */
function plannableInterval(seconds: number): Rational {
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw internal('plan: the interval must be a positive number');
  const interval = intervalRational(seconds);
  // Below about 2^-32 s (or past INT_MAX s) the rational degenerates; a step of 0 would never end a plan.
  if (interval.num <= 0n || interval.den <= 0n) throw internal('plan: the interval is outside what can be planned');
  return interval;
}

/** Decoder::checkTargetCount: refuses a plan of more than `maxTargets` targets before it is made. */
export function checkTargetCount(timeline: Timeline, intervalSeconds: number, maxTargets: number): void {
  const count = timeline.targetCount(intervalSeconds);
  if (count <= maxTargets) return;
  const tb = timeline.timeBase.num / timeline.timeBase.den;
  const interval = intervalRational(intervalSeconds);
  throw limitExceeded(
    `the video's ${secondsText(Number(timeline.end - timeline.origin) * tb)} every ` +
      `${secondsText(Number(interval.num) / Number(interval.den))} make ${count} targets, ` +
      `more than the limit of ${maxTargets} (maxTargets)`,
  );
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

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- FFmpeg's libavutil/rational.c, ported line by line ------------------

/** av_d2q: the rational nearest `d` with numerator and denominator <= max. */
function d2q(d: number, max: number): Rational {
  const intMax = 2 ** 31 - 1;
  if (Number.isNaN(d)) return { num: 0n, den: 0n };
  if (Math.abs(d) > intMax + 3) return { num: d < 0 ? -1n : 1n, den: 0n };
  // frexp(d) gives d = m * 2^e with 0.5 <= |m| < 1; FFmpeg takes max(e - 1, 0),
  // which is the double's unbiased exponent for |d| >= 1, and 0 below.
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, d);
  const exponent = Math.max(((bits.getUint16(0) >> 4) & 0x7ff) - 1023, 0);
  const den = 2 ** (61 - exponent);
  const num = BigInt(Math.floor(d * den + 0.5));
  let a = reduce(num, BigInt(den), BigInt(max));
  if ((a.num === 0n || a.den === 0n) && d !== 0 && max > 0 && max < intMax) {
    a = reduce(num, BigInt(den), BigInt(intMax));
  }
  return a;
}

/** av_reduce: num / den as the closest fraction with both terms <= max (continued fractions). */
function reduce(num: bigint, den: bigint, max: bigint): Rational {
  const negative = (num < 0n) !== (den < 0n);
  num = num < 0n ? -num : num;
  den = den < 0n ? -den : den;
  const divisor = gcd(num, den);
  if (divisor !== 0n) {
    num /= divisor;
    den /= divisor;
  }
  let a0: Rational = { num: 0n, den: 1n };
  let a1: Rational = { num: 1n, den: 0n };
  if (num <= max && den <= max) {
    a1 = { num, den };
    den = 0n;
  }
  while (den !== 0n) {
    let x = num / den;
    const nextDen = num - den * x;
    const a2n = x * a1.num + a0.num;
    const a2d = x * a1.den + a0.den;
    if (a2n > max || a2d > max) {
      // The best semiconvergent within max, if it is closer than a1.
      if (a1.num !== 0n) x = (max - a0.num) / a1.num;
      if (a1.den !== 0n) {
        const byDen = (max - a0.den) / a1.den;
        if (byDen < x) x = byDen;
      }
      if (den * (2n * x * a1.den + a0.den) > num * a1.den) {
        a1 = { num: x * a1.num + a0.num, den: x * a1.den + a0.den };
      }
      break;
    }
    a0 = a1;
    a1 = { num: a2n, den: a2d };
    num = den;
    den = nextDen;
  }
  return { num: negative ? -a1.num : a1.num, den: a1.den };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
