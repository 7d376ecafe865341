/**
 * The sampling rule, written once above both backends: which times a run
 * asks for, from its options and the video's timeline. A backend then maps
 * each time to a frame by the time model (native/core/Timeline.h, and
 * wasm/timeline.ts): in exact mode the frame shown at it, in keyframe mode
 * the nearest keyframe, preferring those shown in the window.
 *
 * Times are seconds since the first frame, exact rationals: a number the
 * caller gives is the decimal JavaScript prints for it (0.3 is 3/10), and
 * the video's end is its tick count times its time base, so a target on a
 * frame's own time picks that frame.
 *
 *   interval  t_k = start + k * interval, while t_k < min(end, the video's end)
 *   count     t_k = start + (k + 1/2) * (E - start) / N, k = 0 .. N-1,
 *             E = min(end, the video's end)
 *   times     each given time, in the order given
 *
 * A start at or past the video's end, or a chosen time past it, reaches no
 * frame: VSNAP_INVALID_OPTION naming the option, never an empty success.
 * A plan of more than maxTargets targets is VSNAP_LIMIT_EXCEEDED, counted
 * before any target is made.
 */

import { invalidOption, limitExceeded } from '../errors.js';

/** num / den exactly, den > 0. */
export interface Rational {
  num: bigint;
  den: bigint;
}

/** Which times a run asks for (options.ts resolves it). */
export type Sampling =
  | { kind: 'interval'; interval: number; start: number; end: number | undefined }
  | { kind: 'count'; count: number; start: number; end: number | undefined }
  | { kind: 'times'; times: readonly number[] };

/** The exact end of a video: `ticks` (since its first frame) of `timeBase` seconds. */
export interface VideoEnd {
  ticks: number;
  timeBase: readonly [number, number];
}

export interface PlannedTargets {
  times: Rational[];
  /** Where keyframe mode prefers its keyframes; undefined for chosen times (no window). */
  window: { start: Rational; end: Rational } | undefined;
}

/** How the options are named in errors, by the face that gave them. */
export type OptionNamer = (key: string) => string;

export function planTargets(sampling: Sampling, end: VideoEnd, maxTargets: number, nameOf: OptionNamer): PlannedTargets {
  const videoEnd = reduce({ num: BigInt(end.ticks) * BigInt(end.timeBase[0]), den: BigInt(end.timeBase[1]) });
  if (sampling.kind === 'times') {
    const times = sampling.times.map((time, i) => {
      const t = decimal(time);
      if (compare(t, videoEnd) >= 0) {
        throw invalidOption(`${nameOf('times')}[${i}]`, `a time before the video's end, ${seconds(videoEnd)} s`, time);
      }
      return t;
    });
    if (times.length > maxTargets) throw tooMany(times.length, maxTargets);
    return { times, window: undefined };
  }
  const start = decimal(sampling.start);
  if (compare(start, videoEnd) >= 0) {
    throw invalidOption(nameOf('start'), `a time before the video's end, ${seconds(videoEnd)} s`, sampling.start);
  }
  const windowEnd = sampling.end === undefined ? videoEnd : min(decimal(sampling.end), videoEnd);
  const span = subtract(windowEnd, start);
  const window = { start, end: windowEnd };
  if (sampling.kind === 'count') {
    if (sampling.count > maxTargets) throw tooMany(sampling.count, maxTargets);
    const n = BigInt(sampling.count);
    // start + (2k + 1) * span / (2N)
    const times = Array.from({ length: sampling.count }, (_, k) =>
      add(start, reduce({ num: BigInt(2 * k + 1) * span.num, den: 2n * n * span.den })),
    );
    return { times, window };
  }
  const interval = decimal(sampling.interval);
  // k = 0 .. ceil(span / interval) - 1
  const count = (span.num * interval.den + interval.num * span.den - 1n) / (interval.num * span.den);
  if (count > BigInt(maxTargets)) throw tooMany(count, maxTargets);
  const times = Array.from({ length: Number(count) }, (_, k) =>
    add(start, reduce({ num: BigInt(k) * interval.num, den: interval.den })),
  );
  return { times, window };
}

/**
 * The rationals as a backend takes them: numerator, denominator, pair after
 * pair, each within 2^62. One that is not (a count's centre between odd
 * decimals) is rounded to the nearest multiple of 2^-40 s, a picosecond
 * short of any frame time's precision.
 */
export function packRationals(values: readonly Rational[]): BigInt64Array {
  const packed = new BigInt64Array(values.length * 2);
  values.forEach((value, i) => {
    const fits = value.num < int62 && value.den < int62;
    packed[2 * i] = fits ? value.num : (value.num * fine + value.den / 2n) / value.den;
    packed[2 * i + 1] = fits ? value.den : fine;
  });
  return packed;
}

const int62 = 1n << 62n;
const fine = 1n << 40n;

/** A number as the decimal JavaScript prints for it: 0.3 is 3/10, 1e-7 is 1/10000000. */
export function decimal(value: number): Rational {
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const [whole, fraction = ''] = mantissa.split('.');
  const digits = BigInt(whole + fraction);
  const shift = exponent - fraction.length;
  return reduce(shift >= 0 ? { num: digits * 10n ** BigInt(shift), den: 1n } : { num: digits, den: 10n ** BigInt(-shift) });
}

export function compare(a: Rational, b: Rational): number {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Seconds as a number, for messages and reports. */
export function seconds(value: Rational): number {
  return Number(value.num) / Number(value.den);
}

function add(a: Rational, b: Rational): Rational {
  return reduce({ num: a.num * b.den + b.num * a.den, den: a.den * b.den });
}

function subtract(a: Rational, b: Rational): Rational {
  return reduce({ num: a.num * b.den - b.num * a.den, den: a.den * b.den });
}

function min(a: Rational, b: Rational): Rational {
  return compare(a, b) <= 0 ? a : b;
}

function reduce(value: Rational): Rational {
  const divisor = gcd(value.num < 0n ? -value.num : value.num, value.den);
  return divisor > 1n ? { num: value.num / divisor, den: value.den / divisor } : value;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

function tooMany(count: number | bigint, maxTargets: number) {
  return limitExceeded(`the plan has ${count} targets, more than the limit of ${maxTargets} (maxTargets)`);
}
