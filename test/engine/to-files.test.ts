/**
 * snapshotToFiles(): the same snapshots as snapshot(), written as
 * dir/snapshot_K.EXT, with the oracle's frames, the stats and the info.
 */

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probe, shutdown, snapshotToFiles } from '../../src/index.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath, scratchPath } from '../helpers/made-file.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { expectedOutputs } from '../helpers/oracle.js';
import { collect } from '../helpers/snapshot-run.js';

afterAll(shutdown);

describe('snapshotToFiles', () => {
  it.each(['mp4-vfr', 'mp4-edit-list'])('writes the oracle frames of %s, byte for byte those of snapshot()', async (name) => {
    const fixture = fixtureNamed(name);
    const path = await fixturePath(fixture);
    const video = await fixtureVideo(fixture);
    const options = { mode: 'exact', interval: 1, format: 'png' } as const;
    const dir = await scratchPath(`to-files-${name}`);
    await rm(dir, { recursive: true, force: true });

    const result = await snapshotToFiles(path, dir, options);
    const expected = expectedOutputs(video, options.interval, options.mode);
    const { displayWidth: width, displayHeight: height } = video;
    expect(result.files).toEqual(
      expected.map((e, k) => ({
        outputIndex: k,
        frameIndex: e.frameIndex,
        frameTime: e.frameTime,
        path: join(dir, `snapshot_${k}.png`),
        width,
        height,
      })),
    );
    // A run without sprite writes no sheets.
    expect(result.sheets).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(expected.map((_, k) => `snapshot_${k}.png`).sort());

    const { outputs, stats } = await collect(path, options);
    for (const [k, output] of outputs.entries()) expect((await readFile(result.files[k].path)).equals(output.data)).toBe(true);
    // Which lane takes which segment varies from run to run, and with it
    // where seeks are avoided; what the plan fixes does not vary.
    expect(result.stats.decodeErrors).toBe(stats.decodeErrors);
    expect(result.stats.scanPackets).toBe(stats.scanPackets);
    expect(result.stats.framesDecoded).toBeGreaterThanOrEqual(new Set(expected.map((e) => e.frameIndex)).size);
    // The run skipped probing the MP4's streams, so it does not know the pixel format (plan-info.test.ts).
    expect(result.info).toEqual({ ...(await probe(path)), pixelFormat: null });
  });
});
