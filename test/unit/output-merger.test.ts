/**
 * The merger between decode lanes and the consumer, driven by simulated
 * lanes that take segments from a shared queue at random speeds: outputs
 * come in plan order, the frames alive never exceed the slots, and no
 * schedule deadlocks.
 */

import { describe, expect, it } from 'vitest';

import { OutputMerger } from '../../src/engine/output-merger.js';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const tick = (random: () => number) => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)));

async function simulate(seed: number, lanes: number, slots: number, segmentSizes: number[]) {
  const random = seeded(seed);
  const starts = segmentSizes.reduce<number[]>((acc, size) => [...acc, (acc.at(-1) ?? 0) + size], [0]);
  const outputCount = starts.at(-1) ?? 0;
  const merger = new OutputMerger<number>(lanes, slots, outputCount);
  let nextSegment = 0;
  let alive = 0;
  let mostAlive = 0;

  const lane = async (id: number) => {
    let cursor = 0;
    let end = 0;
    while (await merger.acquire(id)) {
      if (cursor >= end) {
        const segment = nextSegment++;
        if (segment >= segmentSizes.length) {
          merger.release(id);
          break;
        }
        [cursor, end] = [starts[segment] ?? 0, starts[segment + 1] ?? 0];
      }
      alive += 1;
      mostAlive = Math.max(mostAlive, alive);
      await tick(random);
      merger.put(id, cursor, cursor);
      cursor += 1;
    }
    merger.end(id);
  };

  const running = Array.from({ length: lanes }, (_, id) => lane(id));
  const taken: number[] = [];
  for (;;) {
    const next = await merger.take();
    if (next.done) break;
    taken.push(next.item);
    alive -= 1;
    merger.release(next.lane);
    await tick(random);
  }
  await Promise.all(running);
  return { taken, outputCount, mostAlive };
}

describe('OutputMerger', () => {
  it.each([
    { lanes: 1, slots: 1 },
    { lanes: 2, slots: 2 },
    { lanes: 2, slots: 5 },
    { lanes: 3, slots: 4 },
    { lanes: 4, slots: 16 },
  ])('gives every output in order within $slots slots on $lanes lanes', async ({ lanes, slots }) => {
    for (let seed = 1; seed <= 8; seed++) {
      const random = seeded(seed * 97);
      const sizes = Array.from({ length: 12 }, () => 1 + Math.floor(random() * 9));
      const { taken, outputCount, mostAlive } = await simulate(seed, lanes, slots, sizes);
      expect(taken).toEqual(Array.from({ length: outputCount }, (_, k) => k));
      expect(mostAlive).toBeLessThanOrEqual(slots);
    }
  });

  it('fails the run when a lane gives an output out of order', () => {
    const merger = new OutputMerger<number>(1, 1, 3);
    merger.put(0, 1, 1);
    expect(() => merger.put(0, 0, 0)).toThrow(/out of order/);
  });
});
