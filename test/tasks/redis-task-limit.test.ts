/**
 * The per-key task limit of the Redis queue (redis-owner-tasks.ts) against
 * a real redis-server, with two RedisTaskQueues standing for two API nodes
 * and a BullMQ Worker finishing jobs the way a worker node does: the limit
 * holds across nodes under a race, a task frees its place only once it is
 * finished (SUCCESS or FAIL, not between retries), a sync call holds a
 * place while it waits, and a place whose job never appeared frees itself
 * after the grace.
 */

import { randomUUID } from 'node:crypto';

import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TaskError } from '../../src/tasks/errors.js';
import type { Job } from '../../src/tasks/job.js';
import type { TaskOwner } from '../../src/tasks/queue.js';
import { admitGraceMs } from '../../src/tasks/redis-owner-tasks.js';
import { RedisTaskQueue } from '../../src/tasks/redis-queue.js';
import { defaultPrefix, ownerKey, queueName } from '../../src/tasks/redis-task.js';
import { RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let inspector: Redis;
let nodes: RedisTaskQueue[];

beforeAll(async () => {
  redis = await RedisServer.start();
  inspector = new Redis(redis.url);
  nodes = await Promise.all([1, 2].map(() => RedisTaskQueue.open({ url: redis.url, retentionSeconds: 3600, syncTimeoutMs: 1500 })));
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((node) => node.close()));
  inspector?.disconnect();
  await redis?.kill();
});

function jobOf(label: string): Job {
  const url = 'oss://videos/in.mp4';
  return {
    taskId: `snapshot-${label}-${randomUUID().replaceAll('-', '')}`,
    source: { type: 'oss', url, name: url },
    output: { type: 'oss', prefix: 'oss://videos/out' },
    interval: 1,
    format: 'jpg',
    mode: 'exact',
  };
}

function owner(maxTasks: number): TaskOwner {
  return { id: `key-${randomUUID().slice(0, 8)}`, maxTasks };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(TaskError);
    return (error as TaskError).code;
  }
}

/** A BullMQ Worker on the queue, as a worker node runs one: `run` decides each job's end. */
async function startWorker(run: (taskId: string, attempt: number) => Promise<'succeed' | 'retry' | 'fail'>): Promise<Worker> {
  const worker = new Worker(
    queueName,
    async (job) => {
      const outcome = await run(job.id as string, job.attemptsMade + 1);
      if (outcome === 'retry') throw new Error('the worker process crashed');
      if (outcome === 'fail') throw new UnrecoverableError('VSNAP_TASK_INPUT: not a video');
      return { result: { data: [], framesDecoded: 0, decodeMs: 1 } };
    },
    { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix: defaultPrefix, concurrency: 4 },
  );
  await worker.waitUntilReady();
  return worker;
}

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function statusOf(node: RedisTaskQueue, taskId: string): Promise<string | undefined> {
  return (await node.get('ws', taskId))?.status;
}

describe('the per-key task limit on Redis', () => {
  it('admits exactly the limit when two API nodes race for one key', async () => {
    const key = owner(3);
    const attempts = Array.from({ length: 12 }, (_, i) => (nodes[i % 2] as RedisTaskQueue).submit('ws', jobOf('race'), key));
    const codes = await Promise.all(attempts.map(codeOf));
    expect(codes.filter((code) => code === undefined)).toHaveLength(3);
    expect(codes.filter((code) => code === 'VSNAP_TASK_LIMIT')).toHaveLength(9);
    expect(await inspector.zcard(ownerKey(defaultPrefix, key.id))).toBe(3);
    // Another key is admitted all the same.
    expect(await codeOf((nodes[0] as RedisTaskQueue).submit('ws', jobOf('other'), owner(1)))).toBeUndefined();
  });

  it('frees a place once its task has finished, SUCCESS or FAIL, and not while a failed attempt waits for its retry', async () => {
    const key = owner(2);
    const [node, otherNode] = nodes as [RedisTaskQueue, RedisTaskQueue];
    const retried = jobOf('retried');
    const failed = jobOf('failed');
    const later = jobOf('later');
    let firstAttemptFailed = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await node.submit('ws', retried, key);
    await node.submit('ws', failed, key);
    expect(await codeOf(otherNode.submit('ws', jobOf('refused'), key))).toBe('VSNAP_TASK_LIMIT');

    const worker = await startWorker(async (taskId, attempt) => {
      if (taskId === failed.taskId) return 'fail';
      if (taskId === retried.taskId && attempt === 1) {
        firstAttemptFailed = true;
        return 'retry';
      }
      if (taskId === retried.taskId || taskId === later.taskId) await gate;
      return 'succeed';
    });
    try {
      await until('the failing task is FAIL', async () => (await statusOf(node, failed.taskId)) === 'FAIL');
      await until("the retried task's first attempt failed", () => firstAttemptFailed);
      // FAIL freed one place; the task waiting for its retry keeps the other.
      await node.submit('ws', later, key);
      expect(await statusOf(node, retried.taskId)).toBe('PENDING');
      expect(await codeOf(otherNode.submit('ws', jobOf('refused'), key))).toBe('VSNAP_TASK_LIMIT');

      release();
      for (const job of [retried, later]) {
        await until(`${job.taskId} is SUCCESS`, async () => (await statusOf(node, job.taskId)) === 'SUCCESS');
      }
    } finally {
      await worker.close(true);
    }
    // Both places are free again, and no worker empties them now.
    await otherNode.submit('ws', jobOf('after'), key);
    await node.submit('ws', jobOf('after'), key);
    expect(await codeOf(node.submit('ws', jobOf('refused'), key))).toBe('VSNAP_TASK_LIMIT');
  });

  it('holds a place for a sync call while it waits, and frees it as soon as the call ends', async () => {
    const key = owner(1);
    const [node, otherNode] = nodes as [RedisTaskQueue, RedisTaskQueue];
    // No worker runs: the call waits until its 1.5 s timeout.
    const waiting = codeOf(node.execute(jobOf('sync'), key));
    await until('the sync call holds its place', async () => (await inspector.zcard(ownerKey(defaultPrefix, key.id))) === 1);
    expect(await codeOf(otherNode.submit('ws', jobOf('refused'), key))).toBe('VSNAP_TASK_LIMIT');
    expect(await codeOf(otherNode.execute(jobOf('refused'), key))).toBe('VSNAP_TASK_LIMIT');
    expect(await waiting).toBe('VSNAP_JOB_TIMEOUT');
    expect(await codeOf(otherNode.submit('ws', jobOf('admitted'), key))).toBeUndefined();
  });

  it('counts a place whose job has not appeared yet only within the grace', async () => {
    const key = owner(2);
    const set = ownerKey(defaultPrefix, key.id);
    const now = Date.now();
    // An API node that died between taking a place and adding its job, long ago; and one adding its job now.
    await inspector.zadd(set, now - admitGraceMs - 1000, 'snapshot-abandoned', now, 'snapshot-being-added');
    const [node] = nodes as [RedisTaskQueue];
    expect(await codeOf(node.submit('ws', jobOf('admitted'), key))).toBeUndefined();
    expect(await inspector.zscore(set, 'snapshot-abandoned')).toBeNull();
    expect(await codeOf(node.submit('ws', jobOf('refused'), key))).toBe('VSNAP_TASK_LIMIT');
  });
});
