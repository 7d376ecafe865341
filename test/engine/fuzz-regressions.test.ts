/**
 * Every input the fuzzer reported (native/fuzz/regressions, described in its
 * README), on both backends in both modes, at the coded size and scaled
 * (the size options' crop, scale and pad): outputs or a documented error,
 * never a crash of this process.
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdown, VsnapError, type BackendName, type SamplingMode } from '../../src/index.js';
import { collect } from '../helpers/snapshot-run.js';

const dir = fileURLToPath(new URL('../../native/fuzz/regressions/', import.meta.url));
const inputs = (await readdir(dir)).filter((name) => name !== 'README.md');
const backends: readonly BackendName[] = ['native', 'wasm'];
const modes: readonly SamplingMode[] = ['exact', 'keyframe'];
const sizes = [{}, { width: 77, height: 45, fit: 'contain' as const }, { width: 31, height: 97, fit: 'cover' as const }];
const documented = ['VSNAP_UNSUPPORTED_INPUT', 'VSNAP_NO_VIDEO_STREAM', 'VSNAP_CORRUPT_INPUT', 'VSNAP_LIMIT_EXCEEDED'];

afterAll(shutdown);

describe.each(inputs)('%s', (name) => {
  it.each(backends.flatMap((backend) => modes.flatMap((mode) => sizes.map((size) => ({ backend, mode, size })))))(
    'on the $backend backend in $mode mode, size $size: outputs or a documented error',
    async ({ backend, mode, size }) => {
      try {
        const { outputs } = await collect(join(dir, name), { backend, mode, interval: 0.5, ...size });
        for (const output of outputs) expect(output.data.length).toBeGreaterThan(0);
      } catch (error) {
        expect(error).toBeInstanceOf(VsnapError);
        expect(documented).toContain((error as VsnapError).code);
      }
    },
  );
});
