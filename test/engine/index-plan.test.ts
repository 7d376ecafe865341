/**
 * Both modes plan MP4/MOV inputs from the container's index, reading only
 * the packets they need, and must give what a scan of every packet gives:
 * each MP4/MOV fixture at each of its intervals (and ones that put targets
 * between keyframes and between frames), and a few more MP4s
 * (index-videos.ts), planned both ways through the backend: the same
 * outputs, frame indices, times and decoded pixels. Where the index cannot
 * give the scan's plan exactly, from the index alone or once packets are
 * read, the run scans, and its info says so with a keyframe list.
 */

import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { probe, shutdown, snapshot, type SamplingMode } from '../../src/index.js';
import type { NativeOpenResult, NativePlanResult } from '../../src/engine/binding.js';
import { loadBackend } from '../../src/engine/loader.js';
import { fixtureCases } from '../helpers/fixture-videos.js';
import { indexVideos } from '../helpers/index-videos.js';
import { canMake, fixturePath, type MadeFile } from '../helpers/made-file.js';
import { openAndPlan } from '../helpers/plan.js';

afterAll(shutdown);

interface RawRun {
  open: NativeOpenResult;
  plan: NativePlanResult;
  /** outputIndex, targetIndex, frameIndex, frameTime and a hash of the RGB pixels, in plan order. */
  outputs: { outputIndex: number; targetIndex: number; frameIndex: number; frameTime: number; pixels: string }[];
  scanPackets: number;
}

async function extract(path: string, mode: SamplingMode, interval: number, scan: boolean): Promise<RawRun> {
  const extractor = loadBackend().createExtractor({ path }, { lanes: 1, scan });
  try {
    const { opened: open, planned: plan } = await openAndPlan(extractor, mode, interval);
    const outputs: RawRun['outputs'] = [];
    for (;;) {
      const frame = new ArrayBuffer(plan.frameBytes);
      const decoded = await extractor.next(0, frame);
      if (decoded === null) break;
      const pixels = createHash('sha256').update(new Uint8Array(frame)).digest('hex');
      const { outputIndex, targetIndex, frameIndex, frameTime } = decoded;
      outputs.push({ outputIndex, targetIndex, frameIndex, frameTime, pixels });
    }
    return { open, plan, outputs, scanPackets: extractor.stats().scanPackets };
  } finally {
    extractor.close();
  }
}

interface IndexCase {
  name: string;
  file: MadeFile;
  available: boolean;
  planning: 'index' | 'scan';
  intervals: readonly number[];
  /** Its GOPs are short enough that exact mode every 2 s reads little of it. */
  shortGops: boolean;
}

const cases: IndexCase[] = [
  ...(await fixtureCases())
    .filter((f) => f.ext === 'mp4' || f.ext === 'mov')
    .map((f) => ({
      name: f.name,
      file: f,
      available: f.available,
      // Its edit list discards the frames before 1.3 s.
      planning: f.traits.discardedPackets ? ('scan' as const) : ('index' as const),
      intervals: [...f.intervals, 0.7],
      shortGops: f.traits.minKeyframeGap < 4,
    })),
  ...(await Promise.all(
    indexVideos.map(async (v) => ({
      name: v.name,
      file: v,
      available: await canMake(v),
      planning: v.planning,
      intervals: v.intervals,
      shortGops: true,
    })),
  )),
];

/**
 * How a run must plan: keyframe mode from the index wherever it can be
 * exact; exact mode too, except where the index predicts that the frames up
 * to each target come to three quarters of the stream or more (a scan reads
 * it once instead): every 0.1 s is that dense, every 2 s on these
 * few-second videos with short GOPs is not, and otherwise either is right.
 */
function expectedPlanning(
  mode: SamplingMode,
  { planning, shortGops }: Pick<IndexCase, 'planning' | 'shortGops'>,
  interval: number,
): 'index' | 'scan' | 'either' {
  if (mode === 'keyframe' || planning === 'scan') return planning;
  if (interval <= 0.1) return 'scan';
  return interval >= 2 && shortGops ? 'index' : 'either';
}

const modeCases = (['keyframe', 'exact'] as const).flatMap((mode) =>
  cases.map((c) => ({
    ...c,
    mode,
    // Exact mode also: several targets between two frames of one GOP, and a sparse plan.
    intervals: mode === 'exact' ? [...new Set([...c.intervals, 0.1, 2])] : c.intervals,
  })),
);

describe.each(modeCases)('$mode plan of $name', ({ mode, intervals, ...indexCase }) => {
  const { file, available } = indexCase;
  it.skipIf(!available).each(intervals)('is the scan plan, every %s s', async (interval) => {
    const path = await fixturePath(file);
    const auto = await extract(path, mode, interval, false);
    const scan = await extract(path, mode, interval, true);

    expect(auto.outputs.length).toBeGreaterThan(0);
    expect(auto.outputs).toEqual(scan.outputs);
    expect(auto.plan.outputCount).toBe(scan.plan.outputCount);
    const { keyframes, frameRate, ...times } = auto.open.info;
    const { keyframes: allKeyframes, frameRate: scanRate, ...scanTimes } = scan.open.info;
    expect(times).toEqual(scanTimes);
    expect(frameRate.average).toBe(scanRate.average);
    expect(allKeyframes).not.toBeNull();
    // The exact end the targets are planned against.
    expect([auto.open.durationTicks, auto.open.timeBase]).toEqual([scan.open.durationTicks, scan.open.timeBase]);

    // How the run planned: a scan reads every packet (after the few the index read, where open() tried it).
    const planned = auto.scanPackets < scan.scanPackets ? 'index' : 'scan';
    const expected = expectedPlanning(mode, indexCase, interval);
    if (expected !== 'either') expect(planned).toBe(expected);
    // open() says how it learned the stream's times: by a scan, with every keyframe, or from the index, without.
    if (keyframes !== null) {
      expect(keyframes).toEqual(allKeyframes);
      expect(frameRate.variable).toBe(scanRate.variable);
      expect(planned).toBe('scan');
    } else {
      // What only a scan learns is unknown.
      expect(frameRate.variable).toBeNull();
    }
    // Where the index cannot describe the stream (an edit list), open() scans.
    if (indexCase.planning === 'scan') expect(keyframes).toEqual(allKeyframes);
  });
});

/** The first MP4 that plans from its index; exact mode every 0.1 s there reads too much of it, and scans. */
const indexPlanned = cases.find((c) => c.planning === 'index' && c.available);

describe('a run whose plan falls back to a scan', () => {
  it.skipIf(indexPlanned === undefined)("says so in its info, with the keyframe list the scan learned", async () => {
    const path = await fixturePath(indexPlanned!.file);
    const probed = await probe(path, { backend: 'native' });
    const controller = new AbortController();
    const run = snapshot(path, { mode: 'exact', interval: 0.1, backend: 'native', signal: controller.signal });
    try {
      const { info } = await run.plan();
      // It scanned: every packet was read to plan.
      expect(run.stats().scanPackets).toBeGreaterThanOrEqual(probed.frameCount);
      expect(info.keyframes).toEqual(probed.keyframes);
      expect(info.frameRate.variable).toBe(probed.frameRate.variable);
    } finally {
      // A run that is never iterated is released through its signal.
      controller.abort();
    }
  });
});
