/**
 * The encoders (SnapshotOptions.encoder). The two that run sharp are one,
 * with the same settings, on a pool of worker threads or on the calling
 * thread: a turned video in both formats gives the same bytes through
 * either. The native addon's JPEG encoder writes the pixels sharp writes,
 * turned the same way. A frame that cannot be encoded fails the same way
 * through each. JPEGs carry the standard Huffman tables (sharp-encode.ts
 * says why). 'auto' takes the native encoder for JPEG from the native
 * backend, sharp's worker pool otherwise.
 */

import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';

import { nativeEncoder, sharpEncoders, type Encoder } from '../../src/encode/encoders.js';
import type { EncodeTask } from '../../src/encode/task.js';
import { loadBackend } from '../../src/engine/loader.js';
import { SnapshotRun } from '../../src/engine/snapshot.js';
import { snapshot, shutdown, type ImageFormat, type Snapshot, type SnapshotOptions } from '../../src/index.js';
import { resolveInput, resolveSnapshotOptions } from '../../src/options.js';
import { fixtureNamed, fixtures, testsrc2 } from '../helpers/fixtures.js';
import { fixturePath, type MadeFile } from '../helpers/made-file.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

afterAll(shutdown);

const formats: readonly ImageFormat[] = ['jpg', 'png'];

describe.each(formats)('as %s', (format) => {
  it('gives the same images inline as on the workers, turned upright', async () => {
    const input = await fixturePath(fixtureNamed('mp4-rotate-cw90'));
    const options = { interval: 0.5, format, mode: 'exact' } as const;
    const workers = await collect(input, { ...options, encoder: 'workers' });
    const inline = await collect(input, { ...options, encoder: 'inline' });
    expect(workers.outputs.length).toBeGreaterThan(1);
    expect(inline.outputs.length).toBe(workers.outputs.length);
    inline.outputs.forEach((output, i) => {
      const other = workers.outputs[i]!;
      expect({ ...output, data: undefined }).toEqual({ ...other, data: undefined });
      expect(output.height).toBeGreaterThan(output.width);
      expect(output.data.equals(other.data), `output ${i}`).toBe(true);
    });
  });
});

it('gives the same images when lanes decode into frames the inline encoder is done with', async () => {
  const input = await fixturePath(fixtureNamed('mp4-h264'));
  const options = { interval: 0.1, format: 'png', mode: 'exact' } as const;
  const workers = await collect(input, { ...options, encoder: 'workers' });
  // Two lanes and two frames alive at most: every frame after the first two is one an encode gave back.
  const run = new SnapshotRun(resolveInput(input), resolveSnapshotOptions({ ...options, encoder: 'inline' }), { lanes: 2, maxInFlight: 2 });
  const inline: Snapshot[] = [];
  for await (const output of run) inline.push(output);
  expect(workers.outputs.length).toBeGreaterThan(30);
  expect(inline.map((o) => o.frameIndex)).toEqual(workers.outputs.map((o) => o.frameIndex));
  inline.forEach((output, i) => expect(output.data.equals(workers.outputs[i]!.data), `output ${i}`).toBe(true));
});

const native = loadBackend('native');
const encoders: Record<string, Encoder> = {
  ...sharpEncoders,
  native: nativeEncoder((task: EncodeTask) => native.encodeJpeg!(task)),
};

describe.each(Object.keys(encoders))('the %s encoder', (name) => {
  it('rejects a frame shorter than its size says with VSNAP_INTERNAL', async () => {
    const format = name === 'native' ? 'jpg' : 'png';
    const task = { frame: new ArrayBuffer(100), width: 64, height: 64, rotation: 0, format, quality: 80, compression: 3 } as const;
    await expect(encoders[name]!.encode(task)).rejects.toMatchObject({
      code: 'VSNAP_INTERNAL',
      message: expect.stringMatching(new RegExp(`^Could not encode a 64x64 frame as ${format}: `)),
    });
  });
});

/** The decoded pixels of a JPEG, with its size. */
async function pixels(jpeg: Buffer): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

// Every fixture (each codec, container and pixel format: 4:4:4 at an odd
// size and 10-bit 4:2:0, which swscale converts with vertical chroma
// filtering, each an even-size 4:2:0 through its faster path) and an MJPEG
// file (full-range yuvj420p): the native encoder takes the decoded frame
// band by band, turned ones whole, and must write what sharp writes from
// the whole converted frame.
const mjpeg: MadeFile = {
  name: 'avi-mjpeg',
  ext: 'avi',
  encoder: 'mjpeg',
  encode: [...testsrc2(320, 240, 30, 2), '-c:v', 'mjpeg', '-q:v', '4', '-pix_fmt', 'yuvj420p'],
};
const jpegSources: readonly MadeFile[] = [...fixtures, mjpeg];

describe.each(jpegSources.map((file) => [file.name, file] as const))('JPEGs of %s', (_name, file) => {
  it('from the native encoder have the pixels sharp writes, turned upright', async () => {
    const input = await fixturePath(file);
    const options = { interval: 0.5, format: 'jpg', mode: 'exact', backend: 'native' } as const;
    const fromSharp = await collect(input, { ...options, encoder: 'inline' });
    const fromNative = await collect(input, { ...options, encoder: 'native' });
    expect(fromSharp.outputs.length).toBeGreaterThan(1);
    expect(fromNative.outputs.length).toBe(fromSharp.outputs.length);
    for (const [i, output] of fromNative.outputs.entries()) {
      const other = fromSharp.outputs[i]!;
      expect({ ...output, data: undefined }).toEqual({ ...other, data: undefined });
      const [mine, theirs] = await Promise.all([pixels(output.data), pixels(other.data)]);
      expect([mine.width, mine.height]).toEqual([output.width, output.height]);
      expect(mine.data.equals(theirs.data), `output ${i}`).toBe(true);
      // Only the headers differ (sharp's JFIF density, for one).
      expect(Math.abs(output.data.length - other.data.length)).toBeLessThan(64);
    }
  });
});

it('turns a frame each quarter turn as sharp does', async () => {
  // Asymmetric content: a gradient across, another down, noise in blue.
  const width = 48;
  const height = 32;
  const frame = new ArrayBuffer(width * height * 3);
  const bytes = new Uint8Array(frame);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      bytes[at] = x * 5;
      bytes[at + 1] = y * 7;
      bytes[at + 2] = (x * 31 + y * 17) % 256;
    }
  }
  for (const rotation of [0, 90, 180, 270]) {
    const task = { frame, width, height, rotation, format: 'jpg', quality: 90, compression: 3 } as const;
    const [mine, theirs] = await Promise.all([encoders.native!.encode(task), sharpEncoders.inline.encode(task)]);
    const [a, b] = await Promise.all([pixels(mine), pixels(theirs)]);
    expect([a.width, a.height], `rotation ${rotation}`).toEqual(rotation % 180 === 0 ? [width, height] : [height, width]);
    expect(a.data.equals(b.data), `rotation ${rotation}`).toBe(true);
  }
});

it('writes an image larger than its first output buffer (16 KiB) whole', async () => {
  // Noise at quality 100: about 130 kB, so the output buffer doubles from 16 KiB four times.
  const width = 256;
  const height = 256;
  const frame = new ArrayBuffer(width * height * 3);
  const bytes = new Uint8Array(frame);
  let seed = 12345;
  for (let i = 0; i < bytes.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    bytes[i] = seed >> 23;
  }
  const task = { frame, width, height, rotation: 0, format: 'jpg', quality: 100, compression: 3 } as const;
  const [mine, theirs] = await Promise.all([encoders.native!.encode(task), sharpEncoders.inline.encode(task)]);
  expect(mine.length).toBeGreaterThan(4 * 16 * 1024);
  const [a, b] = await Promise.all([pixels(mine), pixels(theirs)]);
  expect(a.data.equals(b.data)).toBe(true);
});

describe("'auto'", () => {
  const input = fixturePath(fixtureNamed('mp4-h264'));
  const planned = async (options: SnapshotOptions) => {
    const controller = new AbortController();
    const run = snapshot(await input, { ...options, signal: controller.signal });
    try {
      return (await run.plan()).encoder;
    } finally {
      controller.abort();
    }
  };

  it('encodes JPEG from the native backend natively, and everything else with sharp on the workers', async () => {
    expect(await planned({ format: 'jpg', backend: 'native' })).toBe('native');
    expect(await planned({ format: 'png', backend: 'native' })).toBe('workers');
    expect(await planned({ format: 'jpg', backend: 'wasm' })).toBe('workers');
    expect(await planned({ format: 'jpg', backend: 'native', encoder: 'inline' })).toBe('inline');
  });

  it("is the default; 'native' is refused with PNG, and with the wasm backend", async () => {
    expect(await planned({ backend: 'native' })).toBe('native');
    expect(await failureOf(async () => snapshot(await input, { format: 'png', encoder: 'native' }))).toMatchObject({
      code: 'VSNAP_INVALID_OPTION',
      option: 'encoder',
    });
    expect(await failureOf(() => planned({ backend: 'wasm', encoder: 'native' }))).toMatchObject({
      code: 'VSNAP_INVALID_OPTION',
      option: 'encoder',
    });
  });
});

/** The Huffman tables (DHT segments) of a baseline JPEG: class, id and the 16 code-length counts of each. */
function huffmanTables(jpeg: Buffer): { table: string; counts: number[] }[] {
  const tables: { table: string; counts: number[] }[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff && jpeg[at + 1] !== 0xda) {
    const length = jpeg.readUInt16BE(at + 2);
    if (jpeg[at + 1] === 0xc4) {
      for (let p = at + 4; p < at + 2 + length; ) {
        const counts = [...jpeg.subarray(p + 1, p + 17)];
        tables.push({ table: `${jpeg[p]! >> 4}/${jpeg[p]! & 15}`, counts });
        p += 17 + counts.reduce((a, b) => a + b, 0);
      }
    }
    at += 2 + length;
  }
  return tables;
}

it.each(['inline', 'native'] as const)('writes JPEGs with the standard Huffman tables (ITU T.81 Annex K), not tables optimised per image (%s)', async (encoder) => {
  const { outputs } = await collect(await fixturePath(fixtureNamed('mp4-h264')), { interval: 2, format: 'jpg', encoder });
  expect(outputs.length).toBeGreaterThan(0);
  // Luminance and chrominance DC tables (K.3, K.4): their code-length counts.
  const standardDc = {
    '0/0': [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    '0/1': [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  };
  for (const output of outputs) {
    const dc = huffmanTables(output.data).filter(({ table }) => table.startsWith('0/'));
    expect(Object.fromEntries(dc.map(({ table, counts }) => [table, counts]))).toEqual(standardDc);
  }
});
