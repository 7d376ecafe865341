/**
 * Runs in flight together, on different files and on one shared Buffer,
 * give exactly what each gives alone: the native side shares no state
 * between runs.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdown, type SnapshotInput, type SnapshotOptions } from '../../src/index.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { collect } from '../helpers/snapshot-run.js';

afterAll(shutdown);

const outputsOf = async (input: SnapshotInput, options: SnapshotOptions) => (await collect(input, options)).outputs;

describe('concurrent runs', () => {
  it('on different files and modes match the same runs made one at a time', async () => {
    const jobs = await Promise.all(
      (['mp4-bframes', 'mkv-open-gop', 'webm-vp9', 'mp4-hevc', 'mp4-long-gop', 'avi-mpeg4'] as const).map((name, i) =>
        fixturePath(fixtureNamed(name)).then((path) => ({ path, options: { mode: i % 2 === 0 ? 'exact' : 'keyframe', interval: 1, format: 'png' } as const })),
      ),
    );
    const alone = [];
    for (const job of jobs) alone.push(await outputsOf(job.path, job.options));
    const together = await Promise.all(jobs.map((job) => outputsOf(job.path, job.options)));
    expect(together).toEqual(alone);
  });

  it('on one shared Buffer match a run made alone', async () => {
    const bytes = await readFile(await fixturePath(fixtureNamed('mp4-h264')));
    const options = { mode: 'exact', interval: 1, format: 'png' } as const;
    const alone = await outputsOf(bytes, options);
    const together = await Promise.all(Array.from({ length: 4 }, () => outputsOf(bytes, options)));
    for (const outputs of together) expect(outputs).toEqual(alone);
  });
});
