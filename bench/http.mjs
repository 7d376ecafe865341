// HTTP benchmark: `vsnap serve` as an operator runs it (bin/vsnap in a child
// process, its own data directory, JSON logs at info level, drained), driven
// from this process with autocannon and fetch:
//
//   1. task-status of a finished task: requests/s and p50/p99 latency;
//   2. a sync call on a 10 s 720p clip sent as base64, answered in base64,
//      against the engine alone (the library in this process) on the same
//      bytes, the two alternating round by round: the service's overhead;
//   3. async task creation: requests/s (the workers run the tasks meanwhile,
//      as they would in service).
//
// The service's sync answer is verified against the engine first: the same
// frames and byte-identical images. Then the figures are taken.
//
//   node bench/http.mjs [--quick]
//
// --quick runs each load for 3 s and 3 sync rounds (15 otherwise: the machine is noisy): a smoke run, not figures to quote.
// Results: bench/results/http-<ISO date>.json and a Markdown table on stdout.
import http from 'node:http';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { post, startService, waitForTask } from './lib/service.mjs';
import { ensureClip720p } from './lib/video.mjs';
import { assertVsnapBuilt, libraryEntry } from './lib/vsnap-build.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(repoRoot, 'bench/.cache');
const TARGETS = { statusRps: 3000, statusP99Ms: 20, syncOverhead: 0.15 };

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } }, strict: true });
const loadSeconds = args.quick ? 3 : 10;
const syncRounds = args.quick ? 3 : 15;

assertVsnapBuilt(repoRoot);
const { snapshot, shutdown } = await import(libraryEntry(repoRoot));

const clip = await ensureClip720p(cacheDir);
log(`clip: ${clip} (10 s 1280x720 30 fps H.264, generated once into bench/.cache/)`);
const clipBytes = await readFile(clip);

await mkdir(cacheDir, { recursive: true });
const workDir = await mkdtemp(join(cacheDir, 'http-'));
const key = 'vs-bench-0123456789abcdefghijklmnop';
const server = await startService(repoRoot, workDir, [{ key, name: 'bench', qps: 1_000_000 }]);
try {
  const results = { date: new Date().toISOString(), machine: machine(), url: server.url };
  await mkdir(join(workDir, 'data/oss/bench'), { recursive: true });
  await copyFile(clip, join(workDir, 'data/oss/bench/clip.mp4'));
  const api = (action) => `${server.url}/v3/openapi/workspaces/default/video-snapshot/ops-video-snapshot-001/${action}`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  log('verifying the sync answer against the engine');
  // Encoded once, as a client holding the request would send it each time.
  const syncBody = Buffer.from(JSON.stringify({
    input: { content: `data:video/mp4;base64,${clipBytes.toString('base64')}` },
    parameters: { interval: 1 },
    output: { type: 'base64' },
  }));
  const engineRun = async () => {
    const images = [];
    for await (const image of snapshot(clipBytes, { interval: 1 })) images.push(image);
    return images;
  };
  // node:http with a keep-alive agent, as autocannon and lean clients send; fetch (undici) adds ~8 ms of its own per 7 MB request here.
  const agent = new http.Agent({ keepAlive: true });
  const serviceRun = async () => {
    const { status, body } = await post(api('sync'), headers, syncBody, agent);
    if (status !== 200) throw new Error(`sync answered ${status}: ${JSON.stringify(body)}`);
    return body.result.data;
  };
  const [engineImages, serviceItems] = [await engineRun(), await serviceRun()];
  verifySync(engineImages, serviceItems);
  log(`  ${serviceItems.length} images: same frames, byte-identical`);

  log(`sync latency: ${syncRounds} rounds, engine and service alternating`);
  const engineMs = [];
  const serviceMs = [];
  for (let round = 0; round < syncRounds; round += 1) {
    engineMs.push(await timed(engineRun));
    serviceMs.push(await timed(serviceRun));
  }
  const engineMedian = median(engineMs);
  const serviceMedian = median(serviceMs);
  results.sync = {
    clipBytes: clipBytes.length,
    requestBytes: syncBody.length,
    images: serviceItems.length,
    engineMs,
    serviceMs,
    engineMedianMs: engineMedian,
    serviceMedianMs: serviceMedian,
    overhead: serviceMedian / engineMedian - 1,
  };

  log('task-status: one finished task');
  const created = await (await fetch(api('async'), {
    method: 'POST',
    headers,
    body: JSON.stringify({ input: { oss: 'oss://bench/clip.mp4' }, parameters: { interval: 1 }, output: { oss: 'oss://bench/out' } }),
  })).json();
  const taskId = created.result.task_id;
  await waitForTask(api, headers, taskId);
  const status = await load({
    url: `${api('async/task-status')}?task_id=${taskId}`,
    method: 'GET',
    headers: { authorization: headers.authorization },
    connections: 32,
    duration: loadSeconds,
  });
  results.taskStatus = status;

  log('async create: cheap tasks (keyframe mode, one image) so the queue stays short');
  const createBody = JSON.stringify({
    input: { oss: 'oss://bench/clip.mp4' },
    parameters: { interval: 3600, mode: 'keyframe' },
    output: { oss: 'oss://bench/created' },
  });
  results.asyncCreate = await load({ url: api('async'), method: 'POST', headers, body: createBody, connections: 16, duration: loadSeconds });

  results.targets = {
    statusRps: { target: TARGETS.statusRps, value: status.rps, pass: status.rps >= TARGETS.statusRps },
    statusP99Ms: { target: TARGETS.statusP99Ms, value: status.p99Ms, pass: status.p99Ms <= TARGETS.statusP99Ms },
    syncOverhead: { target: TARGETS.syncOverhead, value: results.sync.overhead, pass: results.sync.overhead <= TARGETS.syncOverhead },
  };
  const resultsDir = join(repoRoot, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `http-${results.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(report(results));
  log(`results: ${file}`);
} finally {
  await server.stop();
  await shutdown();
  await rm(workDir, { recursive: true, force: true });
}

async function load(options) {
  const result = await autocannon(options);
  const summary = {
    connections: options.connections,
    seconds: options.duration,
    requests: result.requests.total,
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    // The latency distribution the report's chart draws.
    percentilesMs: { p50: result.latency.p50, p90: result.latency.p90, p97_5: result.latency.p97_5, p99: result.latency.p99, p99_9: result.latency.p99_9 },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  log(`  ${Math.round(summary.rps)} requests/s, p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms, non-2xx ${summary.non2xx}, errors ${summary.errors}`);
  return summary;
}

function verifySync(engineImages, serviceItems) {
  if (engineImages.length !== serviceItems.length) {
    throw new Error(`the service gave ${serviceItems.length} images, the engine ${engineImages.length}`);
  }
  engineImages.forEach((image, k) => {
    const item = serviceItems[k];
    if (item.frame_index !== image.frameIndex || item.frame_time !== image.frameTime) {
      throw new Error(`image ${k}: service frame ${item.frame_index}@${item.frame_time}, engine ${image.frameIndex}@${image.frameTime}`);
    }
    if (!Buffer.from(item.content, 'base64').equals(image.data)) throw new Error(`image ${k}: the bytes differ`);
  });
}

async function timed(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function machine() {
  return { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, node: process.version, load: os.loadavg() };
}

function report(results) {
  const { sync, taskStatus, asyncCreate, targets } = results;
  const pass = (target) => (target.pass ? 'PASS' : 'FAIL');
  return [
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| task-status requests/s (${taskStatus.connections} connections) | ${Math.round(taskStatus.rps)} | ≥ ${TARGETS.statusRps} ${pass(targets.statusRps)} |`,
    `| task-status latency p50 / p99 | ${taskStatus.p50Ms} / ${taskStatus.p99Ms} ms | p99 ≤ ${TARGETS.statusP99Ms} ms ${pass(targets.statusP99Ms)} |`,
    `| async create requests/s (${asyncCreate.connections} connections) | ${Math.round(asyncCreate.rps)} (non-2xx ${asyncCreate.non2xx}) | measured |`,
    `| sync, 10 s 720p clip, base64 in and out (${sync.images} images), median | ${sync.serviceMedianMs.toFixed(0)} ms | |`,
    `| engine alone on the same bytes, median | ${sync.engineMedianMs.toFixed(0)} ms | |`,
    `| sync overhead over the engine | ${(sync.overhead * 100).toFixed(1)}% | ≤ ${TARGETS.syncOverhead * 100}% ${pass(targets.syncOverhead)} |`,
    '',
  ].join('\n');
}

function log(message) {
  process.stderr.write(`${message}\n`);
}
