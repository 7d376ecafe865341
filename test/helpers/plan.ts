/**
 * Planning a run by hand, below snapshot(): the targets of an interval as the
 * engine makes them (src/engine/sampling.ts, the same rule as open-run.ts),
 * for tests that drive an extractor or a wasm Timeline directly.
 */

import type { NativeOpenResult, NativePlanResult } from '../../src/engine/binding.js';
import type { Extractor } from '../../src/engine/backend.js';
import { packRationals, planTargets, type PlannedTargets } from '../../src/engine/sampling.js';
import type { SamplingMode } from '../../src/index.js';
import type { Timeline } from '../../wasm/timeline.js';

/** No limit on the number of targets: the tests that need one pass it. */
const noLimit = Number.MAX_SAFE_INTEGER;

/** Targets every `interval` seconds over the whole of a video that ends `ticks` of `timeBase` after its first frame. */
export function intervalTargets(
  end: Pick<NativeOpenResult, 'durationTicks' | 'timeBase'>,
  interval: number,
  maxTargets = noLimit,
): PlannedTargets {
  return planTargets(
    { kind: 'interval', interval, start: 0, end: undefined },
    { ticks: end.durationTicks, timeBase: end.timeBase },
    maxTargets,
    (key) => key,
  );
}

/** The targets every `interval` seconds of a wasm Timeline, as its extractor's open() reports its end. */
export function timelineTargets(timeline: Timeline, interval: number, maxTargets = noLimit): PlannedTargets {
  const { num, den } = timeline.timeBase;
  return intervalTargets({ durationTicks: Number(timeline.end - timeline.origin), timeBase: [num, den] }, interval, maxTargets);
}

/** Plans an opened extractor's outputs every `interval` seconds in `mode`, at the coded size. */
export function planInterval(
  extractor: Extractor,
  opened: NativeOpenResult,
  mode: SamplingMode,
  interval: number,
  maxTargets = noLimit,
): Promise<NativePlanResult> {
  const { times, window } = intervalTargets(opened, interval, maxTargets);
  return extractor.plan({
    mode,
    targets: packRationals(times),
    window: window === undefined ? undefined : packRationals([window.start, window.end]),
  });
}

/** Opens `extractor`, then plans it every `interval` seconds in `mode`. */
export async function openAndPlan(
  extractor: Extractor,
  mode: SamplingMode,
  interval: number,
  maxTargets = noLimit,
): Promise<{ opened: NativeOpenResult; planned: NativePlanResult }> {
  const opened = await extractor.open();
  const planned = await planInterval(extractor, opened, mode, interval, maxTargets);
  return { opened, planned };
}
