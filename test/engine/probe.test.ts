/**
 * probe() on every fixture against ffprobe's reading of the same file.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { probe, type VideoInfo } from '../../src/index.js';
import { fixtureCases, fixtureVideo } from '../helpers/fixture-videos.js';
import {
  durationSeconds,
  isVariableFrameRate,
  keyframeTimes,
  startSeconds,
  type ProbedVideo,
} from '../helpers/oracle.js';

describe.each(await fixtureCases())('probe $name', (fixture) => {
  let video: ProbedVideo;
  let info: VideoInfo;

  beforeAll(async () => {
    if (!fixture.available) return;
    video = await fixtureVideo(fixture);
    info = await probe(video.path);
  });

  it.skipIf(!fixture.available)('names the container, codec and pixel format as FFmpeg does', () => {
    expect({ container: info.container, codec: info.codec, pixelFormat: info.pixelFormat, backend: info.backend })
      .toEqual({ container: video.formatName, codec: video.codec, pixelFormat: video.pixelFormat, backend: 'native' });
  });

  it.skipIf(!fixture.available)('gives the coded size, the rotation and the upright size', () => {
    expect({
      width: info.width,
      height: info.height,
      rotation: info.rotation,
      displayWidth: info.displayWidth,
      displayHeight: info.displayHeight,
    }).toEqual({
      width: video.width,
      height: video.height,
      rotation: video.rotation,
      displayWidth: video.displayWidth,
      displayHeight: video.displayHeight,
    });
  });

  it.skipIf(!fixture.available)('counts the displayed frames and times the stream from its first one', () => {
    expect(info.frameCount).toBe(video.pts.length);
    expect(info.startTime).toBeCloseTo(startSeconds(video), 5);
    expect(info.duration).toBeCloseTo(durationSeconds(video), 5);
  });

  it.skipIf(!fixture.available)('lists the displayed keyframes by frame time', () => {
    expect(info.keyframes).toEqual(keyframeTimes(video));
  });

  it.skipIf(!fixture.available)('tells a variable frame rate from a constant one, and averages it', () => {
    expect(info.frameRate.variable).toBe(isVariableFrameRate(video));
    const average = video.pts.length / durationSeconds(video);
    expect(Math.abs(info.frameRate.average - average) / average).toBeLessThan(0.02);
  });

  // FFmpeg's figure, which for Matroska with a start offset counts the offset
  // in the duration (9 s for 4 s of video) and so halves the rate.
  it.skipIf(!fixture.available)('gives the bit rate FFmpeg computes for the container', () => {
    expect(info.bitRate).toBe(video.formatBitRate);
  });
});
