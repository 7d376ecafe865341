/**
 * What a run's plan tells of the video (`run.plan()`'s info) is what probe()
 * tells, except:
 * - the pixel format, and any colour field the header leaves out, where a
 *   run skips probing the streams: an MP4/MOV or Matroska/WebM whose header
 *   describes its one video stream fully (StreamProbe in
 *   native/core/Decoder.h), where probing would decode the first frames;
 * - the keyframe list and whether the frame rate varies where it plans from
 *   an MP4/MOV index instead of a scan (index-plan.test.ts).
 */

import { afterAll, describe, expect, it } from 'vitest';

import { probe, shutdown, snapshot, type PlannedVideoInfo } from '../../src/index.js';
import { fixtureCases } from '../helpers/fixture-videos.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { indexVideos } from '../helpers/index-videos.js';
import { canMake, fixturePath, type MadeFile } from '../helpers/made-file.js';

afterAll(shutdown);

const cases: { name: string; file: MadeFile; available: boolean }[] = [
  ...(await fixtureCases()).map((fixture) => ({ name: fixture.name, file: fixture, available: fixture.available })),
  ...(await Promise.all(indexVideos.map(async (video) => ({ name: video.name, file: video, available: await canMake(video) })))),
];

async function plannedInfo(path: string): Promise<PlannedVideoInfo> {
  const controller = new AbortController();
  const run = snapshot(path, { mode: 'exact', interval: 1, backend: 'native', signal: controller.signal });
  try {
    return (await run.plan()).info;
  } finally {
    // A run that is never iterated is released through its signal.
    controller.abort();
  }
}

describe.each(cases)('$name', ({ file, available }) => {
  it.skipIf(!available)('plans with the info probe() gives, less what it did not need to learn', async () => {
    const path = await fixturePath(file);
    const probed = await probe(path, { backend: 'native' });
    const planned = await plannedInfo(path);
    const { pixelFormat, keyframes, frameRate, color, ...times } = planned;
    const { pixelFormat: probedFormat, keyframes: allKeyframes, frameRate: probedRate, color: probedColor, ...probedTimes } = probed;
    expect(times).toEqual(probedTimes);
    expect(frameRate.average).toBe(probedRate.average);
    if (pixelFormat === null) {
      expect(['mov,mp4,m4a,3gp,3g2,mj2', 'matroska,webm']).toContain(probed.container);
      // Unprobed, the colour is what the header says: each field probe()'s, or not known.
      for (const [field, value] of Object.entries(color)) {
        if (value !== null) expect(value, field).toEqual(probedColor[field as keyof typeof color]);
      }
    } else {
      expect(pixelFormat).toBe(probedFormat);
      expect(color).toEqual(probedColor);
    }
    if (keyframes === null) {
      expect(probed.container).toBe('mov,mp4,m4a,3gp,3g2,mj2');
      expect(frameRate.variable).toBeNull();
    } else {
      expect(keyframes).toEqual(allKeyframes);
      expect(frameRate.variable).toBe(probedRate.variable);
    }
  });
});

describe('probing the streams', () => {
  it('is skipped for an MP4 that declares its durations (modes.test.ts proves its images)', async () => {
    const planned = await plannedInfo(await fixturePath(fixtureNamed('mp4-h264')));
    expect(planned.pixelFormat).toBeNull();
  });

  it('is skipped for a WebM that declares its duration', async () => {
    const planned = await plannedInfo(await fixturePath(fixtureNamed('webm-vp9')));
    expect(planned.pixelFormat).toBeNull();
  });

  it('is done for a fragmented MP4, whose header declares no duration', async () => {
    const fragmented = indexVideos.find((video) => video.name === 'mp4-fragmented')!;
    const planned = await plannedInfo(await fixturePath(fragmented));
    expect(planned.pixelFormat).toBe('yuv420p');
  });
});
