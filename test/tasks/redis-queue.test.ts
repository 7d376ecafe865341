/**
 * The Redis TaskQueue against a real redis-server (test/helpers/redis.ts)
 * and real `vsnap worker` nodes (bin/vsnap, so `npm run build:ts` first),
 * sharing a local store in a temp data directory: async and sync jobs from
 * both kinds of source to both kinds of output, workspace scoping, bad input
 * failing without a retry, expiry after the retention, a worker node killed
 * with SIGKILL while it holds a task, a Redis outage during a run, and a
 * graceful stop.
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { shutdown } from '../../src/index.js';
import { packageRoot } from '../../src/package-root.js';
import { LocalStore } from '../../src/storage/local-store.js';
import { TaskError } from '../../src/tasks/errors.js';
import type { Job, JobOutput, JobSource, SnapshotResultItem } from '../../src/tasks/job.js';
import type { TaskRecord } from '../../src/tasks/queue.js';
import { RedisTaskQueue } from '../../src/tasks/redis-queue.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { RedisServer } from '../helpers/redis.js';
import { childPids } from '../helpers/service.js';
import { longClip } from '../helpers/service-videos.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';
import { WorkerNode } from '../helpers/worker-node.js';

// Reordered frames and a keyframe every 1.5 s: exact and keyframe modes pick different frames.
const video = fixtureNamed('mp4-bframes');
// 200 PNG images of 720p (of its 20 s, one every 0.1 s): a couple of seconds of work, time enough to kill what runs it.
// A job's parameters are the API's, whose interval is whole seconds: a count places them.
const longImages = 200;
// Stall detection in about 4 s instead of 20.
const nodeEnv = { VSNAP_WORKERS: '1', VSNAP_WORKER_LOCK_MS: '2000', VSNAP_WORKER_STALLED_INTERVAL_MS: '1000' };
const prefix = 'vsnap';

let redis: RedisServer;
let root: string;
let dataDir: string;
let store: LocalStore;
let inspector: Redis;
let queue: RedisTaskQueue;
let nodes: WorkerNode[] = [];
let videoBytes: Buffer;
let videoUrl: string;
let longUrl: string;

beforeAll(async () => {
  if (!existsSync(path.join(packageRoot(), 'dist', 'vsnap-cli.cjs'))) throw new Error('bin/vsnap runs dist/: run `npm run build:ts` first');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'vsnap-redis-queue-'));
  dataDir = path.join(root, 'data');
  store = new LocalStore(dataDir);
  videoBytes = await fs.readFile(await fixturePath(video));
  videoUrl = 'oss://videos/in/clip one.mp4';
  await store.write(videoUrl, videoBytes);
  longUrl = 'oss://videos/in/long.mp4';
  await store.write(longUrl, await fs.readFile(await fixturePath(longClip)));
  redis = await RedisServer.start();
  inspector = new Redis(redis.url, { lazyConnect: true });
  // It is down during the outage test, like everything else; its errors there are expected.
  inspector.on('error', () => {});
  nodes = await Promise.all([startNode(), startNode()]);
  queue = await RedisTaskQueue.open({ url: redis.url, retentionSeconds: 3600 });
});

afterAll(async () => {
  await queue?.close();
  inspector?.disconnect();
  await Promise.all(nodes.map((node) => node.kill9()));
  await redis?.kill();
  await fs.rm(root, { recursive: true, force: true });
  await shutdown();
});

function startNode(config?: Record<string, unknown>): Promise<WorkerNode> {
  return WorkerNode.start({ queue: redis.url, dataDir, env: nodeEnv, ...(config === undefined ? {} : { config }) });
}

function taskId(label: string): string {
  return `snapshot-${label}-${randomUUID().replaceAll('-', '')}`;
}

function bytesSource(data: Uint8Array = videoBytes): JobSource {
  return { type: 'bytes', data, name: 'input.content' };
}

function ossSource(url = videoUrl): JobSource {
  return { type: 'oss', url, name: url };
}

function jobOf(
  label: string,
  source: JobSource,
  output: JobOutput,
  settings: Partial<Pick<Job, 'interval' | 'format' | 'mode' | 'extensions'>> = {},
): Job {
  return { taskId: taskId(label), source, output, interval: 1, format: 'jpg', mode: 'exact', ...settings };
}

function longJob(label: string): Job {
  return jobOf(label, ossSource(longUrl), { type: 'oss', prefix: 'oss://results/long' }, { extensions: { count: longImages }, format: 'png' });
}

/** Polls until the task leaves PENDING. */
async function finished(taskQueue: RedisTaskQueue, workspace: string, id: string, timeoutMs = 60_000): Promise<TaskRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await taskQueue.get(workspace, id);
    if (record === undefined) throw new Error(`task ${id} is not there`);
    if (record.status !== 'PENDING') return record;
    if (Date.now() > deadline) throw new Error(`task ${id} still PENDING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once the queue answers again after an outage; it reconnects by itself. */
async function reconnected(taskQueue: RedisTaskQueue, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await taskQueue.counts();
      return;
    } catch (error) {
      if (codeOf(error) !== 'VSNAP_QUEUE_UNAVAILABLE' || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The node that logged the start of the task, once one has. */
async function nodeRunning(id: string, among: readonly WorkerNode[]): Promise<WorkerNode> {
  const started = (line: Record<string, unknown>): boolean => line.msg === 'task started' && line.task_id === id;
  return Promise.any(among.map((node) => node.waitForLog(started).then(() => node)));
}

/**
 * Kills the worker process of the node (one per node here) and waits for
 * its replacement, so that the next task does not wait for one to start.
 */
async function crashWorkerProcess(node: WorkerNode): Promise<void> {
  const [child] = childPids(node.pid);
  process.kill(child as number, 'SIGKILL');
  await node.waitForLog((line) => line.msg === 'worker-ready' && (line.worker as { replaces?: number }).replaces === child);
}

/** The engine's frames for the job's video, to compare results with. */
async function engineFrames(job: Job): Promise<[number, number][]> {
  const run = await collect(videoBytes, { interval: job.interval, format: job.format, mode: job.mode });
  return run.outputs.map((output) => [output.frameIndex, output.frameTime]);
}

/** How many `completed` events the queue's events stream holds for each task. */
async function completions(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [, fields] of await inspector.xrange(`${prefix}:tasks:events`, '-', '+')) {
    const entry = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) entry.set(fields[i] as string, fields[i + 1] as string);
    const jobId = entry.get('jobId') as string;
    if (entry.get('event') === 'completed') counts.set(jobId, (counts.get(jobId) ?? 0) + 1);
  }
  return counts;
}

async function expectImagesInStore(data: readonly SnapshotResultItem[] | undefined, count: number): Promise<void> {
  expect(data).toHaveLength(count);
  for (const item of data ?? []) expect((await store.stat(item.path as string))?.size).toBeGreaterThan(0);
}

function codeOf(error: unknown): string {
  expect(error).toBeInstanceOf(TaskError);
  return (error as TaskError).code;
}

describe('vsnap worker', () => {
  it('says it is ready, with its processes and the Redis it serves', () => {
    for (const node of nodes) expect(node.readyLine).toBe(`worker ready (1 processes) on redis://127.0.0.1:${redis.port}`);
  });
});

describe('RedisTaskQueue with worker nodes', () => {
  it('runs async tasks from an oss object and from uploaded bytes into the store', async () => {
    const fromOss = jobOf('oss', ossSource(), { type: 'oss', prefix: 'oss://results/a' }, { mode: 'keyframe' });
    const fromBytes = jobOf('bytes', bytesSource(), { type: 'oss', prefix: 'oss://results/b' }, { format: 'png' });
    for (const job of [fromOss, fromBytes]) {
      const accepted = await queue.submit('ws-a', job);
      expect(accepted).toMatchObject({ id: job.taskId, workspace: 'ws-a', status: 'PENDING', running: false, attempts: 0 });
    }
    for (const job of [fromOss, fromBytes]) {
      const record = await finished(queue, 'ws-a', job.taskId);
      expect(record).toMatchObject({ status: 'SUCCESS', running: false, attempts: 1 });
      expect(record.finishedAt).toBeGreaterThanOrEqual(record.createdAt);
      expect(record.data?.map((item) => [item.frame_index, item.frame_time])).toEqual(await engineFrames(job));
      const prefixUrl = (job.output as { prefix: string }).prefix;
      expect(record.data?.map((item) => item.path)).toEqual(
        record.data?.map((_, k) => `${prefixUrl}/${job.taskId}/snapshot_${k}.${job.format}`),
      );
      await expectImagesInStore(record.data, record.data?.length ?? 0);
      expect(await store.list(`${prefixUrl}/${job.taskId}`)).toHaveLength(record.data?.length ?? 0);
    }
    // The uploaded video went once its task finished.
    await expect(inspector.exists(`${prefix}:input:${fromBytes.taskId}`)).resolves.toBe(0);
  });

  it('shows a task to its own workspace only, and no sync job to any', async () => {
    const job = jobOf('scoped', ossSource(), { type: 'oss', prefix: 'oss://results/scoped' });
    await queue.submit('ws-a', job);
    expect(await queue.get('ws-b', job.taskId)).toBeUndefined();
    expect((await finished(queue, 'ws-a', job.taskId)).status).toBe('SUCCESS');
    expect(await queue.get('ws-b', job.taskId)).toBeUndefined();
    expect(await queue.get('ws-a', taskId('never-submitted'))).toBeUndefined();
  });

  it('runs sync jobs through the queue: images inline or in the store, nothing left behind', async () => {
    const inline = jobOf('sync-inline', bytesSource(), { type: 'base64' }, { format: 'png' });
    const result = await queue.execute(inline);
    expect(result.data.map((item) => [item.frame_index, item.frame_time])).toEqual(await engineFrames(inline));
    for (const item of result.data) {
      expect(Buffer.from(item.content as string, 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
    }
    const stored = jobOf('sync-stored', ossSource(), { type: 'oss', prefix: 'oss://results/sync' }, { mode: 'keyframe' });
    const storedResult = await queue.execute(stored);
    expect(storedResult.data.map((item) => [item.frame_index, item.frame_time])).toEqual(await engineFrames(stored));
    await expectImagesInStore(storedResult.data, storedResult.data.length);
    for (const job of [inline, stored]) {
      expect(await queue.get('ws-a', job.taskId)).toBeUndefined();
      expect(await inspector.exists(`${prefix}:tasks:${job.taskId}`, `${prefix}:input:${job.taskId}`, `${prefix}:result:${job.taskId}`)).toBe(0);
    }
  });

  it('fails a bad video at once, without a retry, async and sync', async () => {
    const garbage = Buffer.from('not a video'.repeat(400));
    const job = jobOf('bad', bytesSource(garbage), { type: 'oss', prefix: 'oss://results/bad' });
    await queue.submit('ws-a', job);
    const record = await finished(queue, 'ws-a', job.taskId);
    expect(record).toMatchObject({ status: 'FAIL', attempts: 1 });
    expect(record.error).toMatch(/^input\.content: /);
    expect(record.error).not.toContain(dataDir);
    // BullMQ's own count of attempts made: one, no retry scheduled.
    expect(await inspector.hget(`${prefix}:tasks:${job.taskId}`, 'atm')).toBe('1');
    await expect(inspector.exists(`${prefix}:input:${job.taskId}`)).resolves.toBe(0);

    const error = await failureOf(() => queue.execute(jobOf('bad-sync', bytesSource(garbage), { type: 'base64' })));
    expect(codeOf(error)).toBe('VSNAP_TASK_INPUT');
    expect((error as Error).message).toMatch(/^input\.content: /);
  });

  it('reports a worker process that crashes under a sync job as VSNAP_WORKER_CRASHED, and the node goes on', async () => {
    const job = longJob('crash');
    const execution = failureOf(() => queue.execute({ ...job, output: { type: 'base64' } }));
    await crashWorkerProcess(await nodeRunning(job.taskId, nodes));
    expect(codeOf(await execution)).toBe('VSNAP_WORKER_CRASHED');
    const next = await queue.execute(jobOf('after-crash', bytesSource(), { type: 'base64' }));
    expect(next.data.length).toBeGreaterThan(0);
  });

  it('retries a task whose worker process crashed, and it succeeds', async () => {
    const job = longJob('crash-async');
    await queue.submit('ws-a', job);
    await crashWorkerProcess(await nodeRunning(job.taskId, nodes));
    const record = await finished(queue, 'ws-a', job.taskId);
    expect(record).toMatchObject({ status: 'SUCCESS', attempts: 2 });
    await expectImagesInStore(record.data, longImages);
    // One attempt failed (the crash), the second completed.
    expect(await inspector.hget(`${prefix}:tasks:${job.taskId}`, 'atm')).toBe('2');
    const retried = nodes.flatMap((node) => node.logs()).find((line) => line.task_id === job.taskId && line.msg === 'task attempt failed; it will be retried');
    expect(retried?.reason).toMatch(/^VSNAP_WORKER_CRASHED: /);
  });

  it('forgets a finished task after the retention, and Redis drops it once a later task finishes', async () => {
    const brief = await RedisTaskQueue.open({ url: redis.url, retentionSeconds: 1 });
    try {
      const first = jobOf('brief', ossSource(), { type: 'oss', prefix: 'oss://results/brief' });
      await brief.submit('ws-a', first);
      const record = await finished(brief, 'ws-a', first.taskId);
      expect(record.status).toBe('SUCCESS');
      await new Promise((resolve) => setTimeout(resolve, (record.finishedAt as number) + 1000 - Date.now()));
      expect(await brief.get('ws-a', first.taskId)).toBeUndefined();
      expect(await inspector.exists(`${prefix}:tasks:${first.taskId}`)).toBe(1);
      const second = jobOf('brief-2', ossSource(), { type: 'oss', prefix: 'oss://results/brief' });
      await brief.submit('ws-a', second);
      expect((await finished(brief, 'ws-a', second.taskId)).status).toBe('SUCCESS');
      expect(await inspector.exists(`${prefix}:tasks:${first.taskId}`)).toBe(0);
    } finally {
      await brief.close();
    }
  });
});

describe('faults', () => {
  it('finishes every task exactly once when a worker node holding one is killed with SIGKILL', async () => {
    const jobs = ['kill-1', 'kill-2', 'kill-3'].map(longJob);
    for (const job of jobs) await queue.submit('ws-a', job);
    const victim = await nodeRunning(jobs[0]?.taskId as string, nodes);
    await victim.kill9();
    const survivors = nodes.filter((node) => node !== victim);
    for (const job of jobs) {
      const record = await finished(queue, 'ws-a', job.taskId);
      expect(record.status).toBe('SUCCESS');
      await expectImagesInStore(record.data, longImages);
    }
    // The killed node's task was started again by the other node.
    expect((await queue.get('ws-a', jobs[0]?.taskId as string))?.attempts).toBe(2);
    expect(survivors[0]?.logs().some((line) => line.msg === 'task started' && line.task_id === jobs[0]?.taskId)).toBe(true);
    const counts = await completions();
    for (const job of jobs) expect(counts.get(job.taskId)).toBe(1);
    nodes = [...survivors, await startNode()];
  });

  it('answers at once with VSNAP_QUEUE_UNAVAILABLE while Redis is down, and loses no accepted task', async () => {
    const jobs = ['outage-1', 'outage-2', 'outage-3'].map(longJob);
    for (const job of jobs) await queue.submit('ws-a', job);
    await nodeRunning(jobs[0]?.taskId as string, nodes);
    await redis.stop();
    const calls: [string, () => Promise<unknown>][] = [
      ['submit', () => queue.submit('ws-a', longJob('refused'))],
      ['get', () => queue.get('ws-a', jobs[0]?.taskId as string)],
      ['counts', () => queue.counts()],
      ['execute', () => queue.execute(jobOf('refused-sync', bytesSource(), { type: 'base64' }))],
    ];
    for (const [name, call] of calls) {
      const started = performance.now();
      const error = await failureOf(call);
      expect(codeOf(error), name).toBe('VSNAP_QUEUE_UNAVAILABLE');
      expect(performance.now() - started, name).toBeLessThan(500);
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await redis.start();
    await reconnected(queue);
    for (const job of jobs) {
      const record = await finished(queue, 'ws-a', job.taskId);
      expect(record.status).toBe('SUCCESS');
      await expectImagesInStore(record.data, longImages);
    }
  });

  it('stops a worker node gracefully: the running task finishes first, and the node exits 0', async () => {
    const job = longJob('graceful');
    await queue.submit('ws-a', job);
    const node = await nodeRunning(job.taskId, nodes);
    expect(await node.stop()).toEqual({ code: 0, signal: null });
    const record = await queue.get('ws-a', job.taskId);
    expect(record).toMatchObject({ status: 'SUCCESS', attempts: 1 });
    expect(node.logs().map((line) => line.msg)).toContain('worker node stopped');
    nodes = nodes.filter((other) => other !== node);
  });

  it('puts a task that outlives the grace period back in the queue, where another node finishes it', async () => {
    // The hasty node alone, so that it is the one to take the task.
    await Promise.all(nodes.map((node) => node.stop()));
    const hasty = await startNode({ shutdownGraceMs: 100 });
    nodes = [hasty];
    const job = longJob('cut-short');
    await queue.submit('ws-a', job);
    await nodeRunning(job.taskId, [hasty]);
    expect(await hasty.stop()).toEqual({ code: 0, signal: null });
    expect(hasty.logs().some((line) => line.task_id === job.taskId && line.msg === 'task back in the queue: this node is stopping')).toBe(true);
    expect((await queue.get('ws-a', job.taskId))?.status).toBe('PENDING');
    nodes = [await startNode()];
    const record = await finished(queue, 'ws-a', job.taskId);
    expect(record).toMatchObject({ status: 'SUCCESS', attempts: 2 });
    await expectImagesInStore(record.data, longImages);
    // Going back to the queue cost no attempt: the one made is the success.
    expect(await inspector.hget(`${prefix}:tasks:${job.taskId}`, 'atm')).toBe('1');
  });
});
