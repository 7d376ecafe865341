/**
 * A file path and the same file's bytes in memory give the same metadata and
 * the same snapshots, byte for byte. The fixtures chosen need seeking inside
 * the input (the MP4s keep their index at the end) and cover each demuxer
 * family.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { probe, shutdown, type SamplingMode } from '../../src/index.js';
import { fixtureCases } from '../helpers/fixture-videos.js';
import { fixturePath } from '../helpers/made-file.js';
import { collect } from '../helpers/snapshot-run.js';

const chosen = ['mp4-h264', 'mp4-edit-list', 'mp4-long-gop', 'mkv-open-gop', 'webm-vp9', 'avi-mpeg4', 'flv-flv1'];
const modes: readonly SamplingMode[] = ['exact', 'keyframe'];

afterAll(shutdown);

describe.each((await fixtureCases()).filter((f) => chosen.includes(f.name)))('$name', (fixture) => {
  it.skipIf(!fixture.available)('probes the same from a path and from a Buffer', async () => {
    const path = await fixturePath(fixture);
    expect(await probe(await readFile(path))).toEqual(await probe(path));
  });

  it.skipIf(!fixture.available).each(modes)('gives the same %s-mode snapshots from a path, a Buffer and a Uint8Array', async (mode) => {
    const path = await fixturePath(fixture);
    const buffer = await readFile(path);
    const options = { mode, interval: 1, format: 'png' as const };
    const fromPath = await collect(path, options);
    const fromBuffer = await collect(buffer, options);
    const fromArray = await collect(new Uint8Array(buffer), options);
    expect(fromPath.outputs.length).toBeGreaterThan(0);
    expect(fromBuffer.outputs).toEqual(fromPath.outputs);
    expect(fromArray.outputs).toEqual(fromPath.outputs);
  });
});
