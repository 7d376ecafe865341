/**
 * Native and wasm backends give the same snapshots: on every fixture both can
 * decode, in both modes, the same outputs (index, frame index, frame time,
 * size) and images within 35 dB of PSNR of each other (PNG, so only the two
 * decoders' colour conversions differ), and the same probe.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { probe, shutdown, type SamplingMode } from '../../src/index.js';
import { fixtureCases, wasmRefusal } from '../helpers/fixture-videos.js';
import { fixturePath } from '../helpers/made-file.js';
import { decodeImage, psnr } from '../helpers/oracle.js';
import { collect } from '../helpers/snapshot-run.js';

const minParityPsnr = 35;

// The fixtures the wasm backend reads; it refuses the others (modes.test.ts).
const shared = (await fixtureCases()).filter((fixture) => wasmRefusal(fixture) === undefined);
const modes: readonly SamplingMode[] = ['exact', 'keyframe'];

afterAll(shutdown);

describe.each(shared)('$name', (fixture) => {
  it.skipIf(!fixture.available)('probes the same', async () => {
    const path = await fixturePath(fixture);
    const [native, wasm] = await Promise.all([probe(path, { backend: 'native' }), probe(path, { backend: 'wasm' })]);
    expect({ ...wasm, backend: 'native' }).toEqual(native);
    expect(wasm.backend).toBe('wasm');
  });

  it.skipIf(!fixture.available).each(modes)('gives the same %s-mode snapshots', async (mode) => {
    const path = await fixturePath(fixture);
    const options = { mode, interval: fixture.intervals[0], format: 'png' as const };
    const native = await collect(path, { ...options, backend: 'native' });
    const wasm = await collect(path, { ...options, backend: 'wasm' });
    const described = (run: typeof native) =>
      run.outputs.map(({ outputIndex, frameIndex, frameTime, width, height }) => ({ outputIndex, frameIndex, frameTime, width, height }));
    expect(described(wasm)).toEqual(described(native));
    for (let i = 0; i < native.outputs.length; i++) {
      const [a, b] = await Promise.all([decodeImage(native.outputs[i].data), decodeImage(wasm.outputs[i].data)]);
      expect(psnr(a.pixels, b.pixels), `output ${i} (frame ${native.outputs[i].frameIndex})`).toBeGreaterThanOrEqual(minParityPsnr);
    }
  });
});
