import { describe, expect, it } from 'vitest';

import { RateLimiter } from '../../src/http/rate-limit.js';

/** How many of `count` requests of one key, `stepMs` apart from `start`, are admitted. */
function admitted(limiter: RateLimiter, qps: number, count: number, stepMs: number, start = 0, keyId = 'k'): number {
  let passed = 0;
  for (let i = 0; i < count; i += 1) if (limiter.take(keyId, qps, start + i * stepMs) === undefined) passed += 1;
  return passed;
}

describe('RateLimiter', () => {
  it('admits a burst of qps requests and refuses the next with a 1 s wait', () => {
    const limiter = new RateLimiter();
    expect([1, 2, 3, 4, 5].map(() => limiter.take('ci', 5, 0))).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(limiter.take('ci', 5, 0)).toBe(1);
    expect(limiter.take('ci', 5, 199)).toBe(1);
  });

  it('earns qps tokens a second, never more than qps', () => {
    const limiter = new RateLimiter();
    expect(admitted(limiter, 5, 5, 0)).toBe(5);
    expect(limiter.take('k', 5, 200)).toBeUndefined();
    expect(limiter.take('k', 5, 200)).toBe(1);
    expect(admitted(limiter, 5, 10, 0, 60_000)).toBe(5);
  });

  it('never refuses a client that keeps to qps, evenly or in one burst a second', () => {
    const even = new RateLimiter();
    expect(admitted(even, 5, 100, 200)).toBe(100);
    const bursty = new RateLimiter();
    for (let second = 0; second < 20; second += 1) expect(admitted(bursty, 5, 5, 0, second * 1000)).toBe(5);
  });

  it.each([
    [1, 10],
    [5, 10],
    [20, 3],
  ])('lets a hammering client through at most qps + qps × seconds (qps %i over %i s)', (qps, seconds) => {
    const limiter = new RateLimiter();
    const passed = admitted(limiter, qps, seconds * 1000, 1);
    expect(passed).toBeLessThanOrEqual(qps + qps * seconds);
    expect(passed).toBeGreaterThanOrEqual(qps * seconds);
  });

  it('spends nothing on refused requests, so a client that waits as told gets through', () => {
    const limiter = new RateLimiter();
    admitted(limiter, 2, 2, 0);
    const wait = limiter.take('k', 2, 0);
    expect(wait).toBe(1);
    for (let t = 1; t < 500; t += 7) limiter.take('k', 2, t);
    expect(limiter.take('k', 2, (wait as number) * 1000)).toBeUndefined();
  });

  it('keeps each key to its own bucket and rate', () => {
    const limiter = new RateLimiter();
    expect(admitted(limiter, 1, 3, 0, 0, 'slow')).toBe(1);
    expect(admitted(limiter, 20, 30, 0, 0, 'fast')).toBe(20);
    expect(limiter.take('slow', 1, 999)).toBe(1);
    expect(limiter.take('slow', 1, 1000)).toBeUndefined();
  });

  it('answers a whole number of seconds of at least 1', () => {
    const limiter = new RateLimiter();
    limiter.take('k', 1, 0);
    for (const t of [1, 250, 500, 999]) {
      const wait = limiter.take('k', 1, t);
      expect(Number.isInteger(wait)).toBe(true);
      expect(wait).toBe(1);
    }
  });

  it('earns nothing when the clock steps back', () => {
    const limiter = new RateLimiter();
    admitted(limiter, 5, 5, 0, 10_000);
    expect(limiter.take('k', 5, 5_000)).toBe(1);
    expect(limiter.take('k', 5, 5_199)).toBe(1);
    expect(limiter.take('k', 5, 5_200)).toBeUndefined();
  });

  it('drops the buckets of idle keys and keeps the active ones', () => {
    const limiter = new RateLimiter({ sweepIntervalMs: 5_000 });
    for (let i = 0; i < 1000; i += 1) limiter.take(`key-${i}`, 5, 0);
    expect(limiter.size).toBe(1000);
    limiter.take('active', 5, 4_500);
    limiter.take('key-7', 5, 4_600);
    expect(limiter.size).toBe(1001);
    limiter.take('active', 5, 5_000);
    expect(limiter.size).toBe(2);
  });

  it('gives an idle key whose bucket was dropped the full burst it would have refilled', () => {
    const limiter = new RateLimiter({ sweepIntervalMs: 1 });
    admitted(limiter, 3, 3, 0);
    expect(limiter.take('k', 3, 0)).toBe(1);
    limiter.take('other', 3, 1000);
    expect(limiter.size).toBe(1);
    expect(admitted(limiter, 3, 4, 0, 1000)).toBe(3);
  });
});
