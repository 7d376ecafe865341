/**
 * Inputs read over http by range, from a real server on a loopback port
 * (range-server.ts): the same metadata and snapshots as the file path, the
 * documented errors for a missing file, a refused connection and a scheme
 * that is not http(s), and the range read itself: either mode every 30 s
 * on a 5-minute, 112 MB MP4 fetches a small part of it, as the server counts
 * and as the engine reports.
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
import { refusedUrl, startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { rangeReadVideo } from '../helpers/range-video.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

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
