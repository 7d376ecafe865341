/**
 * Both sampling modes on every fixture, on both backends, proven against the
 * oracle: which frames come out (index, time, count), that the images are
 * those frames (pixels against the ffmpeg CLI's decode, upright), and that
 * the decode statistics fit the plan. Each fixture runs its first interval as
 * PNG and its others as JPEG (quality 80), so both encoders meet every
 * fixture. A fixture the wasm backend cannot read (a codec its core cannot
 * decode, frames it cannot place) must fail there with VSNAP_UNSUPPORTED_INPUT.
 */

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdown, type BackendName, type ImageFormat, type SamplingMode } from '../../src/index.js';
import { fixturePath } from '../helpers/made-file.js';
import { fixtureCases, fixtureVideo, wasmRefusal } from '../helpers/fixture-videos.js';
import {
  decodeImage,
  expectedOutputs,
  matchPsnr,
  minPsnr,
  referenceFrames,
  type ExpectedOutput,
  type ProbedVideo,
} from '../helpers/oracle.js';
import { collect, failureOf, type CollectedRun } from '../helpers/snapshot-run.js';

/** The formats the oracle compares pixels of: PNG exactly, JPEG by PSNR. */
type ModeFormat = Extract<ImageFormat, 'png' | 'jpg'>;

interface ModeCase {
  mode: SamplingMode;
  interval: number;
  format: ModeFormat;
}

const modes: readonly SamplingMode[] = ['exact', 'keyframe'];

function modeCases(intervals: readonly number[]): ModeCase[] {
  return intervals.flatMap((interval, i) =>
    modes.map((mode) => ({ mode, interval, format: i === 0 ? ('png' as const) : ('jpg' as const) })),
  );
}

const sharpFormat: Record<ModeFormat, string> = { png: 'png', jpg: 'jpeg' };

const backends: readonly BackendName[] = ['native', 'wasm'];

const cases = await fixtureCases();

afterAll(shutdown);

describe.each(backends)('%s backend', (backend) => {
  describe.each(cases)('$name', (fixture) => {
    const refusal = backend === 'wasm' ? wasmRefusal(fixture) : undefined;
    const decodes = refusal === undefined;

    it.skipIf(!fixture.available || decodes)(`is refused as input the ${backend} backend cannot read`, async () => {
      const error = await failureOf(async () => collect(await fixturePath(fixture), { backend }));
      expect(error).toMatchObject({ code: 'VSNAP_UNSUPPORTED_INPUT' });
      expect((error as Error).message).toContain(refusal);
    });

    describe.skipIf(!fixture.available || !decodes).each(modeCases(fixture.intervals))(
      '$mode mode every $interval s as $format',
      ({ mode, interval, format }) => {
        let video: ProbedVideo;
        let expected: ExpectedOutput[];
        let run: CollectedRun;

        beforeAll(async () => {
          video = await fixtureVideo(fixture);
          expected = expectedOutputs(video, interval, mode);
          run = await collect(await fixturePath(fixture), { mode, interval, format, quality: 80, backend });
        });

        it('outputs the frames the timeline rule picks, count included', () => {
          expect(run.outputs.map((o) => ({ outputIndex: o.outputIndex, frameIndex: o.frameIndex, frameTime: o.frameTime })))
            .toEqual(expected.map((e, i) => ({ outputIndex: i, frameIndex: e.frameIndex, frameTime: e.frameTime })));
        });

        it('encodes each output upright in the asked format', async () => {
          for (const output of run.outputs) {
            const meta = await sharp(output.data).metadata();
            expect({ format: output.format, width: output.width, height: output.height })
              .toEqual({ format, width: video.displayWidth, height: video.displayHeight });
            expect({ format: meta.format, width: meta.width, height: meta.height, orientation: meta.orientation })
              .toEqual({ format: sharpFormat[format], width: video.displayWidth, height: video.displayHeight, orientation: undefined });
          }
        });

        it('shows the picked frames: the first, middle and last outputs match the reference decode', async () => {
          const sampled = [...new Set([0, Math.floor(run.outputs.length / 2), run.outputs.length - 1])]
            .map((i) => run.outputs[i])
            .filter((o) => o !== undefined);
          expect(sampled.length).toBeGreaterThan(0);
          const last = video.pts.length - 1;
          const neighboursOf = (i: number) => [i - 1, i + 1].filter((n) => n >= 0 && n <= last);
          const references = await referenceFrames(
            video,
            sampled.flatMap((o) => [o.frameIndex, ...neighboursOf(o.frameIndex)]),
          );
          for (const output of sampled) {
            const image = await decodeImage(output.data);
            const match = matchPsnr(format, image.pixels, references.get(output.frameIndex)!);
            const neighbours = neighboursOf(output.frameIndex).map((n) => matchPsnr(format, image.pixels, references.get(n)!));
            const where = `output ${output.outputIndex} (frame ${output.frameIndex})`;
            expect(match, `${where}: PSNR against its frame`).toBeGreaterThanOrEqual(minPsnr[format]);
            expect(Math.max(...neighbours), `${where}: PSNR against the neighbouring frames`).toBeLessThan(match);
          }
        });

        it('reports decode statistics that fit the plan', () => {
          const { stats, outputs } = run;
          const distinctFrames = new Set(expected.map((e) => e.frameIndex)).size;
          const decodeStarts = new Set(expected.map((e) => e.decodeStart)).size;
          expect(stats.decodeErrors).toBe(0);
          // Clean videos: no decode after a seek may look damaged (test/engine/seek-recovery.test.ts has the others).
          expect({ seekRecoveries: stats.seekRecoveries, damagedFrames: stats.damagedFrames }).toEqual({ seekRecoveries: 0, damagedFrames: 0 });
          expect(stats.packetsRead).toBeGreaterThan(0);
          expect(stats.bytesRead).toBeGreaterThan(0);
          // Every GOP the plan touches needs one seek at most.
          expect(stats.seeks).toBeLessThanOrEqual(decodeStarts);
          if (mode === 'keyframe') {
            // A keyframe decodes on its own.
            expect(stats.framesDecoded).toBe(outputs.length);
          } else {
            expect(stats.framesDecoded).toBeGreaterThanOrEqual(distinctFrames);
            const sharesGop = expected.some(
              (e, i) => i > 0 && e.decodeStart === expected[i - 1].decodeStart && e.frameIndex !== expected[i - 1].frameIndex,
            );
            if (sharesGop) expect(stats.seeksAvoided).toBeGreaterThan(0);
          }
        });
      },
    );
  });
});
