/**
 * The limits of one snapshot run, so that no input holds a process hostage:
 * a video too long, frames too large, or a plan of too many targets (a tiny
 * interval on a long video, or a small file that declares a huge duration).
 * Each is refused with VSNAP_LIMIT_EXCEEDED, naming the limit, before
 * anything is decoded: the target count before the plan is made (in the
 * backend), the duration and the frame size as soon as the input is open.
 *
 * A limit comes from the run's `limits` option, else its environment
 * variable, else the default below. The service sets the variables from its
 * configuration, so its worker processes inherit them.
 */

import { invalidOption, limitExceeded, unknownOption } from './errors.js';

export interface Limits {
  /** Seconds from the first frame to the end of the last. */
  maxDuration: number;
  /** Width x height of the coded frame. */
  maxPixels: number;
  /** Targets t_k = k * interval (duration / interval): the images of exact mode, an upper bound in keyframe mode. */
  maxTargets: number;
}

export const defaultLimits: Readonly<Limits> = Object.freeze({
  maxDuration: 12 * 3600,
  // 8192 x 8192: 8K (7680 x 4320) and every shape below it.
  maxPixels: 8192 * 8192,
  // One image a second for almost 28 hours.
  maxTargets: 100_000,
});

export const limitEnv: Readonly<Record<keyof Limits, string>> = Object.freeze({
  maxDuration: 'VSNAP_MAX_DURATION',
  maxPixels: 'VSNAP_MAX_PIXELS',
  maxTargets: 'VSNAP_MAX_TARGETS',
});

const limitNames = Object.keys(defaultLimits) as (keyof Limits)[];

/** Validates the `limits` option (undefined: none given) and fills each limit from the environment or the default. */
export function resolveLimits(given: unknown, name: string): Limits {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw invalidOption(name, 'an object of limits', given);
  }
  const values = (given ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (!(limitNames as string[]).includes(key)) throw unknownOption(`${name}.${key}`, limitNames.map((k) => `${name}.${k}`));
  }
  const resolved = { ...defaultLimits };
  for (const key of limitNames) {
    const fromEnv = process.env[limitEnv[key]];
    if (values[key] !== undefined) resolved[key] = checkLimit(values[key], `${name}.${key}`, key);
    else if (fromEnv !== undefined && fromEnv !== '') resolved[key] = checkLimit(Number(fromEnv), limitEnv[key], key);
  }
  return resolved;
}

function checkLimit(value: unknown, name: string, key: keyof Limits): number {
  const ok =
    typeof value === 'number' &&
    value > 0 &&
    (key === 'maxDuration' ? Number.isFinite(value) : Number.isSafeInteger(value));
  if (!ok) throw invalidOption(name, key === 'maxDuration' ? 'a number of seconds greater than 0' : 'an integer greater than 0', value);
  return value as number;
}

/** Refuses an opened input over the duration or frame-size limit. */
export function checkInputLimits(info: { duration: number; width: number; height: number }, limits: Limits): void {
  if (info.duration > limits.maxDuration) {
    throw limitExceeded(
      `the video lasts ${info.duration} s, more than the limit of ${limits.maxDuration} s (maxDuration)`,
    );
  }
  const pixels = info.width * info.height;
  if (pixels > limits.maxPixels) {
    throw limitExceeded(
      `the video's ${info.width}x${info.height} frames have ${pixels} pixels, more than the limit of ${limits.maxPixels} (maxPixels)`,
    );
  }
}
