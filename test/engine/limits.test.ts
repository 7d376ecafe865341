/**
 * The limits of a run (src/limits.ts), on both backends: a plan of too many
 * targets, a video too long, frames too large, each refused with
 * VSNAP_LIMIT_EXCEEDED naming the limit; the limits from options, the
 * environment and the defaults; and two bombs refused by the default limits:
 * a small file declaring a huge duration (instead of planning a million
 * targets) and one declaring a huge frame (before a frame buffer is made).
 */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultLimits, limitEnv, shutdown, snapshot, VsnapError, type BackendName } from '../../src/index.js';
import { hugeFrameVideo, longDeclaredVideo, scratchFile, understatedSizeBytes } from '../helpers/bad-inputs.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { canMake, fixturePath } from '../helpers/made-file.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

const backends: readonly BackendName[] = ['native', 'wasm'];
// 320x240, 4 s at 30 fps.
const clip = fixtureNamed('mp4-h264');
const bombAvailable = await canMake(longDeclaredVideo);
const hugeFrameAvailable = await canMake(hugeFrameVideo);

afterEach(() => {
  for (const name of Object.values(limitEnv)) delete process.env[name];
});
afterAll(shutdown);

function expectLimit(error: unknown, limit: string): void {
  expect(error).toBeInstanceOf(VsnapError);
  expect(error).toMatchObject({ code: 'VSNAP_LIMIT_EXCEEDED', message: expect.stringContaining(`(${limit})`) });
}

describe.each(backends)('on the %s backend', (backend) => {
  it('refuses a plan of more targets than maxTargets, in both modes, and runs one at the limit', async () => {
    const path = await fixturePath(clip);
    for (const mode of ['exact', 'keyframe'] as const) {
      const error = await failureOf(() => collect(path, { backend, mode, interval: 0.01, limits: { maxTargets: 399 } }));
      expectLimit(error, 'maxTargets');
      expect((error as Error).message).toBe('the plan has 400 targets, more than the limit of 399 (maxTargets)');
    }
    const atLimit = await collect(path, { backend, interval: 0.01, limits: { maxTargets: 400 } });
    expect(atLimit.outputs).toHaveLength(400);
  });

  it('refuses a video longer than maxDuration', async () => {
    const error = await failureOf(async () => collect(await fixturePath(clip), { backend, limits: { maxDuration: 3.9 } }));
    expectLimit(error, 'maxDuration');
    expect((error as Error).message).toContain('lasts 4 s, more than the limit of 3.9 s');
  });

  it('refuses frames of more pixels than maxPixels, from the environment', async () => {
    process.env[limitEnv.maxPixels] = String(320 * 240 - 1);
    const error = await failureOf(async () => collect(await fixturePath(clip), { backend }));
    expectLimit(error, 'maxPixels');
    expect((error as Error).message).toContain('320x240 frames have 76800 pixels');
    // The option wins over the environment.
    expect((await collect(await fixturePath(clip), { backend, limits: { maxPixels: 320 * 240 } })).outputs).toHaveLength(4);
  });

  it('refuses frames over maxPixels that the container understates, before one is made', async () => {
    const path = await scratchFile(`understated-size-${backend}.mp4`, await understatedSizeBytes(clip, 32, 24));
    const limits = { maxPixels: 320 * 240 - 1 };
    if (backend === 'native') {
      // A run believes the header (it does not probe an MP4's streams): the check of the declared size passes...
      const controller = new AbortController();
      const run = snapshot(path, { backend, limits, signal: controller.signal });
      expect((await run.plan()).info).toMatchObject({ width: 32, height: 24 });
      controller.abort();
    }
    // ... and the decoder refuses the frames (the wasm backend probes, and refuses at the check).
    const error = await failureOf(() => collect(path, { backend, mode: 'keyframe', limits }));
    expectLimit(error, 'maxPixels');
    expect((error as Error).message).toContain('320x240 frames have 76800 pixels, more than the limit of 76799');
    const exact = await failureOf(() => collect(path, { backend, mode: 'exact', limits }));
    expect((exact as Error).message).toContain('320x240 frames have 76800 pixels, more than the limit of 76799');
  });

  it.skipIf(!hugeFrameAvailable)('refuses a 0.4 MB file of one 12000x12000 frame by the default pixel limit', async () => {
    const error = await failureOf(async () => collect(await fixturePath(hugeFrameVideo), { backend }));
    expectLimit(error, 'maxPixels');
    expect((error as Error).message).toContain(`12000x12000 frames have 144000000 pixels, more than the limit of ${defaultLimits.maxPixels}`);
  });

  it.skipIf(!bombAvailable)('refuses a 3 kB file declaring 11.6 days by the default limits, duration first, then targets', async () => {
    const path = await fixturePath(longDeclaredVideo);
    // The duration is checked as soon as the video is open, before any target is planned...
    const error = await failureOf(() => collect(path, { backend }));
    expectLimit(error, 'maxDuration');
    expect((error as Error).message).toContain(`more than the limit of ${defaultLimits.maxDuration} s`);
    // ... and where a longer video is allowed, the default target limit refuses its million targets before making one.
    const targets = await failureOf(() => collect(path, { backend, limits: { maxDuration: 2_000_000 } }));
    expectLimit(targets, 'maxTargets');
    expect((targets as Error).message).toMatch(
      new RegExp(`^the plan has 1\\d{6} targets, more than the limit of ${defaultLimits.maxTargets} \\(maxTargets\\)$`),
    );
  });
});

describe('limit options', () => {
  it.each([
    [{ maxTargets: 0 }, 'limits.maxTargets'],
    [{ maxTargets: 1.5 }, 'limits.maxTargets'],
    [{ maxPixels: -1 }, 'limits.maxPixels'],
    [{ maxDuration: Number.POSITIVE_INFINITY }, 'limits.maxDuration'],
    [{ maxFrames: 10 }, 'limits.maxFrames'],
    ['many', 'limits'],
  ])('refuses %o at once, naming %s', (limits, option) => {
    let thrown: unknown;
    try {
      snapshot('video.mp4', { limits: limits as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option });
  });

  it('refuses a bad value in the environment, naming the variable', () => {
    process.env[limitEnv.maxTargets] = 'lots';
    expect(() => snapshot('video.mp4')).toThrow(expect.objectContaining({ code: 'VSNAP_INVALID_OPTION', option: limitEnv.maxTargets }));
  });
});
