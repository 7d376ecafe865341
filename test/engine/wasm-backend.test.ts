/**
 * What the wasm backend does beyond the oracle and parity tests: inputs of
 * every kind (a Buffer, a URL on a loopback server), the size limit checked
 * before any work (a sparse file of just over 4 GiB, as a file and as a URL
 * declaring that length), an abort that ends worker threads mid-run without
 * harming the next run, and decode lanes running at once.
 */

import { open, readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, shutdown, snapshot } from '../../src/index.js';
import { maxWasmInputBytes } from '../../wasm/input-bytes.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath, scratchPath } from '../helpers/made-file.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

const wasm = { backend: 'wasm' } as const;

let server: RangeServer;
let hugePath: string;

beforeAll(async () => {
  hugePath = await scratchPath('wasm-too-large.mp4');
  // Sparse: the size is declared, no disk is used.
  const file = await open(hugePath, 'w');
  await file.truncate(maxWasmInputBytes + 1);
  await file.close();
  server = await startRangeServer({
    'mp4-bframes': await fixturePath(fixtureNamed('mp4-bframes')),
    huge: hugePath,
  });
});

afterAll(async () => {
  await server?.close();
  await rm(hugePath, { force: true });
  await shutdown();
});

describe('inputs', () => {
  it('reads a Buffer and a URL as it reads the file', async () => {
    const path = await fixturePath(fixtureNamed('mp4-bframes'));
    const options = { ...wasm, mode: 'exact', interval: 1, format: 'png' } as const;
    const fromPath = await collect(path, options);
    expect(fromPath.outputs.length).toBeGreaterThan(1);
    expect((await collect(await readFile(path), options)).outputs).toEqual(fromPath.outputs);
    expect((await collect({ url: server.url('mp4-bframes', 'X-Signature=secret') }, options)).outputs).toEqual(fromPath.outputs);
  });

  it('says a URL the server does not have is VSNAP_INPUT_NOT_FOUND, without its query', async () => {
    const error = await failureOf(() => probe({ url: server.url('missing', 'X-Signature=secret') }, wasm));
    expect(error).toMatchObject({ code: 'VSNAP_INPUT_NOT_FOUND', message: expect.stringContaining('HTTP 404') });
    expect((error as Error).message).not.toContain('secret');
  });
});

describe('an input larger than the wasm backend holds', () => {
  it('is refused as a file by its size', async () => {
    for (const attempt of [() => probe(hugePath, wasm), () => collect(hugePath, { ...wasm, mode: 'keyframe' })]) {
      const error = await failureOf(attempt);
      expect(error).toMatchObject({ code: 'VSNAP_INPUT_TOO_LARGE', message: expect.stringContaining(`${maxWasmInputBytes + 1} bytes`) });
      expect((error as Error).message).toContain('native backend');
    }
  });

  it('is refused as a URL by its Content-Length, before the body is read', async () => {
    server.reset();
    const error = await failureOf(() => probe({ url: server.url('huge') }, wasm));
    expect(error).toMatchObject({ code: 'VSNAP_INPUT_TOO_LARGE' });
    expect(server.bytesSent).toBeLessThan(64 * 1024 * 1024);
  });

  it('is no limit of the native backend', async () => {
    const error = await failureOf(() => probe(hugePath, { backend: 'native' }));
    expect(error).not.toMatchObject({ code: 'VSNAP_INPUT_TOO_LARGE' });
  });
});

describe('runs', () => {
  it('stops at an abort, and the next run works', async () => {
    const path = await fixturePath(fixtureNamed('mp4-long-gop'));
    const controller = new AbortController();
    const run = snapshot(path, { ...wasm, mode: 'exact', interval: 0.5, signal: controller.signal });
    const error = await failureOf(async () => {
      for await (const output of run) if (output.outputIndex === 1) controller.abort();
    });
    expect(error).toMatchObject({ code: 'VSNAP_ABORTED' });
    const again = await collect(path, { ...wasm, mode: 'keyframe', interval: 5 });
    expect(again.outputs.length).toBeGreaterThan(0);
  });

  it('decodes each keyframe on its own where the decoder ignores -skip_frame (VP9), and neighbouring keyframes in one run elsewhere', async () => {
    // Keyframe mode at a short interval takes every keyframe: neighbours all.
    const vp9 = await collect(await fixturePath(fixtureNamed('webm-vp9')), { ...wasm, mode: 'keyframe', interval: 0.5 });
    const native = await collect(await fixturePath(fixtureNamed('webm-vp9')), { backend: 'native', mode: 'keyframe', interval: 0.5 });
    expect(vp9.outputs.map((o) => o.frameIndex)).toEqual(native.outputs.map((o) => o.frameIndex));
    expect(vp9.outputs.length).toBeGreaterThan(1);
    // One run, one seek, one frame decoded per keyframe.
    expect(vp9.stats.seeksAvoided).toBe(0);
    expect(vp9.stats.framesDecoded).toBe(vp9.outputs.length);
    const h264 = await collect(await fixturePath(fixtureNamed('mp4-h264')), { ...wasm, mode: 'keyframe', interval: 0.5 });
    expect(h264.outputs.length).toBeGreaterThan(1);
    expect(h264.stats.seeksAvoided).toBeGreaterThan(0);
  });

  it('runs several extractions at once', async () => {
    const names = ['mp4-h264', 'mkv-h264', 'webm-vp9', 'mp4-bframes'];
    const paths = await Promise.all(names.map((name) => fixturePath(fixtureNamed(name))));
    const together = await Promise.all(paths.map((path) => collect(path, { ...wasm, interval: 1 })));
    for (const [i, path] of paths.entries()) {
      const alone = await collect(path, { ...wasm, interval: 1 });
      expect(together[i].outputs.map((o) => o.frameIndex)).toEqual(alone.outputs.map((o) => o.frameIndex));
    }
  });
});
