/**
 * Every input the fuzzer reported (native/fuzz/regressions, described in its
 * README), on both backends in both modes: outputs or a documented error,
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
const documented = ['VSNAP_UNSUPPORTED_INPUT', 'VSNAP_NO_VIDEO_STREAM', 'VSNAP_CORRUPT_INPUT', 'VSNAP_LIMIT_EXCEEDED'];

afterAll(shutdown);

describe.each(inputs)('%s', (name) => {
  it.each(backends.flatMap((backend) => modes.map((mode) => ({ backend, mode }))))(
    'on the $backend backend in $mode mode: outputs or a documented error',
    async ({ backend, mode }) => {
      try {
        const { outputs } = await collect(join(dir, name), { backend, mode, interval: 0.5 });
        for (const output of outputs) expect(output.data.length).toBeGreaterThan(0);
      } catch (error) {
        expect(error).toBeInstanceOf(VsnapError);
        expect(documented).toContain((error as VsnapError).code);
      }
    },
  );
});
