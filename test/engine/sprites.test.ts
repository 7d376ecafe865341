/**
 * Sprite sheets from the library, on both backends: the outputs the
 * sampling oracle picks, laid in order into sheets of columns x rows cells
 * (left to right, top to bottom; the last sheet as many rows as it fills
 * and as many columns as its first row holds), each cell the exact frame
 * resized as the size rule says (160 wide by default), against the ffmpeg
 * CLI's decode resized by sharp; snapshotToFiles writes sprite_J.EXT and a
 * thumbnails.vtt that the W3C's parser reads, one cue per output. Bad
 * sprites are refused with VSNAP_INVALID_OPTION naming `sprite`, a sheet
 * over limits.maxPixels included.
 */

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  shutdown,
  snapshot,
  snapshotToFiles,
  VsnapError,
  type BackendName,
  type ImageFormat,
  type SamplingMode,
  type Snapshot,
  type SnapshotOptions,
} from '../../src/index.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath, scratchPath } from '../helpers/made-file.js';
import { decodeImage, type ProbedVideo } from '../helpers/oracle.js';
import { expectedSamples, windowEndSeconds, type ExpectedSample, type SamplingSpec } from '../helpers/sampling-oracle.js';
import { cropRgb, expectedSize, expectResizedFrame, sharpFormat, smoothFrames, type SizeSpec } from '../helpers/size-oracle.js';
import { cellOf, cellSpec, sheetSize } from '../helpers/sprite-layout.js';
import { cellReference, expectTrack, parseTrack } from '../helpers/thumbnail-track.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

const backends: readonly BackendName[] = ['native', 'wasm'];
type Fixture = 'mp4-h264' | 'mp4-rotate-cw90';

interface SpriteCase {
  name: string;
  fixture: Fixture;
  sampling: SamplingSpec;
  mode: SamplingMode;
  size: SizeSpec;
  sprite: { columns: number; rows: number };
  format: Exclude<ImageFormat, 'raw'>;
}

const cases: SpriteCase[] = [
  { name: 'eight outputs in 3x2 sheets, default cells', fixture: 'mp4-h264', sampling: { count: 8 }, mode: 'exact', size: {}, sprite: { columns: 3, rows: 2 }, format: 'png' },
  {
    name: 'keyframes in a 2x2 sheet of 100x100 contained cells',
    fixture: 'mp4-h264',
    sampling: { interval: 0.5 },
    mode: 'keyframe',
    size: { width: 100, height: 100, fit: 'contain' },
    sprite: { columns: 2, rows: 2 },
    format: 'jpg',
  },
  { name: 'a rotated video in a 4x1 sheet, cells upright', fixture: 'mp4-rotate-cw90', sampling: { times: [0.5, 1, 2.5] }, mode: 'exact', size: {}, sprite: { columns: 4, rows: 1 }, format: 'webp' },
  { name: 'odd-sized cells: 101 wide, in a 3x3 sheet', fixture: 'mp4-h264', sampling: { interval: 0.5, start: 0.25 }, mode: 'exact', size: { width: 101 }, sprite: { columns: 3, rows: 3 }, format: 'png' },
  { name: 'one output in a 10x10 sheet of 90 high cells', fixture: 'mp4-h264', sampling: { count: 1, start: 1, end: 2 }, mode: 'exact', size: { height: 90 }, sprite: { columns: 10, rows: 10 }, format: 'png' },
];

const videos = new Map<Fixture, ProbedVideo>();
const paths = new Map<Fixture, string>();
const frames = new Map<Fixture, Map<number, Buffer>>();

beforeAll(async () => {
  for (const name of new Set(cases.map((c) => c.fixture))) {
    const video = await fixtureVideo(fixtureNamed(name));
    videos.set(name, video);
    paths.set(name, await fixturePath(fixtureNamed(name)));
    const picked = cases.filter((c) => c.fixture === name).flatMap((c) => expectedSamples(video, c.sampling, c.mode).map((e) => e.frameIndex));
    frames.set(name, await smoothFrames(video, picked.flatMap((i) => [i - 1, i, i + 1])));
  }
});

afterAll(shutdown);

describe.each(backends)('%s backend', (backend) => {
  it.each(cases)('$name: the oracle outputs in order, each cell the frame resized', async (c) => {
    const video = videos.get(c.fixture)!;
    const expected = expectedSamples(video, c.sampling, c.mode);
    const spec = cellSpec(c.size);
    const cell = expectedSize(video.displayWidth, video.displayHeight, spec);
    const { outputs: sheets } = await collect(paths.get(c.fixture)!, {
      ...c.sampling, mode: c.mode, ...c.size, sprite: c.sprite, format: c.format, quality: 95, backend,
    } as SnapshotOptions);

    const perSheet = c.sprite.columns * c.sprite.rows;
    const sheetCount = Math.ceil(expected.length / perSheet);
    expect(sheets).toHaveLength(sheetCount);
    const cells = sheets.flatMap((sheet) => sheet.cells ?? []);
    expect(cells.map(({ outputIndex, frameIndex, frameTime, x, y, width, height }) => ({ outputIndex, frameIndex, frameTime, x, y, width, height })))
      .toEqual(expected.map((e, i) => {
        const { x, y, width, height } = cellOf(i, c.sprite, cell);
        return { outputIndex: i, frameIndex: e.frameIndex, frameTime: e.frameTime, x, y, width, height };
      }));
    cells.forEach((got, i) => expect(got.targetTime, `cell ${i}'s target time`).toBeCloseTo(expected[i].targetTime, 9));

    for (const [j, sheet] of sheets.entries()) {
      const held = expected.slice(j * perSheet, (j + 1) * perSheet);
      const size = sheetSize(held.length, c.sprite, cell);
      expect({ outputIndex: sheet.outputIndex, format: sheet.format, width: sheet.width, height: sheet.height, frameIndex: sheet.frameIndex })
        .toEqual({ outputIndex: j, format: c.format, ...size, frameIndex: held[0].frameIndex });
      const meta = await sharp(sheet.data).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([sharpFormat[c.format], size.width, size.height]);
      await expectCells(sheet, held, j * perSheet, c.fixture, video, spec);
    }
  });

  it('writes sprite_J.EXT and thumbnails.vtt, each output pointing at its cell', async () => {
    const video = videos.get('mp4-h264')!;
    const sampling = { count: 5, start: 0.5, end: 3.5 };
    const sprite = { columns: 2, rows: 2 };
    const dir = await scratchPath(`sprite-files-${backend}`);
    await rm(dir, { recursive: true, force: true });
    const result = await snapshotToFiles(paths.get('mp4-h264')!, dir, { ...sampling, sprite, backend });
    const expected = expectedSamples(video, sampling, 'exact');
    const cell = { width: 160, height: 120 };
    expect(result.sheets).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['sprite_0.jpg', 'sprite_1.jpg', 'thumbnails.vtt']);
    const references = expected.map((_, i) => {
      const at = cellOf(i, sprite, cell);
      return cellReference(`sprite_${at.sheet}.jpg`, at);
    });
    expect(result.files).toEqual(expected.map((e, i) => ({
      outputIndex: i, frameIndex: e.frameIndex, frameTime: e.frameTime, path: join(dir, references[i]), ...cell,
    })));
    for (const [j, n] of [[0, 4], [1, 1]]) {
      const meta = await sharp(join(dir, `sprite_${j}.jpg`)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', ...Object.values(sheetSize(n, sprite, cell))]);
    }
    const track = await readFile(join(dir, 'thumbnails.vtt'), 'utf8');
    expectTrack(track, expected.map((e, i) => ({ targetTime: e.targetTime, reference: references[i] })), windowEndSeconds(video, sampling));
  });

  it("ends the track's last cue at the video's end for chosen times and a window past it, and starts each keyframe's at its first target", async () => {
    const video = videos.get('mp4-h264')!;
    const runs: [SamplingSpec, SamplingMode][] = [
      [{ times: [0.5, 1, 3] }, 'exact'],
      [{ interval: 0.5, start: 0.5 }, 'keyframe'],
      [{ count: 3, start: 1, end: 100 }, 'exact'],
    ];
    for (const [k, [sampling, mode]] of runs.entries()) {
      const dir = await scratchPath(`sprite-track-${backend}-${k}`);
      await rm(dir, { recursive: true, force: true });
      const options = { ...sampling, mode, sprite: { columns: 5, rows: 5 }, format: 'png', backend } as SnapshotOptions;
      const result = await snapshotToFiles(paths.get('mp4-h264')!, dir, options);
      const expected = expectedSamples(video, sampling, mode);
      expect(result.files.map((f) => f.frameIndex)).toEqual(expected.map((e) => e.frameIndex));
      const references = expected.map((_, i) => cellReference('sprite_0.png', cellOf(i, { columns: 5, rows: 5 }, { width: 160, height: 120 })));
      const track = await readFile(join(dir, 'thumbnails.vtt'), 'utf8');
      // Each run's times end with the video, at 4 s: chosen times have no window, and a window's end is cut to the video's.
      expect(windowEndSeconds(video, sampling)).toBe(4);
      expectTrack(track, expected.map((e, i) => ({ targetTime: e.targetTime, reference: references[i] })), 4);
    }
  });

  it('plans the outputs as cells, and where their times end', async () => {
    const video = videos.get('mp4-h264')!;
    const sampling = { count: 7, start: 0.5, end: 3 };
    const run = snapshot(paths.get('mp4-h264')!, { ...sampling, sprite: { columns: 2, rows: 2 }, backend });
    const plan = await run.plan();
    expect(plan.outputCount).toBe(expectedSamples(video, sampling, 'exact').length);
    expect(plan.end).toBeCloseTo(windowEndSeconds(video, sampling), 9);
    let sheets = 0;
    for await (const sheet of run) sheets += sheet.cells === undefined ? 0 : 1;
    expect(sheets).toBe(2);
  });

  it('writes a valid thumbnail track for chosen times out of order: one cue per output, at its target time, pointing at its cell', async () => {
    const video = videos.get('mp4-h264')!;
    const sampling = { times: [2, 1, 3] };
    const dir = await scratchPath(`sprite-unordered-${backend}`);
    await rm(dir, { recursive: true, force: true });
    const result = await snapshotToFiles(paths.get('mp4-h264')!, dir, { ...sampling, sprite: { columns: 3, rows: 1 }, backend });
    const expected = expectedSamples(video, sampling, 'exact');
    expect(result.files.map((f) => f.frameIndex)).toEqual(expected.map((e) => e.frameIndex));
    // The W3C parser reports cues whose start is before an earlier cue's as an error: cues go in time order.
    const cues = parseTrack(await readFile(join(dir, 'thumbnails.vtt'), 'utf8'));
    const inTimeOrder = expected.map((e, outputIndex) => ({ ...e, outputIndex })).sort((a, b) => a.targetTime - b.targetTime);
    expect(cues.map(({ id, start, text }) => ({ id, start, text }))).toEqual(inTimeOrder.map((e, i) => ({
      id: String(i + 1),
      start: e.targetTime,
      text: cellReference('sprite_0.jpg', { x: e.outputIndex * 160, y: 0, width: 160, height: 120 }),
    })));
    for (const cue of cues) expect(cue.end).toBeGreaterThan(cue.start);
  });

  it.skipIf(backend !== 'native')('encodes JPEG sheets with the native encoder when asked (encoder: native)', async () => {
    const video = videos.get('mp4-h264')!;
    const sampling = { count: 3 };
    const expected = expectedSamples(video, sampling, 'exact');
    const { outputs: sheets } = await collect(paths.get('mp4-h264')!, { ...sampling, sprite: { columns: 3, rows: 1 }, encoder: 'native', quality: 95, backend });
    expect(sheets.map(({ format, width, height }) => ({ format, width, height }))).toEqual([{ format: 'jpg', width: 480, height: 120 }]);
    expect((await sharp(sheets[0].data).metadata()).format).toBe('jpeg');
    const decoded = frames.get('mp4-h264')!;
    for (const [i, frame] of await smoothFrames(video, expected.flatMap((e) => [e.frameIndex - 1, e.frameIndex, e.frameIndex + 1]))) decoded.set(i, frame);
    await expectCells(sheets[0], expected, 0, 'mp4-h264', video, { width: 160 });
  });

  it('refuses a sheet of more pixels than limits.maxPixels, naming sprite, before decoding', async () => {
    // 20 targets fill 10 x 2 cells of 160 x 120: 384,000 pixels; the video's frames (76,800) are within the limit.
    const error = await failureOf(() => collect(paths.get('mp4-h264')!, { count: 20, sprite: { columns: 10, rows: 10 }, limits: { maxPixels: 100_000 }, backend }));
    expect(error).toBeInstanceOf(VsnapError);
    expect(error).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option: 'sprite' });
    expect((error as Error).message).toContain('(maxPixels)');
    expect((error as Error).message).toContain('10 x 2 cells of 160 x 120 make 384000');
    // The sheet is as large as the outputs fill it: 4 outputs in a 10 x 10 grid make one row of 4.
    const { outputs: fits } = await collect(paths.get('mp4-h264')!, { sprite: { columns: 10, rows: 10 }, limits: { maxPixels: 100_000 }, backend });
    expect(fits.map((sheet) => [sheet.width, sheet.height])).toEqual([[640, 120]]);
    const big = await failureOf(() => collect(paths.get('mp4-h264')!, { sprite: { columns: 100, rows: 100 }, width: 8192, backend }));
    expect(big).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option: 'sprite' });
  });
});

/** Each cell of `sheet` is its output's frame, resized, and no neighbour of it. */
async function expectCells(sheet: Snapshot, held: readonly ExpectedSample[], first: number, fixture: Fixture, video: ProbedVideo, spec: SizeSpec): Promise<void> {
  const { pixels } = await decodeImage(sheet.data);
  for (const [k, cell] of (sheet.cells ?? []).entries()) {
    const image = cropRgb(pixels, sheet.width, cell.x, cell.y, cell.width, cell.height);
    await expectResizedFrame(image, frames.get(fixture)!, held[k].frameIndex, video, spec, `cell ${first + k}`);
  }
}

describe('bad sprites', () => {
  const rows: { name: string; options: Record<string, unknown>; expects: string }[] = [
    { name: 'no columns', options: { sprite: { rows: 2 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'no rows', options: { sprite: { columns: 2 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: '0 columns', options: { sprite: { columns: 0, rows: 2 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'negative rows', options: { sprite: { columns: 2, rows: -1 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: '101 columns', options: { sprite: { columns: 101, rows: 1 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'fractional rows', options: { sprite: { columns: 2, rows: 1.5 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'columns as text', options: { sprite: { columns: '2', rows: 2 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'an unknown key', options: { sprite: { columns: 2, rows: 2, gap: 1 } }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'the CLI spelling', options: { sprite: '10x10' }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'an array', options: { sprite: [10, 10] }, expects: '{ columns, rows }, integers between 1 and 100' },
    { name: 'raw frames', options: { sprite: { columns: 2, rows: 2 }, format: 'raw' }, expects: 'no value when format is raw' },
  ];

  it.each(rows)('$name: VSNAP_INVALID_OPTION naming sprite, before the input is opened', async ({ options, expects }) => {
    const error = await failureOf(() => collect('/nonexistent/video.mp4', options as SnapshotOptions));
    expect(error).toBeInstanceOf(VsnapError);
    expect(error).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option: 'sprite' });
    expect((error as Error).message).toContain(`Expected ${expects} for sprite but received `);
  });
});
