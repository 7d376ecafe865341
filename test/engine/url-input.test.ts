/**
 * Inputs read over http by range, from a real server on a loopback port
 * (range-server.ts): the same metadata and snapshots as the file path, the
 * documented errors for a missing file, a refused connection and a scheme
 * that is not http(s), and the range read itself (native/core/RemoteSource.h):
 * whatever the plan, the number of lanes or the planning path (an MP4's
 * index, or a scan of an MKV or MPEG-TS), each byte is fetched at most once,
 * and stats.bytesRead and stats.requests are what the server counts; a dense
 * plan takes about a request per MiB; either mode every 30 s on a 5-minute,
 * 112 MB MP4 fetches a small part of it. Servers that ignore Range, cap
 * ranges, fail at first, drop connections or change the object between two
 * requests give the file path's snapshots or VSNAP_INPUT_CHANGED.
 */

import { execFile } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, shutdown, snapshot, VsnapError, type SamplingMode } from '../../src/index.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { canMake, fixturePath, scratchPath } from '../helpers/made-file.js';
import { refusedUrl, startRangeServer, type RangeServer, type RangeServerOptions } from '../helpers/range-server.js';
import { denseReadVideo, rangeReadVideo } from '../helpers/range-video.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';
import { SnapshotRun } from '../../src/engine/snapshot.js';
import { resolveInput, resolveSnapshotOptions } from '../../src/options.js';

const modes: readonly SamplingMode[] = ['exact', 'keyframe'];
// Each demuxer family; MP4s with the index at the end and at the start, and
// one whose edit list makes keyframe mode scan.
const chosen = ['mp4-h264', 'mp4-bframes', 'mp4-edit-list', 'mov-h264', 'mkv-h264', 'webm-vp9', 'ts-h264', 'flv-h264'];

let server: RangeServer;

beforeAll(async () => {
  const files: Record<string, string> = {};
  for (const name of chosen) files[name] = await fixturePath(fixtureNamed(name));
  if (await canMake(rangeReadVideo)) files.large = await fixturePath(rangeReadVideo);
  server = await startRangeServer(files);
});

afterAll(async () => {
  await server?.close();
  await shutdown();
});

describe.each(chosen)('%s over http', (name) => {
  it('probes as from the file path', async () => {
    const path = await fixturePath(fixtureNamed(name));
    expect(await probe({ url: server.url(name) })).toEqual(await probe(path));
  });

  it.each(modes)('gives the %s-mode snapshots of the file path, byte for byte', async (mode) => {
    const path = await fixturePath(fixtureNamed(name));
    const options = { mode, interval: 1, format: 'png' as const };
    const fromUrl = await collect({ url: server.url(name) }, options);
    const fromPath = await collect(path, options);
    expect(fromUrl.outputs.length).toBeGreaterThan(0);
    expect(fromUrl.outputs).toEqual(fromPath.outputs);
    expect(fromUrl.stats.bytesRead).toBeGreaterThan(0);
  });
});

/** What an extraction may fetch at most: the file once, and 5% or 256 KiB more, whichever is larger. */
function fetchBudget(size: number): number {
  return size + Math.max(0.05 * size, 256 * 1024);
}

describe('each byte at most once', () => {
  // An MP4 planned from its index, and an MKV and an MPEG-TS, planned by a scan of every packet.
  it.for(['mp4-bframes', 'mkv-h264', 'ts-h264'].flatMap((name) => modes.map((mode) => [name, mode] as const)))(
    '%s, %s mode, every 0.5 s and every 2 s, on 1 lane and on 4',
    async ([name, mode]) => {
      const { size } = await stat(await fixturePath(fixtureNamed(name)));
      for (const interval of [0.5, 2]) {
        for (const lanes of [1, 4]) {
          server.reset();
          const options = resolveSnapshotOptions({ mode, interval });
          const run = new SnapshotRun(resolveInput({ url: server.url(name) }), options, { lanes });
          for await (const _ of run);
          const stats = run.stats();
          const where = `${name} every ${interval} s on ${lanes} lanes: ${server.bytesSent} of ${size} bytes in ${server.ranges.length} requests`;
          expect(server.bytesSent, where).toBeLessThanOrEqual(fetchBudget(size));
          expect(stats.bytesRead, where).toBe(server.bytesSent);
          expect(stats.requests, where).toBe(server.ranges.length);
        }
      }
    },
  );
});

describe.skipIf(!(await canMake(denseReadVideo)))('a dense plan on a 20 s, 7.5 MB MP4', () => {
  let dense: RangeServer;
  let size: number;

  beforeAll(async () => {
    const path = await fixturePath(denseReadVideo);
    ({ size } = await stat(path));
    dense = await startRangeServer({ dense: path });
  });

  afterAll(() => dense?.close());

  it('exact mode every 0.5 s fetches the file once, in about a request per MiB', async ({ annotate }) => {
    const run = snapshot({ url: dense.url('dense') }, { mode: 'exact', interval: 0.5 });
    let count = 0;
    for await (const _ of run) count += 1;
    const stats = run.stats();
    const measured = `${dense.bytesSent} bytes of ${size} in ${dense.ranges.length} requests, ${count} images`;
    await annotate(measured);
    expect(count).toBe(40);
    expect(dense.bytesSent, measured).toBeGreaterThan(0.9 * size);
    expect(dense.bytesSent, measured).toBeLessThanOrEqual(fetchBudget(size));
    expect(dense.ranges.length, measured).toBeLessThanOrEqual(Math.ceil(size / (1024 * 1024)) + 4);
    expect([stats.bytesRead, stats.requests]).toEqual([dense.bytesSent, dense.ranges.length]);
  });
});

describe('servers that do not do as asked', () => {
  const names = ['mp4-bframes', 'mkv-h264'] as const;
  const cases: { name: string; options: RangeServerOptions }[] = [
    { name: 'ignore Range (200 and the whole body)', options: { ignoreRange: true } },
    { name: 'send 64 KiB of any range at most', options: { maxRange: 64 * 1024 } },
    { name: 'answer the first two requests with 503', options: { failFirst: 2 } },
  ];

  it.each(cases)('servers that $name give the snapshots of the file path, each byte once', async ({ options }) => {
    const files = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await fixturePath(fixtureNamed(name))] as const)));
    const odd = await startRangeServer(files, options);
    try {
      for (const name of names) {
        const { size } = await stat(files[name]);
        for (const mode of modes) {
          odd.reset();
          const fromUrl = await collect({ url: odd.url(name) }, { mode, interval: 1, format: 'png' });
          expect(fromUrl.outputs).toEqual((await collect(files[name], { mode, interval: 1, format: 'png' })).outputs);
          expect(odd.bytesSent).toBeLessThanOrEqual(fetchBudget(size));
          expect(fromUrl.stats.bytesRead).toBe(odd.bytesSent);
        }
      }
    } finally {
      await odd.close();
    }
  });

  it.each([false, true])('an object that changes between two requests is VSNAP_INPUT_CHANGED (If-Match ignored: %s)', async (ignoreIfMatch) => {
    const path = await fixturePath(fixtureNamed('mp4-bframes'));
    const changing = await startRangeServer({ video: path }, { changeAt: 3, ignoreIfMatch });
    try {
      for (const mode of modes) {
        changing.reset();
        const error = await failureOf(() => collect({ url: changing.url('video', 'X-Amz-Signature=secret') }, { mode, interval: 1 }));
        expect(error).toBeInstanceOf(VsnapError);
        expect((error as VsnapError).code).toBe('VSNAP_INPUT_CHANGED');
        expect((error as VsnapError).message).toContain('changed while it was read');
        expect((error as VsnapError).message).not.toContain('secret');
      }
    } finally {
      await changing.close();
    }
  });
});

describe('a server that drops connections part-way', () => {
  let cutting: RangeServer;

  beforeAll(async () => {
    cutting = await startRangeServer(
      { 'mp4-bframes': await fixturePath(fixtureNamed('mp4-bframes')), 'mkv-h264': await fixturePath(fixtureNamed('mkv-h264')) },
      { cutAfter: 20_000 },
    );
  });

  afterAll(() => cutting?.close());

  it.each(['mp4-bframes', 'mkv-h264'])('is asked again for the rest: %s gives the snapshots of the file path', async (name) => {
    const path = await fixturePath(fixtureNamed(name));
    for (const mode of modes) {
      const options = { mode, interval: 1, format: 'png' as const };
      const fromUrl = await collect({ url: cutting.url(name) }, options);
      expect(fromUrl.outputs).toEqual((await collect(path, options)).outputs);
    }
    expect(cutting.cuts).toBeGreaterThan(0);
  });
});

describe('a server that accepts and never answers', () => {
  it('lets an abort stop the run, and the engine hang up, at once rather than after the read timeout', async () => {
    const silent = createHttpServer(() => undefined);
    // The engine gives its connection up: its blocked read was interrupted.
    const hungUp = new Promise<number>((resolve) => {
      silent.on('connection', (socket) => socket.on('close', () => resolve(performance.now())));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const error = await failureOf(() => collect({ url: `http://127.0.0.1:${port}/video.mp4` }, { signal: controller.signal }));
      const aborted = performance.now();
      expect((error as VsnapError).code).toBe('VSNAP_ABORTED');
      expect((await hungUp) - aborted).toBeLessThan(2_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('http inputs that cannot be read', () => {
  function expectCode(error: unknown, code: string): VsnapError {
    expect(error).toBeInstanceOf(VsnapError);
    expect((error as VsnapError).code).toBe(code);
    return error as VsnapError;
  }

  it('a missing object (404) is VSNAP_INPUT_NOT_FOUND, named without its query', async () => {
    const url = server.url('no-such-video.mp4', 'X-Amz-Signature=secret-signature');
    for (const action of [() => probe({ url }), () => collect({ url }, { mode: 'keyframe' })]) {
      const error = expectCode(await failureOf(action), 'VSNAP_INPUT_NOT_FOUND');
      expect(error.message).toContain('no-such-video.mp4');
      expect(error.message).toContain('404');
      expect(error.message).not.toContain('secret-signature');
    }
  });

  it('a refused connection is VSNAP_INPUT_NOT_FOUND', async () => {
    const url = await refusedUrl();
    expectCode(await failureOf(() => probe({ url })), 'VSNAP_INPUT_NOT_FOUND');
    expectCode(await failureOf(() => collect({ url }, { mode: 'exact' })), 'VSNAP_INPUT_NOT_FOUND');
  });

  it('an https server whose certificate no trusted authority signed is refused', async (context) => {
    const key = await scratchPath('untrusted-key.pem');
    const cert = await scratchPath('untrusted-cert.pem');
    try {
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert,
      ]);
    } catch {
      context.skip('no openssl to make a certificate');
    }
    const video = await readFile(await fixturePath(fixtureNamed('mp4-h264')));
    const https = createServer({ key: await readFile(key), cert: await readFile(cert) }, (_, res) => res.end(video));
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = https.address() as AddressInfo;
      expectCode(await failureOf(() => probe({ url: `https://localhost:${port}/video.mp4` })), 'VSNAP_INPUT_NOT_FOUND');
    } finally {
      https.closeAllConnections();
      await new Promise((resolve) => https.close(resolve));
      await rm(key, { force: true });
      await rm(cert, { force: true });
    }
  });

  it.each(['file:///etc/hostname', 'ftp://127.0.0.1/video.mp4', 'oss://bucket/video.mp4', 'video.mp4'])(
    'a URL that is not http(s), %s, is refused at once with VSNAP_INVALID_OPTION',
    async (url) => {
      expect(expectCode(await failureOf(() => snapshot({ url })), 'VSNAP_INVALID_OPTION').option).toBe('input.url');
      expectCode(await failureOf(() => probe({ url })), 'VSNAP_INVALID_OPTION');
    },
  );
});

describe.skipIf(!(await canMake(rangeReadVideo)))('range reads of a 5-minute MP4', () => {
  it.for(modes)('%s mode every 30 s fetches under 20% of the file, as the server counts and the engine reports', async (mode, { annotate }) => {
    const path = await fixturePath(rangeReadVideo);
    const { size } = await stat(path);
    expect(size).toBeGreaterThanOrEqual(100_000_000);
    const options = { mode, interval: 30 };

    server.reset();
    const run = snapshot({ url: server.url('large') }, options);
    const { info } = await run.plan();
    const outputs = [];
    for await (const output of run) outputs.push(output);
    const stats = run.stats();
    const sent = server.bytesSent;

    // Planned from the index: what only a scan learns is unknown.
    expect(info.keyframes).toBeNull();
    expect(info.frameCount).toBe(7500);
    const measured = `${sent} bytes sent and ${stats.bytesRead} read of ${size} in ${server.ranges.length} requests`;
    expect(sent / size, measured).toBeLessThan(0.2);
    expect(stats.bytesRead / size, measured).toBeLessThan(0.2);
    // The figure the README quotes: the reporter prints it beside the test.
    await annotate(measured);
    // The engine counts every byte it asked for; the server may not have
    // sent all of a range whose reader closed the connection.
    expect(stats.bytesRead).toBeGreaterThanOrEqual(sent);
    // Bounded ranges: every request names its last byte.
    expect(server.ranges.every((range) => range !== undefined && /^bytes=\d+-\d+$/.test(range))).toBe(true);

    // Keyframes every 2 s at 25 fps: the one at each target, frame 750 k,
    // in either mode.
    expect(outputs.map((o) => [o.frameIndex, o.frameTime])).toEqual(
      Array.from({ length: 10 }, (_, k) => [750 * k, 30 * k]),
    );
    const fromPath = await collect(path, options);
    expect(outputs).toEqual(fromPath.outputs);
    // A file is read the same way: bytesRead counts what was read of it.
    expect(fromPath.stats.bytesRead / size).toBeLessThan(0.2);
  });
});
