// Queue benchmark: the scaled-out shape on one machine. redis-server
// (append-only file, fsync on every write), a stateless `vsnap serve
// --queue redis://…`, and 1, then 2, `vsnap worker` processes (one
// extraction process each), all as their own processes; the store is the
// local data directory, which every process here shares.
//
// The workload is the same each time: N async tasks on the 10 s 720p clip
// (exact mode, 1 s interval, jpg, oss output: 10 images each), submitted
// through the API at once; the figure is tasks per minute from the first
// submission until every task reports SUCCESS with all its images.
//
//   node bench/queue.mjs [--tasks N]       (default 40)
//
// Results: bench/results/queue-<ISO date>.json and a Markdown table on stdout.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureClip720p } from './lib/video.mjs';
import { assertVsnapBuilt } from './lib/vsnap-build.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(repoRoot, 'bench/.cache');
const bin = join(repoRoot, 'bin/vsnap');
const WORKER_COUNTS = [1, 2];
const IMAGES_PER_TASK = 10;

const { values: args } = parseArgs({ options: { tasks: { type: 'string', default: '40' } }, strict: true });
const taskCount = Number(args.tasks);
if (!Number.isInteger(taskCount) || taskCount < 1) throw new Error(`Expected a positive integer for --tasks but received ${args.tasks}`);

assertVsnapBuilt(repoRoot);
const clip = await ensureClip720p(cacheDir);
const workDir = await mkdtemp(join(cacheDir, 'queue-'));
const dataDir = join(workDir, 'data');
await mkdir(join(dataDir, 'oss/bench'), { recursive: true });
await copyFile(clip, join(dataDir, 'oss/bench/clip.mp4'));

const key = 'vs-bench-0123456789abcdefghijklmnop';
const keysFile = join(workDir, 'keys.json');
await writeFile(keysFile, JSON.stringify({ keys: [{ key, name: 'bench', qps: 1_000_000 }] }), { mode: 0o600 });
const configFile = join(workDir, 'config.json');
await writeFile(configFile, JSON.stringify({ keysFile, shutdownGraceMs: 1000 }));

const children = [];
try {
  const redisPort = await freePort();
  const redis = child('redis-server', [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', workDir,
    '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
  ], /Ready to accept connections/);
  await redis.ready;
  const queue = `redis://127.0.0.1:${redisPort}`;
  const env = { VSNAP_API_KEYS: '', VSNAP_QUEUE: queue, VSNAP_LOG_LEVEL: 'warn', VSNAP_WORKERS: '1' };
  const api = child(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir, '--config', configFile], /^listening on (http:\/\/\S+)$/m, env);
  const url = (await api.ready)[1];
  const base = `${url}/v3/openapi/workspaces/default/video-snapshot/ops-video-snapshot-001`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  const runs = [];
  for (const workers of WORKER_COUNTS) {
    const nodes = Array.from({ length: workers }, () =>
      child(process.execPath, [bin, 'worker', '--data-dir', dataDir, '--config', configFile], /^worker ready/m, env));
    await Promise.all(nodes.map((node) => node.ready));
    log(`${workers} worker process(es): ${taskCount} tasks`);
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: taskCount }, async (_, i) => {
      const response = await fetch(`${base}/async`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: { oss: 'oss://bench/clip.mp4' }, output: { oss: `oss://bench/out-${workers}-${i}` } }),
      });
      const body = await response.json();
      if (response.status !== 200) throw new Error(`submit answered ${response.status}: ${JSON.stringify(body)}`);
      return body.result.task_id;
    }));
    await Promise.all(ids.map((id) => waitForSuccess(base, headers, id)));
    const seconds = (performance.now() - started) / 1000;
    await verifyImages(ids, workers);
    const run = { workers, tasks: taskCount, seconds, tasksPerMinute: (taskCount / seconds) * 60 };
    log(`  ${seconds.toFixed(1)} s, ${run.tasksPerMinute.toFixed(0)} tasks/minute`);
    runs.push(run);
    await Promise.all(nodes.map((node) => node.stop()));
  }

  const results = { date: new Date().toISOString(), machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, load: os.loadavg() }, runs };
  const resultsDir = join(repoRoot, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `queue-${results.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(['', '| worker processes | tasks | wall | tasks/minute | vs 1 process |', '|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.workers} | ${r.tasks} | ${r.seconds.toFixed(1)} s | ${r.tasksPerMinute.toFixed(0)} | ${(r.tasksPerMinute / runs[0].tasksPerMinute).toFixed(2)}× |`), ''].join('\n'));
  log(`results: ${file}`);
} finally {
  for (const c of children.reverse()) await c.stop();
  await rm(workDir, { recursive: true, force: true });
}

function child(command, argv, readyPattern, env = {}) {
  const proc = spawn(command, argv, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let seen = '';
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      if (seen.length < 1_000_000) seen += chunk;
      const match = readyPattern.exec(seen);
      if (match) resolve(match);
    };
    proc.stdout.setEncoding('utf8').on('data', onData);
    proc.stderr.setEncoding('utf8').on('data', onData);
    exited.then((code) => reject(new Error(`${command} exited (${code}) before it was ready: ${seen.slice(-2000)}`)));
  });
  const handle = {
    ready,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
  children.push(handle);
  return handle;
}

async function waitForSuccess(base, headers, taskId) {
  for (;;) {
    const body = await (await fetch(`${base}/async/task-status?task_id=${taskId}`, { headers })).json();
    const status = body.result?.status;
    if (status === 'SUCCESS') {
      if (body.result.data.length !== IMAGES_PER_TASK) throw new Error(`task ${taskId}: ${body.result.data.length} images`);
      return;
    }
    if (status !== 'PENDING') throw new Error(`task ${taskId}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function verifyImages(ids, workers) {
  for (const [i, id] of ids.entries()) {
    const files = await readdir(join(dataDir, 'oss/bench', `out-${workers}-${i}`, id));
    if (files.length !== IMAGES_PER_TASK) throw new Error(`task ${id}: ${files.length} image files`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function log(message) {
  process.stderr.write(`${message}\n`);
}
