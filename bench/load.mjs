// Load run: one `vsnap serve` under mixed traffic for minutes, all at once:
//   - task-status polls with autocannon (the latency measured),
//   - sync calls on a 10 s 720p clip sent as base64, one after another,
//   - async task creates, one every 2 s,
//   - malformed requests (bad JSON, bad parameters, a bad key),
//   - a throttled key (2 requests/s) asked 20 times a second.
// It checks that every answer is well-formed (a JSON envelope with a request
// id; 429s with Retry-After), that every accepted async task ends SUCCESS,
// that the service's memory (server and worker processes) stays bounded, and
// compares p99 task-status latency under that load with the unloaded figure
// taken first (target: within 3×).
//
//   node bench/load.mjs [--minutes M] [--quick]
//
// --quick: 20 s of load, a smoke run. Results: bench/results/load-<ISO date>.json.
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { post, startService, waitForTask } from './lib/service.mjs';
import { ensureClip720p } from './lib/video.mjs';
import { assertVsnapBuilt } from './lib/vsnap-build.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(repoRoot, 'bench/.cache');
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, minutes: { type: 'string' } }, strict: true });
const loadSeconds = args.quick ? 20 : Math.round(Number(args.minutes ?? 3) * 60);
if (!(loadSeconds > 0)) throw new Error(`Expected a positive number for --minutes but received ${args.minutes}`);
const TARGET_P99_RATIO = 3;

assertVsnapBuilt(repoRoot);
const clip = await ensureClip720p(cacheDir);
const clipBytes = await readFile(clip);
await mkdir(cacheDir, { recursive: true });
const workDir = await mkdtemp(join(cacheDir, 'load-'));
const key = 'vs-load-main-0123456789abcdefghij';
const throttledKey = 'vs-load-slow-0123456789abcdefghij';
const server = await startService(repoRoot, workDir, [
  { key, name: 'main', qps: 1_000_000 },
  { key: throttledKey, name: 'throttled', qps: 2 },
], { workers: 2 });

const api = (action) => `${server.url}/v3/openapi/workspaces/default/video-snapshot/ops-video-snapshot-001/${action}`;
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const agent = new http.Agent({ keepAlive: true });
const counts = { sync: 0, syncImages: 0, created: 0, malformed: 0, throttled200: 0, throttled429: 0, illFormed: 0 };
const problems = [];

try {
  await mkdir(join(workDir, 'data/oss/load'), { recursive: true });
  await copyFile(clip, join(workDir, 'data/oss/load/clip.mp4'));
  const createBody = Buffer.from(JSON.stringify({ input: { oss: 'oss://load/clip.mp4' }, parameters: { interval: 2 }, output: { oss: 'oss://load/out' } }));
  const first = await post(api('async'), headers, createBody, agent);
  const statusTask = first.body.result.task_id;
  await waitForTask(api, headers, statusTask);
  const statusUrl = `${api('async/task-status')}?task_id=${statusTask}`;

  log('unloaded: task-status for 10 s');
  const unloaded = await statusLoad(statusUrl, 10);

  log(`loaded: ${loadSeconds} s of mixed traffic`);
  const deadline = Date.now() + loadSeconds * 1000;
  const taskIds = [];
  const memory = [];
  const syncBody = Buffer.from(JSON.stringify({
    input: { content: `data:video/mp4;base64,${clipBytes.toString('base64')}` },
    parameters: { interval: 2 },
    output: { type: 'base64' },
  }));
  const until = async (body) => {
    while (Date.now() < deadline) await body();
  };
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const [loaded] = await Promise.all([
    statusLoad(statusUrl, loadSeconds),
    until(async () => {
      const answer = await post(api('sync'), headers, syncBody, agent);
      check(answer, 200, 'sync');
      counts.sync++;
      counts.syncImages += answer.body.result?.data?.length ?? 0;
    }),
    until(async () => {
      const answer = await post(api('async'), headers, createBody, agent);
      check(answer, 200, 'async create');
      if (answer.status === 200) taskIds.push(answer.body.result.task_id);
      counts.created++;
      await pause(2000);
    }),
    until(async () => {
      for (const [body, auth] of [['{"input":', key], ['{"input":{"oss":"oss://load/clip.mp4"},"parameters":{"interval":0}}', key], ['{}', 'vs-not-a-key-0123456789abcdef']]) {
        const answer = await post(api('sync'), { ...headers, authorization: `Bearer ${auth}` }, Buffer.from(body), agent);
        check(answer, auth === key ? 400 : 401, 'malformed');
        counts.malformed++;
      }
      await pause(200);
    }),
    until(async () => {
      const response = await fetch(statusUrl, { headers: { authorization: `Bearer ${throttledKey}` } });
      const body = await response.json();
      if (response.status === 200) counts.throttled200++;
      else if (response.status === 429 && body.code === 'Throttling.RateQuota' && response.headers.get('retry-after')) counts.throttled429++;
      else problem(`throttled key: ${response.status} ${JSON.stringify(body)}`);
      await pause(50);
    }),
    until(async () => {
      memory.push(serviceRssMiB());
      await pause(2000);
    }),
  ]);

  log(`waiting for ${taskIds.length} async tasks`);
  for (const id of taskIds) await waitForTask(api, headers, id);

  const third = Math.max(1, Math.floor(memory.length / 3));
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, node: process.version, load: os.loadavg() },
    loadSeconds,
    unloaded,
    loaded,
    p99Ratio: loaded.p99Ms / unloaded.p99Ms,
    counts,
    asyncCompleted: taskIds.length,
    memoryMiB: { firstThirdMax: Math.max(...memory.slice(0, third)), lastThirdMax: Math.max(...memory.slice(-third)), max: Math.max(...memory) },
    problems,
  };
  const resultsDir = join(repoRoot, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `load-${results.date.replaceAll(':', '-')}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(report(results));
  console.log(`Results: bench/results/${file.split('/').pop()}`);
  if (problems.length > 0 || results.p99Ratio > TARGET_P99_RATIO) process.exitCode = 1;
} finally {
  agent.destroy();
  await server.stop();
  await rm(workDir, { recursive: true, force: true });
}

async function statusLoad(url, seconds) {
  const result = await autocannon({
    url,
    headers: { authorization: `Bearer ${key}` },
    connections: 10,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) problem(`task-status load: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { seconds, requests: result.requests.total, rps: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

/** An answer must be a JSON envelope with a request id and the expected status. */
function check(answer, status, what) {
  if (answer.status !== status || typeof answer.body?.request_id !== 'string') {
    counts.illFormed++;
    problem(`${what}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  }
}

function problem(message) {
  if (problems.length < 20) problems.push(message);
  log(`PROBLEM ${message}`);
}

/** Resident memory of the server and its worker processes, from /proc. */
function serviceRssMiB() {
  const pids = [server.pid, ...childrenOf(server.pid)];
  let kib = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      kib += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return kib / 1024;
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function report(r) {
  const pass = r.p99Ratio <= TARGET_P99_RATIO && r.problems.length === 0 ? 'PASS' : 'FAIL';
  return [
    '',
    `| measure | value |`,
    '|---|---|',
    `| task-status unloaded (10 connections, 10 s) | ${Math.round(r.unloaded.rps)} req/s, p50 ${r.unloaded.p50Ms} ms, p99 ${r.unloaded.p99Ms} ms |`,
    `| task-status under mixed load (${r.loadSeconds} s) | ${Math.round(r.loaded.rps)} req/s, p50 ${r.loaded.p50Ms} ms, p99 ${r.loaded.p99Ms} ms |`,
    `| p99 loaded ÷ unloaded | ${r.p99Ratio.toFixed(2)}× (target ≤ ${TARGET_P99_RATIO}×) ${pass} |`,
    `| sync calls (10 s 720p, images every 2 s, one after another) | ${r.counts.sync} answered, ${r.counts.syncImages} images |`,
    `| async tasks created / completed SUCCESS | ${r.counts.created} / ${r.asyncCompleted} |`,
    `| malformed requests answered 400/401 | ${r.counts.malformed} |`,
    `| throttled key: 200 / 429 with Retry-After | ${r.counts.throttled200} / ${r.counts.throttled429} |`,
    `| ill-formed answers | ${r.counts.illFormed} |`,
    `| service RSS (server + workers), max in first third / last third / overall | ${r.memoryMiB.firstThirdMax.toFixed(0)} / ${r.memoryMiB.lastThirdMax.toFixed(0)} / ${r.memoryMiB.max.toFixed(0)} MiB |`,
    '',
  ].join('\n');
}

function log(message) {
  process.stderr.write(`[load] ${message}\n`);
}
