// What reading a video by URL costs: bytes fetched and requests made, per
// video, mode and interval, counted by the server that serves it, beside
// the time of the same run from the local file (bench/lib/url-call.mjs in a
// child process). And the same through the service's worker path: a job
// (runJob, as `vsnap worker` runs it) whose input is an oss:// object in an
// S3-protocol server (s3rver), read through its presigned URL, counted by a
// TCP proxy in front of the server. Used by bench/remote.mjs (the table in
// docs/performance.md) and bench/ci.mjs (one gated ratio).
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from './process.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A loopback HTTP server of one file that answers ranges as an object store
 * does (206, Content-Range, ETag) and counts requests and body bytes.
 */
export async function countingFileServer(path) {
  const { size } = await stat(path);
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    counts.requests += 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
    res.writeHead(range ? 206 : 200, {
      'Content-Length': end - start + 1,
      ETag: `"${size}"`,
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    const body = createReadStream(path, { start, end });
    body.on('data', (chunk) => { counts.bytes += chunk.length; });
    body.pipe(res);
    res.on('close', () => body.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/video?X-Amz-Signature=bench`,
    take() {
      const taken = { ...counts };
      counts.requests = 0;
      counts.bytes = 0;
      return taken;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/** One case by URL: the server's counts, the engine's stats and both wall times. */
export async function urlCase(vsnapRoot, path, server, mode, interval) {
  server.take();
  const { stdout } = await run([process.execPath, join(here, 'url-call.mjs'), vsnapRoot, path, server.url, '--mode', mode, '--interval', String(interval)]);
  const call = JSON.parse(stdout.trim().split('\n').pop());
  const served = server.take();
  if (call.url.stats.bytesRead !== served.bytes || call.url.stats.requests !== served.requests) {
    throw new Error(`${path} ${mode} @ ${interval} s: the engine counts ${call.url.stats.bytesRead} bytes in ${call.url.stats.requests} requests, the server ${served.bytes} in ${served.requests}`);
  }
  if (call.url.images !== call.local.images) throw new Error(`${path} ${mode} @ ${interval} s: ${call.url.images} images by URL, ${call.local.images} from the file`);
  return { mode, interval, images: call.url.images, bytes: served.bytes, requests: served.requests, urlMs: call.url.wall_ms, fileMs: call.local.wall_ms };
}

/** A TCP proxy to `port` that counts the bytes coming back and the GET requests going out. */
async function countingProxy(port) {
  const counts = { bytes: 0, requests: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => { counts.requests += chunk.toString('latin1').match(/(^|\r\n)GET /g)?.length ?? 0; });
    upstream.on('data', (chunk) => { counts.bytes += chunk.length; });
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    take() {
      const taken = { ...counts };
      counts.bytes = 0;
      counts.requests = 0;
      return taken;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The service's way in: an S3-protocol server (s3rver, as the tests run it)
 * behind a counting proxy, the store of the built package on it, and its
 * runJob. Resolves { put(path), job(key, mode, interval), close() }.
 */
export async function serviceReader(repoRoot, vsnapRoot) {
  const dataDir = await mkdtemp(join(tmpdir(), 'vsnap-bench-s3-'));
  const s3 = spawn(process.execPath, [join(repoRoot, 'test/helpers/s3rver-process.mjs'), dataDir, 'videos'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const s3Port = await new Promise((resolve, reject) => {
    s3.stdout.on('data', (chunk) => {
      const match = /listening on (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    s3.on('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
  });
  // s3rver's fixed credentials (test/helpers/s3rver.ts).
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  const proxy = await countingProxy(s3Port);
  const entry = (path) => import(pathToFileURL(join(vsnapRoot, 'dist/src', path)).href);
  const { S3Store } = await entry('storage/s3-store.js');
  const { runJob } = await entry('tasks/run-task.js');
  const store = new S3Store({ endpoint: `http://127.0.0.1:${proxy.port}`, region: 'us-east-1', forcePathStyle: true });
  return {
    async put(key, path) {
      await store.write(`oss://videos/${key}`, await readFile(path));
      proxy.take();
    },
    async job(key, mode, interval) {
      const url = `oss://videos/${key}`;
      const started = process.hrtime.bigint();
      const result = await runJob({
        taskId: 'snapshot-20261207000000-00000000000000000000000000000000',
        source: { type: 'oss', url, name: url },
        interval, format: 'jpg', mode, output: { type: 'base64' },
      }, store);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      return { images: result.data.length, ...proxy.take(), wallMs };
    },
    async close() {
      await proxy.close();
      s3.stdin.end();
      await new Promise((resolve) => s3.once('exit', resolve));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The gated ratio of bench:ci: bytes fetched by URL over the file's size,
 * exact mode every second on `path` (nearly every frame decoded), which
 * each byte fetched once holds near 1 however loaded the machine is.
 */
export async function urlBytesRatio(vsnapRoot, path, video) {
  const server = await countingFileServer(path);
  try {
    const { bytes } = await urlCase(vsnapRoot, path, server, 'exact', 1);
    const { size } = await stat(path);
    return { name: 'bytes fetched by URL ÷ file size, exact @ 1 s', video, interval: 1, higher: false, gated: true, value: bytes / size };
  } finally {
    await server.close();
  }
}

/** The table of bench/remote.mjs's results, as docs/performance.md shows it. */
export function remoteTable(remote) {
  const lines = [
    '| video | mode | interval | images | by URL: fetched | requests | wall, by URL | wall, local file | service (oss://): fetched | requests |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const video of remote.videos) {
    video.byUrl.forEach((u, i) => {
      const s = video.byService[i];
      lines.push(`| ${video.label} (${(video.bytes / 2 ** 20).toFixed(1)} MiB) | ${u.mode} | ${u.interval} s | ${u.images} | `
        + `${share(u.bytes, video.bytes)} | ${u.requests} | ${(u.urlMs / 1000).toFixed(2)} s | ${(u.fileMs / 1000).toFixed(2)} s | `
        + `${share(s.bytes, video.bytes)} | ${s.requests} |`);
    });
  }
  return lines.join('\n');
}

function share(bytes, size) {
  return `${((bytes / size) * 100).toFixed(1)}%`;
}
