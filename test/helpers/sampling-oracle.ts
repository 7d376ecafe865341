/**
 * The oracle of the sampling rule, worked out from ffprobe's reading of a
 * video (oracle.ts) and the rule as the issue states it, independently of
 * src/engine/sampling.ts:
 *
 *   window     [start, E), E = min(end, the video's end); the video's end is
 *              where its last frame stops being shown
 *   interval   t_k = start + k * interval while t_k < E
 *   count      t_k = start + (k + 1/2) * (E - start) / N, k = 0 .. N-1
 *   times      each given time, in the order given (no window)
 *   exact      per target, the last frame whose time is <= t_k
 *   keyframe   per target, the nearest keyframe (the earlier on a tie) among
 *              those shown in the window where it holds any, else among all;
 *              each keyframe once, at the first target that chose it
 *
 * All arithmetic is on exact fractions: a frame's time is (pts - origin) x
 * time base, a number the test gives is the decimal it is written as.
 */

import { decimalFraction, frameTimeOf, type Mode, type ProbedVideo } from './oracle.js';

export type SamplingSpec =
  | { interval?: number; start?: number; end?: number }
  | { count: number; start?: number; end?: number }
  | { times: readonly number[] };

export interface ExpectedSample {
  /** Position among the outputs. */
  outputIndex: number;
  frameIndex: number;
  frameTime: number;
  /** Seconds of the (first) target time the output answers. */
  targetTime: number;
}

/** num / den exactly, den > 0. */
interface Fraction {
  num: bigint;
  den: bigint;
}

const fraction = (num: bigint, den: bigint): Fraction => ({ num, den });
const cmp = (a: Fraction, b: Fraction): number => {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
};
const add = (a: Fraction, b: Fraction): Fraction => fraction(a.num * b.den + b.num * a.den, a.den * b.den);
const sub = (a: Fraction, b: Fraction): Fraction => fraction(a.num * b.den - b.num * a.den, a.den * b.den);
const absolute = (a: Fraction): Fraction => fraction(a.num < 0n ? -a.num : a.num, a.den);
const toNumber = (a: Fraction): number => Number(a.num) / Number(a.den);

/** Seconds from the first frame to frame `i`. */
function timeOfFrame(video: ProbedVideo, i: number): Fraction {
  return fraction((video.pts[i] - video.origin) * video.timeBase.num, video.timeBase.den);
}

/** Seconds from the first frame to the end of the last, exactly. */
export function videoEnd(video: ProbedVideo): Fraction {
  return fraction((video.end - video.origin) * video.timeBase.num, video.timeBase.den);
}

/** The video's end in seconds, as a number. */
export function videoEndSeconds(video: ProbedVideo): number {
  return toNumber(videoEnd(video));
}

/** The target times of `spec`, and the window keyframe mode prefers (none for chosen times). */
export function targetTimes(video: ProbedVideo, spec: SamplingSpec): { times: Fraction[]; window: [Fraction, Fraction] | undefined } {
  if ('times' in spec) return { times: spec.times.map(decimalFraction), window: undefined };
  const start = decimalFraction(spec.start ?? 0);
  const fullEnd = videoEnd(video);
  const end = spec.end === undefined || cmp(decimalFraction(spec.end), fullEnd) > 0 ? fullEnd : decimalFraction(spec.end);
  const times: Fraction[] = [];
  if ('count' in spec) {
    const n = BigInt(spec.count);
    const span = sub(end, start);
    for (let k = 0n; k < n; k++) times.push(add(start, fraction((2n * k + 1n) * span.num, 2n * n * span.den)));
  } else {
    const step = decimalFraction(spec.interval ?? 1);
    for (let k = 0n; ; k++) {
      const t = add(start, fraction(k * step.num, step.den));
      if (cmp(t, end) >= 0) break;
      times.push(t);
    }
  }
  return { times, window: [start, end] };
}

/** The seconds where a run's times end: the window's end, or the video's. */
export function windowEndSeconds(video: ProbedVideo, spec: SamplingSpec): number {
  const { window } = targetTimes(video, spec);
  return toNumber(window?.[1] ?? videoEnd(video));
}

/** The outputs the rule asks for, in order. */
export function expectedSamples(video: ProbedVideo, spec: SamplingSpec, mode: Mode): ExpectedSample[] {
  const { times, window } = targetTimes(video, spec);
  const picks: { frame: number; target: Fraction }[] = [];
  if (mode === 'exact') {
    for (const t of times) {
      let frame = 0;
      while (frame + 1 < video.pts.length && cmp(timeOfFrame(video, frame + 1), t) <= 0) frame++;
      picks.push({ frame, target: t });
    }
  } else {
    const keys = video.pts.flatMap((_, i) => (video.key[i] ? [i] : []));
    const shown = window === undefined ? [] : keys.filter((i) => cmp(timeOfFrame(video, i), window[0]) >= 0 && cmp(timeOfFrame(video, i), window[1]) < 0);
    const candidates = shown.length > 0 ? shown : keys;
    const taken = new Set<number>();
    for (const t of times) {
      let best = candidates[0];
      for (const i of candidates) {
        // Strictly nearer only: a tie keeps the earlier keyframe.
        if (cmp(absolute(sub(timeOfFrame(video, i), t)), absolute(sub(timeOfFrame(video, best), t))) < 0) best = i;
      }
      if (taken.has(best)) continue;
      taken.add(best);
      picks.push({ frame: best, target: t });
    }
  }
  return picks.map(({ frame, target }, outputIndex) => ({
    outputIndex,
    frameIndex: frame,
    frameTime: frameTimeOf(video, video.pts[frame]),
    targetTime: toNumber(target),
  }));
}
