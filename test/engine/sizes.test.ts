/**
 * The size and format options of the library (width, height, fit; jpg, png,
 * webp and raw), on both backends: every output has the size the rule gives
 * for the upright picture (test/helpers/size-oracle.ts), and is the exact
 * frame, resized: against the ffmpeg CLI's decode of that frame resized by
 * sharp, its PSNR is at least minSizedPsnr's and above that of the frames
 * next to it. Rotated videos are sized upright. Raw outputs are packed RGB24
 * with their stride. Bad values are refused with VSNAP_INVALID_OPTION naming
 * the option.
 */

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdown, VsnapError, type BackendName, type ImageFormat, type Snapshot, type SnapshotOptions } from '../../src/index.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { decodeImage, type ProbedVideo } from '../helpers/oracle.js';
import { expectedSamples } from '../helpers/sampling-oracle.js';
import { expectedSize, expectResizedFrame, sharpFormat, smoothFrames, type SizeSpec } from '../helpers/size-oracle.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

const backends: readonly BackendName[] = ['native', 'wasm'];
type Fixture = 'mp4-h264' | 'mp4-rotate-cw90' | 'mp4-rotate-ccw90' | 'mp4-odd-size' | 'mkv-10bit';

interface SizeCase {
  fixture: Fixture;
  spec: SizeSpec;
  format: ImageFormat;
}

const cases: SizeCase[] = [
  { fixture: 'mp4-h264', spec: { width: 160 }, format: 'png' },
  { fixture: 'mp4-h264', spec: { height: 90 }, format: 'jpg' },
  { fixture: 'mp4-h264', spec: { width: 101 }, format: 'webp' },
  { fixture: 'mp4-h264', spec: { width: 100, fit: 'contain' }, format: 'raw' },
  { fixture: 'mp4-h264', spec: { width: 200, height: 200 }, format: 'raw' },
  { fixture: 'mp4-h264', spec: { width: 120, height: 200, fit: 'cover' }, format: 'png' },
  { fixture: 'mp4-h264', spec: { width: 200, height: 200, fit: 'contain' }, format: 'png' },
  { fixture: 'mp4-h264', spec: { width: 200, height: 200, fit: 'fill' }, format: 'jpg' },
  { fixture: 'mp4-h264', spec: { width: 200, height: 100, fit: 'inside' }, format: 'webp' },
  { fixture: 'mp4-h264', spec: { width: 200, height: 100, fit: 'outside' }, format: 'raw' },
  { fixture: 'mp4-h264', spec: { width: 480, height: 120 }, format: 'png' },
  { fixture: 'mp4-h264', spec: { width: 7, height: 5 }, format: 'raw' },
  { fixture: 'mp4-odd-size', spec: { width: 160 }, format: 'png' },
  { fixture: 'mp4-odd-size', spec: { width: 101, height: 77 }, format: 'raw' },
  { fixture: 'mkv-10bit', spec: { width: 200, height: 200, fit: 'contain' }, format: 'jpg' },
  { fixture: 'mp4-rotate-cw90', spec: { width: 120 }, format: 'png' },
  { fixture: 'mp4-rotate-cw90', spec: { height: 100 }, format: 'raw' },
  { fixture: 'mp4-rotate-cw90', spec: { width: 200, height: 100 }, format: 'jpg' },
  { fixture: 'mp4-rotate-cw90', spec: { width: 200, height: 100, fit: 'inside' }, format: 'png' },
  { fixture: 'mp4-rotate-cw90', spec: { width: 100, height: 100, fit: 'contain' }, format: 'raw' },
  { fixture: 'mp4-rotate-ccw90', spec: { width: 200, height: 100, fit: 'outside' }, format: 'webp' },
  { fixture: 'mp4-rotate-ccw90', spec: { width: 90, height: 160, fit: 'fill' }, format: 'png' },
];

/**
 * Two frames of each fixture, both keyframes, so that a run decodes little:
 * mp4-h264 has a keyframe every 45 frames, the others every 30 (all 30 fps).
 */
const timesOf = (fixture: Fixture): number[] => (fixture === 'mp4-h264' ? [1.5, 3] : [1, 2]);

const videos = new Map<Fixture, ProbedVideo>();
const paths = new Map<Fixture, string>();
/** Each fixture's frames around the ones picked, decoded upright by the ffmpeg CLI. */
const frames = new Map<Fixture, Map<number, Buffer>>();

beforeAll(async () => {
  for (const name of new Set(cases.map((c) => c.fixture))) {
    const video = await fixtureVideo(fixtureNamed(name));
    videos.set(name, video);
    paths.set(name, await fixturePath(fixtureNamed(name)));
    const picked = expectedSamples(video, { times: timesOf(name) }, 'exact').map((e) => e.frameIndex);
    frames.set(name, await smoothFrames(video, picked.flatMap((i) => [i - 1, i, i + 1])));
  }
});

afterAll(shutdown);

async function pixelsOf(output: Snapshot): Promise<Buffer> {
  if (output.format === 'raw') return output.data;
  const image = await decodeImage(output.data);
  expect([image.width, image.height]).toEqual([output.width, output.height]);
  return image.pixels;
}

describe.each(backends)('%s backend', (backend) => {
  it.each(cases)('$fixture $spec as $format: the upright size the rule gives, the exact frame resized', async ({ fixture, spec, format }) => {
    const video = videos.get(fixture)!;
    const size = expectedSize(video.displayWidth, video.displayHeight, spec);
    const times = timesOf(fixture);
    const expected = expectedSamples(video, { times }, 'exact');
    expect(expected.map((e) => video.key[e.frameIndex])).toEqual([true, true]);
    const { outputs } = await collect(paths.get(fixture)!, { times, ...spec, format, quality: 95, backend });
    expect(outputs.map((o) => ({ frameIndex: o.frameIndex, width: o.width, height: o.height, format: o.format })))
      .toEqual(expected.map((e) => ({ frameIndex: e.frameIndex, ...size, format })));
    for (const output of outputs) {
      if (format === 'raw') {
        expect(output.stride).toBe(size.width * 3);
        expect(output.data.byteLength).toBe(size.width * 3 * size.height);
      } else {
        expect(output.stride).toBeUndefined();
        const meta = await sharp(output.data).metadata();
        expect({ format: meta.format, width: meta.width, height: meta.height, orientation: meta.orientation })
          .toEqual({ format: sharpFormat[format], ...size, orientation: undefined });
      }
      await expectResizedFrame(await pixelsOf(output), frames.get(fixture)!, output.frameIndex, video, spec, `output ${output.outputIndex}`);
    }
  });

  it('keeps the coded size, upright, when no size is given, and a raw frame is packed RGB24', async () => {
    const { outputs } = await collect(await fixturePath(fixtureNamed('mp4-rotate-cw90')), { times: [1], format: 'raw', backend });
    expect(outputs.map(({ width, height, stride, format }) => ({ width, height, stride, format })))
      .toEqual([{ width: 240, height: 320, stride: 720, format: 'raw' }]);
    expect(outputs[0].data.byteLength).toBe(240 * 320 * 3);
  });

  it.each(['mp4-h264', 'mp4-odd-size'] as const)('keeps the colours of %s when it scales: each channel is the full-size frame resized', async (fixture) => {
    // The luma checks above cannot see chroma: a swapped or mis-ranged chroma plane would pass them.
    const path = paths.get(fixture)!;
    const [full, small] = await Promise.all([{}, { width: 160 }].map((size) => collect(path, { times: [1], format: 'raw', ...size, backend })));
    const [{ data, width, height }] = full.outputs;
    const scaled = small.outputs[0];
    const reference = await sharp(data, { raw: { width, height, channels: 3 } })
      .resize({ width: scaled.width, height: scaled.height, fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    for (const [channel, name] of ['red', 'green', 'blue'].entries()) {
      let squares = 0;
      for (let i = channel; i < reference.length; i += 3) squares += (scaled.data[i] - reference[i]) ** 2;
      const psnr = 10 * Math.log10((255 * 255 * reference.length) / 3 / Math.max(squares, 1));
      // Measured 35-43 dB on both fixtures and backends (the full-size frame's chroma is not interpolated, the
      // scaled one's is); chroma scaled at half resolution, as YUV 4:2:0, measured 24 dB in red on the bench's video.
      expect(psnr, `${name} PSNR`).toBeGreaterThanOrEqual(30);
    }
  });

  it('writes smaller WebP and JPEG files at a lower quality', async () => {
    const path = paths.get('mp4-h264')!;
    for (const format of ['webp', 'jpg'] as const) {
      const [low, high] = await Promise.all([30, 95].map((quality) => collect(path, { times: [1.5], width: 200, format, quality, backend })));
      expect(low.outputs[0].data.byteLength, format).toBeLessThan(high.outputs[0].data.byteLength);
    }
  });
});

describe('bad size and format options', () => {
  const rows: { name: string; options: Record<string, unknown>; option: string; expects: string }[] = [
    { name: 'a width of 0', options: { width: 0 }, option: 'width', expects: 'an integer between 1 and 8192' },
    { name: 'a negative width', options: { width: -1 }, option: 'width', expects: 'an integer between 1 and 8192' },
    { name: 'a fractional width', options: { width: 100.5 }, option: 'width', expects: 'an integer between 1 and 8192' },
    { name: 'a width over the largest side', options: { width: 8193 }, option: 'width', expects: 'an integer between 1 and 8192' },
    { name: 'a width as text', options: { width: '100' }, option: 'width', expects: 'an integer between 1 and 8192' },
    { name: 'a height of 0', options: { height: 0 }, option: 'height', expects: 'an integer between 1 and 8192' },
    { name: 'a negative height', options: { width: 100, height: -5 }, option: 'height', expects: 'an integer between 1 and 8192' },
    { name: 'a height of null', options: { height: null }, option: 'height', expects: 'an integer between 1 and 8192' },
    { name: 'an unknown fit', options: { width: 10, height: 10, fit: 'stretch' }, option: 'fit', expects: 'one of cover, contain, fill, inside, outside' },
    { name: 'a fit in capitals', options: { fit: 'COVER' }, option: 'fit', expects: 'one of cover, contain, fill, inside, outside' },
    { name: 'an unknown format', options: { format: 'gif' }, option: 'format', expects: 'one of jpg, png, webp, raw' },
    { name: 'a format as a number', options: { format: 1 }, option: 'format', expects: 'one of jpg, png, webp, raw' },
    { name: 'a quality of 0', options: { format: 'webp', quality: 0 }, option: 'quality', expects: 'an integer between 1 and 100' },
    { name: 'a compression of 10', options: { format: 'png', compression: 10 }, option: 'compression', expects: 'an integer between 0 and 9' },
  ];

  it.each(rows)('$name: VSNAP_INVALID_OPTION naming $option, before the input is opened', async ({ options, option, expects }) => {
    const error = await failureOf(() => collect('/nonexistent/video.mp4', options as SnapshotOptions));
    expect(error).toBeInstanceOf(VsnapError);
    expect(error).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option });
    expect((error as Error).message).toContain(`Expected ${expects} for ${option} but received `);
  });
});
