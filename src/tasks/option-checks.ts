/**
 * Checks of the task floor's constructor options, one message format
 * (VSNAP_INVALID_OPTION naming the option), shared by the supervisor, the
 * Redis queue and the worker node.
 */

import { invalidOption } from '../errors.js';

/** setTimeout's largest delay: a longer one fires at once, so no timing option may exceed it. */
export const maxTimerMs = 2 ** 31 - 1;

/** An integer from 1 to `max`; `fallback` when absent, or required when there is none. */
export function positiveInteger(value: unknown, name: string, fallback: number | undefined, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max) return value;
  throw invalidOption(name, `an integer from 1 to ${max}`, value);
}

export function nonNegativeInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw invalidOption(name, 'an integer of 0 or more', value);
}

/** A Redis URL and key prefix, as both the API side and the worker node take them. */
export function redisLocation(url: unknown, prefix: unknown, defaultPrefix: string): { url: string; prefix: string } {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url) || !URL.canParse(url)) {
    throw invalidOption('url', 'a redis:// or rediss:// URL', url);
  }
  const chosen = prefix ?? defaultPrefix;
  if (typeof chosen !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(chosen)) {
    throw invalidOption('prefix', 'letters, digits, _ . or -', chosen);
  }
  return { url, prefix: chosen };
}
