/**
 * The per-key request rate limit: one token bucket per API key id.
 *
 * A key with limit `qps` holds at most `qps` tokens (its burst) and earns
 * `qps` tokens per second; each request admitted spends one. So a client
 * that keeps to `qps` requests per second, in even steps or in one burst per
 * second, is never refused, and no client gets more than `qps × (1 + t)`
 * requests through in any span of t seconds.
 * A refused request spends nothing, so a client that backs off as told by
 * Retry-After gets through at once.
 *
 * `take` answers undefined when the request may go on, else the whole
 * seconds to wait before one token is there (at least 1, the unit of
 * Retry-After). It throws nothing: the route layer turns a wait into
 * rateQuotaExceeded.
 *
 * Memory: a bucket that has refilled completely is the same as no bucket,
 * so such buckets are dropped by a sweep at most every `sweepIntervalMs`;
 * only keys active in the last second or so keep an entry.
 *
 * Time is milliseconds from a monotonic clock (performance.now()), so a
 * wall-clock jump neither refills nor drains the buckets; tests pass `now`.
 */

import { performance } from 'node:perf_hooks';

/**
 * The highest rate a key or the default may be given. The bucket works at
 * any rate; the ceiling only catches a mistyped setting.
 */
export const maxQps = 1_000_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms. */
  updatedAt: number;
}

export interface RateLimiterOptions {
  /** How often full buckets are dropped, in ms. Default 10 s. */
  sweepIntervalMs?: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #sweepIntervalMs: number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: RateLimiterOptions = {}) {
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
  }

  /**
   * Admits one request of `keyId` at `qps` requests per second (a positive
   * number, as the KeyRing guarantees). Returns undefined when admitted,
   * else the seconds to wait.
   */
  take(keyId: string, qps: number, now: number = performance.now()): number | undefined {
    this.#sweep(now);
    let bucket = this.#buckets.get(keyId);
    if (bucket === undefined) {
      bucket = { tokens: qps, updatedAt: now };
      this.#buckets.set(keyId, bucket);
    }
    // max(0, …): a clock that stepped back (a misused `now`) earns nothing rather than losing tokens.
    const earned = (Math.max(0, now - bucket.updatedAt) / 1000) * qps;
    bucket.tokens = Math.min(qps, bucket.tokens + earned);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / qps));
  }

  /** Buckets held now, to check the memory bound. */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#sweepIntervalMs) return;
    this.#lastSweep = now;
    for (const [keyId, bucket] of this.#buckets) {
      // A bucket holds `qps` tokens and earns `qps` a second, so one untouched
      // for a second is full, whatever its key's rate.
      if (now - bucket.updatedAt >= 1000) this.#buckets.delete(keyId);
    }
  }
}
