/**
 * The two encoders (SnapshotOptions.encoder) are one: sharp with the same
 * settings, on a pool of worker threads or on the calling thread. A turned
 * video in both formats gives the same bytes through either, and a frame
 * that cannot be encoded fails the same way through either. JPEGs carry the
 * standard Huffman tables (sharp-encode.ts says why).
 */

import { afterAll, describe, expect, it } from 'vitest';

import { encoders } from '../../src/encode/encoders.js';
import { SnapshotRun } from '../../src/engine/snapshot.js';
import { shutdown, type ImageFormat, type Snapshot } from '../../src/index.js';
import { resolveInput, resolveSnapshotOptions } from '../../src/options.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { collect } from '../helpers/snapshot-run.js';

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

describe.each(Object.keys(encoders) as (keyof typeof encoders)[])('the %s encoder', (name) => {
  it('rejects a frame shorter than its size says with VSNAP_INTERNAL', async () => {
    const task = { frame: new ArrayBuffer(100), width: 64, height: 64, rotation: 0, format: 'png', quality: 80, compression: 3 } as const;
    await expect(encoders[name].encode(task)).rejects.toMatchObject({
      code: 'VSNAP_INTERNAL',
      message: expect.stringMatching(/^Could not encode a 64x64 frame as png: /),
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

it('writes JPEGs with the standard Huffman tables (ITU T.81 Annex K), not tables optimised per image', async () => {
  const { outputs } = await collect(await fixturePath(fixtureNamed('mp4-h264')), { interval: 2, format: 'jpg', encoder: 'inline' });
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
