/**
 * The fixtures are what their table says, by ffprobe: a recipe that stops
 * making the property a fixture exists for fails here, not as a puzzling
 * engine failure. Also checks that their pixels can tell adjacent frames
 * apart, which every pixel check of the engine relies on.
 */

import { stat } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureCases, fixtureVideo } from './fixture-videos.js';
import {
  durationSeconds,
  expectedOutputs,
  isVariableFrameRate,
  keyframeTimes,
  minPsnr,
  psnr,
  referenceFrames,
  type ProbedVideo,
} from './oracle.js';

describe.each(await fixtureCases())('fixture $name', (fixture) => {
  const { available } = fixture;
  let video: ProbedVideo;

  beforeAll(async () => {
    if (available) video = await fixtureVideo(fixture);
  });

  it.skipIf(!available)('is small', async () => {
    expect((await stat(video.path)).size).toBeLessThan(1024 * 1024);
  });

  it.skipIf(!available)('has the codec, size, pixel format and rotation of its recipe', () => {
    const { traits } = fixture;
    expect({ codec: video.codec, width: video.width, height: video.height, pixelFormat: video.pixelFormat, rotation: video.rotation })
      .toEqual({ codec: fixture.codec, width: traits.width, height: traits.height, pixelFormat: traits.pixelFormat, rotation: traits.rotation });
  });

  it.skipIf(!available)('shows one frame per packet that is not discarded', () => {
    expect(video.pts.length).toBe(video.packets.filter((p) => !p.discard).length);
  });

  it.skipIf(!available)('has the timing traits it exists for', () => {
    const displayed = video.packets.filter((p) => !p.discard);
    // Without the anchors' pts, the order shows in the decoded frames only.
    const reordered = video.anchorsWithoutPts || displayed.some((p, i) => i > 0 && p.pts! < displayed[i - 1].pts!);
    const lastPacket = video.anchorsWithoutPts
      ? video.packets[video.packets.length - 1]
      : video.packets.find((p) => p.pts === video.pts[video.pts.length - 1]);
    expect({
      variableFrameRate: isVariableFrameRate(video),
      nonZeroOrigin: video.origin > 0n,
      discardedPackets: video.packets.some((p) => p.discard),
      reordered,
      anchorsWithoutPts: video.anchorsWithoutPts,
      openGop: hasLeadingPictures(video),
      lastDurationMissing: !lastPacket?.duration,
    }).toEqual({
      variableFrameRate: fixture.traits.variableFrameRate,
      nonZeroOrigin: fixture.traits.nonZeroOrigin,
      discardedPackets: fixture.traits.discardedPackets,
      reordered: fixture.traits.reordered,
      anchorsWithoutPts: fixture.traits.anchorsWithoutPts,
      openGop: fixture.traits.openGop,
      lastDurationMissing: fixture.traits.lastDurationMissing,
    });
  });

  it.skipIf(!available)('has at least two keyframes, as far apart as its recipe says', () => {
    const times = [...keyframeTimes(video), durationSeconds(video)];
    expect(times.length).toBeGreaterThan(2);
    const widest = Math.max(...times.slice(1).map((t, i) => t - times[i]));
    expect(widest).toBeGreaterThanOrEqual(fixture.traits.minKeyframeGap);
  });

  it.skipIf(!available || !fixture.traits.variableFrameRate)('repeats a frame in exact mode at one of its intervals', () => {
    const repeats = fixture.intervals.some((interval) => {
      const indices = expectedOutputs(video, interval, 'exact').map((o) => o.frameIndex);
      return new Set(indices).size < indices.length;
    });
    expect(repeats).toBe(true);
  });

  it.skipIf(!available)('has adjacent frames a pixel check tells apart', async () => {
    const middle = Math.floor(video.pts.length / 2);
    const frames = await referenceFrames(video, [0, 1, middle, middle + 1]);
    expect(psnr(frames.get(0)!, frames.get(1)!)).toBeLessThan(minPsnr.png - 5);
    expect(psnr(frames.get(middle)!, frames.get(middle + 1)!)).toBeLessThan(minPsnr.png - 5);
  });
});

/** A keyframe after the first that is followed, in decode order and before the next keyframe, by a frame shown before it. */
function hasLeadingPictures(video: ProbedVideo): boolean {
  let keyPts: bigint | undefined;
  let seenFirstKey = false;
  for (const packet of video.packets) {
    if (packet.key) {
      keyPts = seenFirstKey ? packet.pts : undefined;
      seenFirstKey = true;
    } else if (keyPts !== undefined && packet.pts !== undefined && packet.pts < keyPts) {
      return true;
    }
  }
  return false;
}
