/**
 * Videos with an audio track, in every container vsnap reads: both modes on
 * both backends probe the video stream and pick the frames the oracle
 * picks, and the images are those frames. The audio must neither move a
 * timestamp nor stop a run. It did both, once: an FLV's second stream made
 * its demuxer drop the "no header" flag, so decode lanes reopened it
 * without probing and found no video stream (Decoder.cpp); in MPEG-PS, the
 * wasm backend's seek to a keyframe landed after the sequence header
 * before it and lost that GOP (decode-runs.ts).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { probe, shutdown, type BackendName, type SamplingMode } from '../../src/index.js';
import { audioVideos } from '../helpers/audio-videos.js';
import { canMake, fixturePath } from '../helpers/made-file.js';
import { decodeImage, expectedOutputs, matchPsnr, minPsnr, probeVideo, referenceFrames, type ProbedVideo } from '../helpers/oracle.js';
import { collect, type CollectedRun } from '../helpers/snapshot-run.js';

const backends: readonly BackendName[] = ['native', 'wasm'];
const modes: readonly SamplingMode[] = ['exact', 'keyframe'];
const cases = await Promise.all(audioVideos.map(async (file) => ({ ...file, available: await canMake(file) })));

afterAll(shutdown);

describe.each(cases)('$name', (file) => {
  let video: ProbedVideo;

  beforeAll(async () => {
    if (file.available) video = await probeVideo(await fixturePath(file));
  });

  describe.skipIf(!file.available).each(backends)('on the %s backend', (backend) => {
    it('probes the video stream, not the audio', async () => {
      const info = await probe(await fixturePath(file), { backend });
      expect(info).toMatchObject({ codec: video.codec, width: 320, height: 240 });
      expect(info.frameCount).toBe(video.pts.length);
    });

    describe.each(modes)('%s mode every second', (mode) => {
      let run: CollectedRun;

      beforeAll(async () => {
        run = await collect(await fixturePath(file), { mode, interval: 1, format: 'png', backend });
      });

      it('outputs the frames the timeline rule picks', () => {
        const expected = expectedOutputs(video, 1, mode);
        expect(run.outputs.map((o) => ({ frameIndex: o.frameIndex, frameTime: o.frameTime }))).toEqual(
          expected.map((e) => ({ frameIndex: e.frameIndex, frameTime: e.frameTime })),
        );
      });

      it('shows those frames', async () => {
        const references = await referenceFrames(video, run.outputs.map((o) => o.frameIndex));
        for (const output of run.outputs) {
          const image = await decodeImage(output.data);
          const psnr = matchPsnr('png', image.pixels, references.get(output.frameIndex) as Buffer);
          expect(psnr, `frame ${output.frameIndex}`).toBeGreaterThanOrEqual(minPsnr.png);
        }
      });
    });
  });
});
