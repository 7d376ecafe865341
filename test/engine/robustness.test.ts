/**
 * Damaged videos, many times over, in this process, on both backends:
 * whatever the damage, a run either yields well-formed snapshots or rejects
 * with a VsnapError of a documented input code. A crash of the native side
 * ends the worker and fails the file; a hang fails on the timeout; a trap in
 * the wasm core would surface as VSNAP_INTERNAL and fail the case.
 */

import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdown, VsnapError, type BackendName, type SamplingMode, type SnapshotInput } from '../../src/index.js';
import { corruptedBytes, truncatedBytes } from '../helpers/bad-inputs.js';
import { fixtureCases } from '../helpers/fixture-videos.js';
import { collect } from '../helpers/snapshot-run.js';

afterAll(shutdown);

/** One per demuxer family, plus the reordering and discard cases. */
const damaged = ['mp4-h264', 'mp4-hevc', 'mp4-edit-list', 'mkv-open-gop', 'webm-vp9', 'webm-av1', 'avi-mpeg4', 'flv-h264', 'ts-h264'];
const seeds = [1, 2, 3];
/** Runs of overwritten bytes: 100 leaves most files playable with decode errors, 400 breaks many. */
const damageLevels = [100, 400];
const cuts = [0.1, 0.5, 0.9];
const modes: readonly SamplingMode[] = ['exact', 'keyframe'];
// Damaged timestamps can make a video seem to last days: the target limit refuses it.
const inputCodes = ['VSNAP_UNSUPPORTED_INPUT', 'VSNAP_NO_VIDEO_STREAM', 'VSNAP_CORRUPT_INPUT', 'VSNAP_LIMIT_EXCEEDED'];
const backends: readonly BackendName[] = ['native', 'wasm'];

/** Runs the engine on a damaged input and checks that it ends in one of the two allowed ways. */
async function expectGracefulRun(input: SnapshotInput, mode: SamplingMode, backend: BackendName): Promise<void> {
  let outputs;
  try {
    ({ outputs } = await collect(input, { mode, interval: 1, format: 'jpg', backend }));
  } catch (error) {
    expect(error).toBeInstanceOf(VsnapError);
    expect(inputCodes).toContain((error as VsnapError).code);
    return;
  }
  expect(outputs.map((o) => o.outputIndex)).toEqual(outputs.map((_, i) => i));
  for (const output of outputs) {
    const meta = await sharp(output.data).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
      format: 'jpeg',
      width: output.width,
      height: output.height,
    });
  }
}

const cases = (await fixtureCases()).filter((f) => damaged.includes(f.name));

describe.each(backends)('%s backend', (backend) => {
  describe.each(cases)('damaged $name', (fixture) => {
    const damages = damageLevels.flatMap((runs) => seeds.flatMap((seed) => modes.map((mode) => ({ runs, seed, mode }))));

    it.skipIf(!fixture.available).each(damages)(
      'with $runs runs of bytes overwritten (seed $seed), $mode mode: outputs or a documented error',
      async ({ runs, seed, mode }) => {
        await expectGracefulRun(await corruptedBytes(fixture, seed, runs), mode, backend);
      },
      30_000,
    );

    it.skipIf(!fixture.available).each(cuts)(
      'cut at %d of its length, both modes: outputs or a documented error',
      async (fraction) => {
        const input = await truncatedBytes(fixture, fraction);
        for (const mode of modes) await expectGracefulRun(input, mode, backend);
      },
      30_000,
    );
  });
});
