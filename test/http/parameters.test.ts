/**
 * The sampling and output parameters of the API (parameters.start, end,
 * count, times, width, height, fit, format webp, sprite) against a real
 * `vsnap serve`, on both backends (a service configured for wasm): the
 * items are the sampling oracle's frames, the images are those frames at
 * the size rule's size (by PSNR against the ffmpeg CLI's decode resized by
 * sharp), a sprite writes its sheets and thumbnails.vtt to oss and points
 * each item at its cell; a request without the new fields gets the seed's
 * answer exactly; HDR video is tone-mapped as the library maps it unless
 * parameters.tonemap is "off"; every bad value is a 400 InvalidParameter envelope naming
 * `parameters.<field>`, values the video cannot answer (a start past its
 * end) included.
 */

import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { snapshot } from '../../src/index.js';

import { type Deployment, startDeployment } from '../helpers/deployment.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { hlg } from '../helpers/hdr-videos.js';
import { fixturePath } from '../helpers/made-file.js';
import { decodeImage, expectedOutputs, psnr, type Mode, type ProbedVideo } from '../helpers/oracle.js';
import { expectedSamples, windowEndSeconds, type SamplingSpec } from '../helpers/sampling-oracle.js';
import type { ApiResponse, Service } from '../helpers/service.js';
import { testKeys } from '../helpers/service-keys.js';
import { cropRgb, expectedSize, expectResizedFrame, sharpFormat, smoothFrames, type SizeSpec } from '../helpers/size-oracle.js';
import { cellOf, cellSpec, sheetSize } from '../helpers/sprite-layout.js';
import { cellReference, expectTrack } from '../helpers/thumbnail-track.js';

const key = testKeys.main;
type Fixture = 'mp4-h264' | 'mp4-rotate-cw90';
const fixtureNames: readonly Fixture[] = ['mp4-h264', 'mp4-rotate-cw90'];

interface Item {
  frame_index: number;
  frame_time: number;
  path?: string;
  content?: string;
}

interface ApiCase {
  name: string;
  fixture: Fixture;
  parameters: Record<string, unknown>;
  /** What the parameters ask for, as the oracles take it. */
  sampling: SamplingSpec;
  mode: Mode;
  size: SizeSpec;
  format: 'jpg' | 'png' | 'webp';
  sprite?: { columns: number; rows: number };
  kind: 'sync' | 'async';
  backends: readonly ('native' | 'wasm')[];
}

const cases: ApiCase[] = [
  {
    name: 'a window every second as PNG',
    fixture: 'mp4-h264',
    parameters: { interval: 1, start: 1.2, end: 3.1, format: 'png' },
    sampling: { interval: 1, start: 1.2, end: 3.1 },
    mode: 'exact',
    size: {},
    format: 'png',
    kind: 'sync',
    backends: ['native'],
  },
  {
    name: 'a count of keyframes in a window, 90 high',
    fixture: 'mp4-h264',
    parameters: { count: 4, start: 1, end: 3, mode: 'keyframe', height: 90 },
    sampling: { count: 4, start: 1, end: 3 },
    mode: 'keyframe',
    size: { height: 90 },
    format: 'jpg',
    kind: 'sync',
    backends: ['native'],
  },
  {
    name: 'chosen times out of order as WebP, contained in 160x160',
    fixture: 'mp4-h264',
    parameters: { times: [2.2, 0.5, 3.5], format: 'webp', width: 160, height: 160, fit: 'contain' },
    sampling: { times: [2.2, 0.5, 3.5] },
    mode: 'exact',
    size: { width: 160, height: 160, fit: 'contain' },
    format: 'webp',
    kind: 'sync',
    backends: ['native', 'wasm'],
  },
  {
    name: 'a rotated video inside 200x100, upright, to oss',
    fixture: 'mp4-rotate-cw90',
    parameters: { times: [1, 2.5], width: 200, height: 100, fit: 'inside', format: 'png' },
    sampling: { times: [1, 2.5] },
    mode: 'exact',
    size: { width: 200, height: 100, fit: 'inside' },
    format: 'png',
    kind: 'async',
    backends: ['native'],
  },
  {
    name: 'eight outputs in 3x2 sprite sheets',
    fixture: 'mp4-h264',
    parameters: { count: 8, sprite: { columns: 3, rows: 2 }, format: 'png' },
    sampling: { count: 8 },
    mode: 'exact',
    size: {},
    format: 'png',
    sprite: { columns: 3, rows: 2 },
    kind: 'sync',
    backends: ['native'],
  },
  {
    name: 'keyframes of a window in 2x2 sprite sheets of contained 100x100 cells',
    fixture: 'mp4-h264',
    parameters: { count: 5, start: 0.5, end: 3.5, mode: 'keyframe', width: 100, height: 100, fit: 'contain', sprite: { columns: 2, rows: 2 } },
    sampling: { count: 5, start: 0.5, end: 3.5 },
    mode: 'keyframe',
    size: { width: 100, height: 100, fit: 'contain' },
    format: 'jpg',
    sprite: { columns: 2, rows: 2 },
    kind: 'async',
    backends: ['native', 'wasm'],
  },
];

const videos = new Map<Fixture, ProbedVideo>();
const files = new Map<Fixture, string>();

beforeAll(async () => {
  for (const name of fixtureNames) {
    videos.set(name, await fixtureVideo(fixtureNamed(name)));
    files.set(name, await fixturePath(fixtureNamed(name)));
  }
});

describe.each(['native', 'wasm'] as const)('a service on the %s backend', (backend) => {
  let deployment: Deployment;
  let service: Service;
  const inputs = new Map<Fixture, string>();

  beforeAll(async () => {
    deployment = await startDeployment('embedded', {
      label: `parameters-${backend}`,
      buckets: ['bucket'],
      config: { workers: 1, ...(backend === 'wasm' ? { backend: 'wasm' } : {}) },
    });
    service = deployment.service;
    for (const name of fixtureNames) inputs.set(name, await deployment.putObject('bucket', `${name}.mp4`, files.get(name)!));
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  /** Runs a request of `kind` to its end: the sync answer, or the finished task's status. */
  async function snapshotRequest(kind: 'sync' | 'async', body: Record<string, unknown>): Promise<ApiResponse> {
    const response = await service.request('POST', service.apiPath(kind), { key, body });
    if (kind === 'sync' || response.status !== 200) return response;
    return service.waitForTask((response.body.result as { task_id: string }).task_id, key);
  }

  it.each(cases.filter((c) => c.backends.includes(backend)))('$kind: $name', async (c) => {
    const video = videos.get(c.fixture)!;
    const oss = c.kind === 'async' || c.sprite !== undefined;
    const response = await snapshotRequest(c.kind, {
      input: { oss: inputs.get(c.fixture) },
      parameters: c.parameters,
      output: oss ? { type: 'oss', oss: 'oss://bucket/out' } : { type: 'base64' },
    });
    expect(response.status, response.text).toBe(200);
    const result = response.body.result as { task_id: string; status: string; data: Item[] };
    expect(result.status).toBe('SUCCESS');
    const expected = expectedSamples(video, c.sampling, c.mode);
    expect(result.data.map((d) => [d.frame_index, d.frame_time])).toEqual(expected.map((e) => [e.frameIndex, e.frameTime]));
    for (const item of result.data) expect(Object.keys(item).sort()).toEqual(oss ? ['frame_index', 'frame_time', 'path'] : ['content', 'frame_index', 'frame_time']);
    expect(response.body.usage).toEqual({ image_count: expected.length, image: expected.length });

    const spec = c.sprite === undefined ? c.size : cellSpec(c.size);
    const size = expectedSize(video.displayWidth, video.displayHeight, spec);
    const frames = await smoothFrames(video, expected.flatMap((e) => [e.frameIndex - 1, e.frameIndex, e.frameIndex + 1]));
    const expectFrame = (pixels: Buffer, k: number) => expectResizedFrame(pixels, frames, expected[k].frameIndex, video, spec, `item ${k}`);
    const prefix = `oss://bucket/out/${result.task_id}`;

    if (c.sprite === undefined) {
      for (const [k, item] of result.data.entries()) {
        if (oss) expect(item.path).toBe(`${prefix}/snapshot_${k}.${c.format}`);
        const data = oss ? await deployment.readObject(item.path!) : Buffer.from(item.content!, 'base64');
        const meta = await sharp(data).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual([sharpFormat[c.format], size.width, size.height]);
        await expectFrame((await decodeImage(data)).pixels, k);
      }
      return;
    }

    const perSheet = c.sprite.columns * c.sprite.rows;
    const cells = expected.map((_, k) => cellOf(k, c.sprite!, size));
    const references = cells.map((cell) => cellReference(`sprite_${cell.sheet}.${c.format}`, cell));
    expect(result.data.map((d) => d.path)).toEqual(references.map((reference) => `${prefix}/${reference}`));
    for (let j = 0; j < Math.ceil(expected.length / perSheet); j++) {
      const held = cells.filter((cell) => cell.sheet === j);
      const data = await deployment.readObject(`${prefix}/sprite_${j}.${c.format}`);
      const meta = await sharp(data).metadata();
      expect([meta.format, meta.width, meta.height])
        .toEqual([sharpFormat[c.format], ...Object.values(sheetSize(held.length, c.sprite, size))]);
      const { pixels } = await decodeImage(data);
      for (const cell of held) await expectFrame(cropRgb(pixels, meta.width!, cell.x, cell.y, cell.width, cell.height), cells.indexOf(cell));
    }
    const track = (await deployment.readObject(`${prefix}/thumbnails.vtt`)).toString('utf8');
    expectTrack(track, expected.map((e, k) => ({ targetTime: e.targetTime, reference: references[k] })), windowEndSeconds(video, c.sampling));
  });

  it.runIf(backend === 'native')('tone-maps HDR video as the library does, and leaves it unmapped with parameters.tonemap "off"', async () => {
    const input = await deployment.putObject('bucket', 'hdr-hlg.mp4', await fixturePath(hlg));
    const images = async (parameters: Record<string, unknown>) => {
      const response = await snapshotRequest('sync', { input: { oss: input }, parameters, output: { type: 'base64' } });
      expect(response.status, response.text).toBe(200);
      const data = (response.body.result as { data: Item[] }).data;
      return Promise.all(data.map(async (item) => (await decodeImage(Buffer.from(item.content!, 'base64'))).pixels));
    };
    for (const tonemap of ['auto', 'off'] as const) {
      const served = await images(tonemap === 'auto' ? { interval: 1 } : { interval: 1, tonemap });
      const library: Buffer[] = [];
      for await (const image of snapshot(await fixturePath(hlg), { interval: 1, tonemap, backend: 'native' })) library.push((await decodeImage(image.data)).pixels);
      expect(served.length).toBe(library.length);
      for (const [k, pixels] of served.entries()) expect(psnr(pixels, library[k])).toBeGreaterThan(45);
    }
    const [mapped, unmapped] = [await images({ interval: 1 }), await images({ interval: 1, tonemap: 'off' })];
    expect(psnr(mapped[0], unmapped[0])).toBeLessThan(25);
  });

  it("answers a request without the new fields exactly as the seed: today's frames, the seed's item fields, full-size JPEG", async () => {
    const video = videos.get('mp4-h264')!;
    const expected = expectedOutputs(video, 1, 'exact');
    for (const parameters of [undefined, { interval: 1 }, { interval: 1, format: 'jpg', mode: 'exact' }]) {
      const response = await snapshotRequest('sync', {
        input: { content: `data:video/mp4;base64,${(await readFile(files.get('mp4-h264')!)).toString('base64')}` },
        ...(parameters === undefined ? {} : { parameters }),
        output: { type: 'base64' },
      });
      expect(response.status, response.text).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['latency', 'request_id', 'result', 'usage']);
      const result = response.body.result as { status: string; data: Item[] };
      expect(Object.keys(result).sort()).toEqual(['data', 'status', 'task_id']);
      expect(result.data.map((d) => Object.keys(d).sort())).toEqual(expected.map(() => ['content', 'frame_index', 'frame_time']));
      expect(result.data.map((d) => [d.frame_index, d.frame_time])).toEqual(expected.map((e) => [e.frameIndex, e.frameTime]));
      expect(response.body.usage).toEqual({ image_count: expected.length, image: expected.length });
      const meta = await sharp(Buffer.from(result.data[0].content!, 'base64')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
    }
  });

  describe('bad parameters', () => {
    interface Row {
      name: string;
      parameters: Record<string, unknown>;
      output?: Record<string, unknown>;
      /** The field as the message names it. */
      field: string;
      says: string;
      /** Found once the video is open (the others are checked before): tried on both backends. */
      opened?: boolean;
    }

    const rows: Row[] = [
      { name: 'a negative start', parameters: { start: -1 }, field: 'parameters.start', says: 'a number of seconds from 0' },
      { name: 'a start as a string', parameters: { start: '1' }, field: 'parameters.start', says: 'a number of seconds from 0' },
      { name: 'an end of 0', parameters: { end: 0 }, field: 'parameters.end', says: 'a number of seconds above 0' },
      { name: 'an end at the start', parameters: { start: 2, end: 2 }, field: 'parameters.end', says: 'a time after parameters.start (2 s)' },
      { name: 'a count of 0', parameters: { count: 0 }, field: 'parameters.count', says: 'an integer between 1 and 100000' },
      { name: 'a fractional count', parameters: { count: 1.5 }, field: 'parameters.count', says: 'an integer between 1 and 100000' },
      { name: 'a count with an interval', parameters: { count: 3, interval: 1 }, field: 'parameters.count', says: 'no value when parameters.interval is given' },
      { name: 'no times', parameters: { times: [] }, field: 'parameters.times', says: 'a list of 1 to 100000 numbers of seconds' },
      { name: 'a time as a string', parameters: { times: [1, '2'] }, field: 'parameters.times', says: 'a list of 1 to 100000 numbers of seconds' },
      { name: 'a negative time', parameters: { times: [-1] }, field: 'parameters.times', says: 'a list of 1 to 100000 numbers of seconds' },
      { name: 'times as a string', parameters: { times: '1.5,7' }, field: 'parameters.times', says: 'a list of 1 to 100000 numbers of seconds' },
      { name: 'times with a start', parameters: { times: [1], start: 1 }, field: 'parameters.times', says: 'no value when parameters.start is given' },
      { name: 'times with a count', parameters: { times: [1], count: 2 }, field: 'parameters.times', says: 'no value when parameters.count is given' },
      { name: 'a width of 0', parameters: { width: 0 }, field: 'parameters.width', says: 'an integer between 1 and 8192' },
      { name: 'a negative width', parameters: { width: -1 }, field: 'parameters.width', says: 'an integer between 1 and 8192' },
      { name: 'a width as a string', parameters: { width: '100' }, field: 'parameters.width', says: 'an integer between 1 and 8192' },
      { name: 'a fractional height', parameters: { height: 90.5 }, field: 'parameters.height', says: 'an integer between 1 and 8192' },
      { name: 'a height of null', parameters: { height: null }, field: 'parameters.height', says: 'an integer between 1 and 8192' },
      { name: 'an unknown fit', parameters: { width: 10, height: 10, fit: 'stretch' }, field: 'parameters.fit', says: 'one of "cover", "contain", "fill", "inside", "outside"' },
      { name: 'an unknown tonemap', parameters: { tonemap: 'hable' }, field: 'parameters.tonemap', says: 'one of "auto", "off"' },
      { name: 'format raw (the library only)', parameters: { format: 'raw' }, field: 'parameters.format', says: 'one of "jpg", "png", "webp"' },
      { name: 'a sprite of 0 columns', parameters: { sprite: { columns: 0, rows: 1 } }, output: { type: 'oss', oss: 'oss://bucket/out' }, field: 'parameters.sprite', says: '{ columns, rows }, integers between 1 and 100' },
      { name: 'a sprite without rows', parameters: { sprite: { columns: 2 } }, output: { type: 'oss', oss: 'oss://bucket/out' }, field: 'parameters.sprite', says: '{ columns, rows }' },
      { name: 'a sprite as a string', parameters: { sprite: '10x10' }, output: { type: 'oss', oss: 'oss://bucket/out' }, field: 'parameters.sprite', says: '{ columns, rows }' },
      { name: 'a sprite to base64 output', parameters: { sprite: { columns: 2, rows: 2 } }, field: 'parameters.sprite', says: 'no value when output.type is "base64"' },
      { name: "a start at the video's end", parameters: { start: 4 }, field: 'parameters.start', says: "a time before the video's end, 4 s", opened: true },
      { name: 'a start past the end, with a count', parameters: { count: 3, start: 7, end: 9 }, field: 'parameters.start', says: "a time before the video's end, 4 s", opened: true },
      { name: 'a chosen time past the end', parameters: { times: [1, 4.5] }, field: 'parameters.times[1]', says: "a time before the video's end, 4 s", opened: true },
      {
        name: 'a sprite sheet over the pixel limit',
        parameters: { sprite: { columns: 100, rows: 100 }, width: 8192 },
        output: { type: 'oss', oss: 'oss://bucket/out' },
        field: 'parameters.sprite',
        says: 'a sheet of at most 67108864 pixels (maxPixels)',
        opened: true,
      },
    ];

    it.each(rows.filter((row) => backend === 'native' || row.opened === true))('$name: 400 InvalidParameter naming $field', async (row) => {
      const response = await snapshotRequest('sync', {
        input: { oss: inputs.get('mp4-h264') },
        parameters: row.parameters,
        output: row.output ?? { type: 'base64' },
      });
      expect(response.status, response.text).toBe(400);
      expect(Object.keys(response.body).sort()).toEqual(['code', 'http_code', 'latency', 'message', 'request_id']);
      expect(response.body).toMatchObject({ code: 'InvalidParameter', http_code: 400 });
      const message = String(response.body.message);
      expect(message).toContain(`Expected ${row.says}`);
      expect(message).toContain(` for ${row.field} but received `);
      expect(message).not.toContain(deployment.dataDir);
    });

    it('refuses a bad parameter of an async request at once, and fails a task whose start is past the end, naming it', async () => {
      const refused = await service.request('POST', service.apiPath('async'), {
        key,
        body: { input: { oss: inputs.get('mp4-h264') }, parameters: { width: 0 }, output: { type: 'oss', oss: 'oss://bucket/out' } },
      });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body).toMatchObject({ code: 'InvalidParameter' });
      expect(String(refused.body.message)).toContain('for parameters.width but received 0');

      const done = await snapshotRequest('async', {
        input: { oss: inputs.get('mp4-h264') },
        parameters: { start: 6, sprite: { columns: 2, rows: 2 } },
        output: { type: 'oss', oss: 'oss://bucket/out' },
      });
      expect(done.status, done.text).toBe(200);
      const result = done.body.result as { status: string; error: string; data?: unknown };
      expect(result.status).toBe('FAIL');
      expect(result.error).toContain("Expected a time before the video's end, 4 s for parameters.start but received 6");
      expect(result.data).toBeUndefined();
    });
  });
});
