/**
 * The sampling and output flags of `vsnap extract` (--start, --end, --count,
 * --times, --mode, --width, --height, --fit, --format, --quality,
 * --compression, --sprite), on both backends (--backend wasm), in a child
 * process as a user runs it: the --json items (frame_index, frame_time,
 * path, width, height) are the sampling oracle's outputs at the size rule's
 * size, the files are those images (the exact frames resized, by PSNR), a
 * sprite run writes its sheets and a thumbnails.vtt the W3C's parser reads;
 * every bad value exits 2 with one line on stderr naming the flag and
 * VSNAP_INVALID_OPTION. Runs the build (dist/).
 */

import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { oneLine, runCli } from '../helpers/cli-run.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath, scratchPath } from '../helpers/made-file.js';
import { decodeImage, type Mode } from '../helpers/oracle.js';
import { expectedSamples, windowEndSeconds, type SamplingSpec } from '../helpers/sampling-oracle.js';
import { cropRgb, expectedSize, expectResizedFrame, sharpFormat, smoothFrames, type SizeSpec } from '../helpers/size-oracle.js';
import { cellOf, cellSpec, sheetSize } from '../helpers/sprite-layout.js';
import { cellReference, expectTrack } from '../helpers/thumbnail-track.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

type Fixture = 'mp4-h264' | 'mp4-rotate-cw90' | 'mp4-long-gop';

interface CliCase {
  name: string;
  fixture: Fixture;
  flags: string[];
  /** What the flags ask for, as the oracles take it. */
  sampling: SamplingSpec;
  mode: Mode;
  size: SizeSpec;
  format: 'jpg' | 'png' | 'webp';
  sprite?: { columns: number; rows: number };
}

const cases: CliCase[] = [
  {
    name: 'a window every 0.5 s as PNG',
    fixture: 'mp4-h264',
    flags: ['--start', '1.2', '--end', '3.1', '--interval', '0.5', '--format', 'png', '--compression', '9'],
    sampling: { interval: 0.5, start: 1.2, end: 3.1 },
    mode: 'exact',
    size: {},
    format: 'png',
  },
  {
    name: 'a count of keyframes in a window, 90 high',
    fixture: 'mp4-h264',
    flags: ['--count', '4', '--start', '1', '--end', '3', '--mode', 'keyframe', '--height', '90', '--quality', '95'],
    sampling: { count: 4, start: 1, end: 3 },
    mode: 'keyframe',
    size: { height: 90 },
    format: 'jpg',
  },
  {
    name: 'chosen times out of order as WebP, contained in 160x160',
    fixture: 'mp4-h264',
    flags: ['--times', '2.2,0.5,3.5', '--format', 'webp', '--quality', '95', '--width', '160', '--height', '160', '--fit', 'contain'],
    sampling: { times: [2.2, 0.5, 3.5] },
    mode: 'exact',
    size: { width: 160, height: 160, fit: 'contain' },
    format: 'webp',
  },
  {
    name: 'a rotated video inside 200x100, upright',
    fixture: 'mp4-rotate-cw90',
    flags: ['--times', '1,2.5', '--width', '200', '--height', '100', '--fit', 'inside', '--format', 'png'],
    sampling: { times: [1, 2.5] },
    mode: 'exact',
    size: { width: 200, height: 100, fit: 'inside' },
    format: 'png',
  },
  {
    name: 'keyframes from 5 s on, stretched to 100x50',
    fixture: 'mp4-long-gop',
    flags: ['--start', '5', '--mode', 'keyframe', '--width', '100', '--height', '50', '--fit', 'fill', '--format', 'png'],
    sampling: { start: 5 },
    mode: 'keyframe',
    size: { width: 100, height: 50, fit: 'fill' },
    format: 'png',
  },
  {
    name: 'eight outputs in 3x2 sprite sheets',
    fixture: 'mp4-h264',
    flags: ['--count', '8', '--sprite', '3x2', '--format', 'png'],
    sampling: { count: 8 },
    mode: 'exact',
    size: {},
    format: 'png',
    sprite: { columns: 3, rows: 2 },
  },
  {
    name: 'wasm: keyframes of a window in 2x2 sprite sheets of contained 100x100 cells',
    fixture: 'mp4-h264',
    flags: [
      '--backend', 'wasm', '--sprite', '2x2', '--count', '5', '--start', '0.5', '--end', '3.5', '--mode', 'keyframe',
      '--width', '100', '--height', '100', '--fit', 'contain', '--quality', '95',
    ],
    sampling: { count: 5, start: 0.5, end: 3.5 },
    mode: 'keyframe',
    size: { width: 100, height: 100, fit: 'contain' },
    format: 'jpg',
    sprite: { columns: 2, rows: 2 },
  },
  {
    name: 'wasm: chosen times of a rotated video 120 wide as WebP',
    fixture: 'mp4-rotate-cw90',
    flags: ['--backend', 'wasm', '--times', '2.5,1', '--width', '120', '--format', 'webp', '--quality', '95'],
    sampling: { times: [2.5, 1] },
    mode: 'exact',
    size: { width: 120 },
    format: 'webp',
  },
];

interface Item {
  frame_index: number;
  frame_time: number;
  path: string;
  width: number;
  height: number;
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'vsnap-cli.cjs'))) throw new Error('bin/vsnap runs dist/: run `npm run build` first');
});

describe('vsnap extract with sampling and output flags', () => {
  it.each(cases)('$name', async (c) => {
    const fixture = fixtureNamed(c.fixture);
    const video = await fixtureVideo(fixture);
    const out = await scratchPath(`cli-options-${c.name.replace(/\W+/g, '-')}`);
    await rm(out, { recursive: true, force: true });
    const result = await runCli(['extract', await fixturePath(fixture), '--out', out, '--json', ...c.flags]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);

    const printed = JSON.parse(oneLine(result.stdout)) as { data: Item[]; usage: { image_count: number } };
    for (const item of printed.data) expect(Object.keys(item).sort()).toEqual(['frame_index', 'frame_time', 'height', 'path', 'width']);
    const expected = expectedSamples(video, c.sampling, c.mode);
    expect(printed.data.map((d) => [d.frame_index, d.frame_time])).toEqual(expected.map((e) => [e.frameIndex, e.frameTime]));
    expect(printed.usage.image_count).toBe(expected.length);

    const spec = c.sprite === undefined ? c.size : cellSpec(c.size);
    const size = expectedSize(video.displayWidth, video.displayHeight, spec);
    expect(printed.data.map((d) => [d.width, d.height])).toEqual(expected.map(() => [size.width, size.height]));
    const frames = await smoothFrames(video, expected.flatMap((e) => [e.frameIndex - 1, e.frameIndex, e.frameIndex + 1]));

    const expectFrame = (pixels: Buffer, k: number) => expectResizedFrame(pixels, frames, expected[k].frameIndex, video, spec, `output ${k}`);

    if (c.sprite === undefined) {
      const names = expected.map((_, k) => `snapshot_${k}.${c.format}`);
      expect(printed.data.map((d) => d.path)).toEqual(names.map((name) => join(out, name)));
      expect((await readdir(out)).sort()).toEqual([...names].sort());
      for (const [k, name] of names.entries()) {
        const data = await readFile(join(out, name));
        const meta = await sharp(data).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual([sharpFormat[c.format], size.width, size.height]);
        await expectFrame((await decodeImage(data)).pixels, k);
      }
      return;
    }

    const perSheet = c.sprite.columns * c.sprite.rows;
    const cells = expected.map((_, k) => cellOf(k, c.sprite!, size));
    const references = cells.map((cell) => cellReference(`sprite_${cell.sheet}.${c.format}`, cell));
    expect(printed.data.map((d) => d.path)).toEqual(references.map((reference) => join(out, reference)));
    const sheets = Math.ceil(expected.length / perSheet);
    const sheetNames = Array.from({ length: sheets }, (_, j) => `sprite_${j}.${c.format}`);
    expect((await readdir(out)).sort()).toEqual([...sheetNames, 'thumbnails.vtt'].sort());
    for (const [j, name] of sheetNames.entries()) {
      const held = cells.filter((cell) => cell.sheet === j);
      const data = await readFile(join(out, name));
      const meta = await sharp(data).metadata();
      expect([meta.format, meta.width, meta.height])
        .toEqual([sharpFormat[c.format], ...Object.values(sheetSize(held.length, c.sprite, size))]);
      const { pixels } = await decodeImage(data);
      for (const cell of held) {
        const k = cells.indexOf(cell);
        await expectFrame(cropRgb(pixels, meta.width!, cell.x, cell.y, cell.width, cell.height), k);
      }
    }
    const track = await readFile(join(out, 'thumbnails.vtt'), 'utf8');
    expectTrack(track, expected.map((e, k) => ({ targetTime: e.targetTime, reference: references[k] })), windowEndSeconds(video, c.sampling));
  });

  it('sums up a sprite run in one line on stderr', async () => {
    const out = await scratchPath('cli-options-sprite-summary');
    await rm(out, { recursive: true, force: true });
    const result = await runCli(['extract', await fixturePath(fixtureNamed('mp4-h264')), '--out', out, '--count', '5', '--sprite', '2x2']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('');
    expect(oneLine(result.stderr)).toMatch(/^wrote 5 images in 2 jpg sprite sheets and thumbnails\.vtt to .+ \(exact mode, /);
    expect((await readdir(out)).sort()).toEqual(['sprite_0.jpg', 'sprite_1.jpg', 'thumbnails.vtt']);
  });

  it('lists every new flag in its help', async () => {
    const result = await runCli(['extract', '--help']);
    expect(result.exitCode).toBe(0);
    for (const flag of ['--start S', '--end S', '--count N', '--times T1,T2,...', '--width W', '--height H', '--fit cover|contain|fill|inside|outside', '--sprite CxR', '--format jpg|png|webp']) {
      expect(result.stdout).toContain(flag);
    }
  });
});

describe.concurrent('vsnap extract refuses bad flag values', () => {
  interface Row {
    name: string;
    flags: string[];
    /** The option as the message names it. */
    names: string;
    says: string;
  }

  const rows: Row[] = [
    { name: 'a negative --start', flags: ['--start', '-1'], names: '--start', says: 'a number of seconds from 0' },
    { name: '--end 0', flags: ['--end', '0'], names: '--end', says: 'a number of seconds above 0' },
    { name: '--end at --start', flags: ['--start', '2', '--end', '2'], names: '--end', says: 'a time after --start (2 s)' },
    { name: '--count 0', flags: ['--count', '0'], names: '--count', says: 'an integer between 1 and 100000' },
    { name: 'a fractional --count', flags: ['--count', '2.5'], names: '--count', says: 'an integer between 1 and 100000' },
    { name: '--count with --interval', flags: ['--count', '3', '--interval', '1'], names: '--count', says: 'no value when --interval is given' },
    { name: '--times with a word in it', flags: ['--times', '1,abc'], names: '--times', says: 'a comma-separated list of 1 to 100000 numbers' },
    { name: 'a negative time', flags: ['--times', '1,-2'], names: '--times', says: 'a comma-separated list' },
    { name: '--times with --start', flags: ['--times', '1', '--start', '1'], names: '--times', says: 'no value when --start is given' },
    { name: '--times with --count', flags: ['--times', '1,2', '--count', '2'], names: '--times', says: 'no value when --count is given' },
    { name: '--width 0', flags: ['--width', '0'], names: '--width', says: 'an integer between 1 and 8192' },
    { name: 'a negative --width', flags: ['--width', '-1'], names: '--width', says: 'an integer between 1 and 8192' },
    { name: '--width as text', flags: ['--width', 'wide'], names: '--width', says: 'an integer between 1 and 8192' },
    { name: '--height over the largest side', flags: ['--height', '8193'], names: '--height', says: 'an integer between 1 and 8192' },
    { name: 'an unknown --fit', flags: ['--width', '10', '--height', '10', '--fit', 'stretch'], names: '--fit', says: 'one of cover, contain, fill, inside, outside' },
    { name: 'an unknown --tonemap', flags: ['--tonemap', 'hable'], names: '--tonemap', says: 'one of auto, off' },
    { name: '--format raw (the library only)', flags: ['--format', 'raw'], names: '--format', says: 'one of jpg, png, webp' },
    { name: '--sprite without rows', flags: ['--sprite', '10'], names: '--sprite', says: 'COLUMNSxROWS, such as 10x10, each between 1 and 100' },
    { name: '--sprite 0x5', flags: ['--sprite', '0x5'], names: '--sprite', says: 'COLUMNSxROWS' },
    { name: '--sprite of words', flags: ['--sprite', 'axb'], names: '--sprite', says: 'COLUMNSxROWS' },
    { name: "--start at the video's end", flags: ['--start', '4'], names: '--start', says: "a time before the video's end, 4 s" },
    { name: '--start past the end, with --count', flags: ['--count', '2', '--start', '9'], names: '--start', says: "a time before the video's end, 4 s" },
    { name: 'a chosen time past the end', flags: ['--times', '1,5'], names: '--times[1]', says: "a time before the video's end, 4 s" },
    { name: 'a sprite sheet over the pixel limit', flags: ['--sprite', '100x100', '--width', '8192'], names: '--sprite', says: 'a sheet of at most 67108864 pixels (maxPixels)' },
  ];

  it.for(rows)('$name: exit 2, one line naming $names, VSNAP_INVALID_OPTION', async (row) => {
    const out = await scratchPath(`cli-options-bad-${row.name.replace(/\W+/g, '-')}`);
    await rm(out, { recursive: true, force: true });
    const result = await runCli(['extract', await fixturePath(fixtureNamed('mp4-h264')), '--out', out, '--json', ...row.flags]);
    expect(result.stdout).toBe('');
    const line = oneLine(result.stderr);
    expect(line).toMatch(/^vsnap: Expected .+ \(VSNAP_INVALID_OPTION\)$/);
    expect(line).toContain(`Expected ${row.says}`);
    expect(line).toContain(` for ${row.names} but received `);
    expect(result.exitCode).toBe(2);
    // Never an empty success: nothing written.
    expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
  });
});
