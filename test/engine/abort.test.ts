/**
 * Aborting a run, at each stage it can be in, rejects with VSNAP_ABORTED
 * promptly, and leaves the engine able to run again. Every test has a short
 * timeout: a run that hangs fails it.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdown, snapshot, snapshotToFiles, VsnapError, type Snapshot } from '../../src/index.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath, scratchPath } from '../helpers/made-file.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { expectedOutputs } from '../helpers/oracle.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

const timeout = 20_000;
// 12 outputs in exact mode at 1 s, most decoded forward through a 10 s GOP: a run with room to stop in.
const longGop = fixtureNamed('mp4-long-gop');
const options = { mode: 'exact', interval: 1, format: 'png' } as const;

afterAll(shutdown);

function expectAborted(error: unknown): void {
  expect(error).toBeInstanceOf(VsnapError);
  expect((error as VsnapError).code).toBe('VSNAP_ABORTED');
}

describe('abort', () => {
  let path: string;
  let planned: number;

  beforeAll(async () => {
    path = await fixturePath(longGop);
    planned = expectedOutputs(await fixtureVideo(longGop), options.interval, options.mode).length;
  });

  it('rejects a run whose signal is already aborted', async () => {
    expectAborted(await failureOf(() => collect(path, { ...options, signal: AbortSignal.abort() })));
  }, timeout);

  it('stops a run aborted while its input opens', async () => {
    const controller = new AbortController();
    const running = collect(path, { ...options, signal: controller.signal });
    controller.abort();
    expectAborted(await failureOf(() => running));
  }, timeout);

  it('stops a run aborted after its first snapshot, before the rest', async () => {
    const controller = new AbortController();
    const seen: Snapshot[] = [];
    const error = await failureOf(async () => {
      for await (const output of snapshot(path, { ...options, signal: controller.signal })) {
        seen.push(output);
        if (seen.length === 1) controller.abort();
      }
    });
    expectAborted(error);
    expect(seen.length).toBe(1);
    expect(planned).toBeGreaterThan(1);
  }, timeout);

  it('stops snapshotToFiles() while it runs', async () => {
    const controller = new AbortController();
    const writing = snapshotToFiles(path, await scratchPath('abort-out'), { ...options, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    expectAborted(await failureOf(() => writing));
  }, timeout);

  it('ends a run the consumer leaves early, with final stats', async () => {
    const run = snapshot(path, options);
    let taken = 0;
    for await (const output of run) {
      expect(output.outputIndex).toBe(taken);
      taken++;
      if (taken === 2) break;
    }
    const stats = run.stats();
    expect(stats.framesDecoded).toBeGreaterThanOrEqual(2);
    expect(stats).toEqual(run.stats());
  }, timeout);

  it('leaves the engine able to run the same input to the end afterwards', async () => {
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const running = collect(path, { ...options, signal: controller.signal });
      setTimeout(() => controller.abort(), i * 10);
      expectAborted(await failureOf(() => running));
    }
    const { outputs } = await collect(path, options);
    expect(outputs.length).toBe(planned);
  }, timeout);
});
