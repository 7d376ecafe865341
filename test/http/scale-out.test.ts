/**
 * The scaled-out shape under faults, seen through the API as a client sees
 * it: a stateless `vsnap serve --queue redis://… --storage s3`, two
 * `vsnap worker` nodes, redis-server and s3rver, each its own process.
 *
 * - A worker node killed with SIGKILL while it holds a task: every task
 *   still reaches SUCCESS exactly once with all its images in the store.
 * - Redis stopped for a few seconds: the API answers 503 ServiceUnavailable
 *   with Retry-After at once (no hang, no 500), and every task accepted
 *   before the outage reaches SUCCESS once Redis is back.
 */

import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { S3Store } from '../../src/storage/s3-store.js';
import { RedisServer } from '../helpers/redis.js';
import { type S3rver, startS3rver } from '../helpers/s3rver.js';
import { Service, tempDataDir } from '../helpers/service.js';
import { keysConfig, testKeys } from '../helpers/service-keys.js';
import { longClip } from '../helpers/service-videos.js';
import { fixturePath } from '../helpers/made-file.js';
import { WorkerNode } from '../helpers/worker-node.js';

const key = testKeys.main;
/** 20 PNGs of a 20 s 720p clip: a task that runs for about a second. */
const imagesPerTask = 20;
const taskBody = (name: string) => ({
  input: { oss: 'oss://bucket/long.mp4' },
  parameters: { interval: 1, format: 'png' },
  output: { oss: `oss://bucket/${name}` },
});

let dataDir: string;
let s3: S3rver;
let redis: RedisServer;
let store: S3Store;
let service: Service;
let nodes: WorkerNode[];

beforeAll(async () => {
  dataDir = await tempDataDir('scale-out');
  s3 = await startS3rver(['bucket']);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY });
  store = new S3Store({ endpoint: s3.endpoint, region: s3.storeConfig.region, forcePathStyle: true });
  await store.write('oss://bucket/long.mp4', await readFile(await fixturePath(longClip)));
  redis = await RedisServer.start();
  // A killed node's task is taken over once its lock expires: seconds, not the default's tens of seconds.
  const nodeEnv = { ...s3.env, VSNAP_WORKERS: '1', VSNAP_WORKER_LOCK_MS: '2000', VSNAP_WORKER_STALLED_INTERVAL_MS: '1000' };
  nodes = await Promise.all([0, 1].map(() => WorkerNode.start({ queue: redis.url, dataDir, env: nodeEnv })));
  const { config, env } = await keysConfig(dataDir);
  service = await Service.start({ dataDir, env: { ...env, ...s3.env, VSNAP_QUEUE: redis.url }, config });
});

afterAll(async () => {
  await service?.stop();
  for (const node of nodes ?? []) await node.stop();
  await redis?.kill();
  await s3?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function submit(name: string): Promise<string> {
  const created = await service.request('POST', service.apiPath('async'), { key, body: taskBody(name) });
  expect(created.status, created.text).toBe(200);
  return (created.body.result as { task_id: string }).task_id;
}

async function expectAllImages(taskId: string, name: string): Promise<void> {
  let done = await service.waitForTask(taskId, key, 'default', 180_000);
  // Just after an outage the API node may still be reconnecting: 503 says to retry.
  while (done.status === 503) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    done = await service.waitForTask(taskId, key, 'default', 180_000);
  }
  const result = done.body.result as { status: string; data: { path: string }[] };
  expect(result.status, done.text).toBe('SUCCESS');
  expect(result.data.length).toBe(imagesPerTask);
  const stored = await store.list(`oss://bucket/${name}/${taskId}`);
  expect(stored.length).toBe(imagesPerTask);
}

function finishesOf(taskId: string): number {
  return nodes.flatMap((node) => node.logs()).filter((line) => line.msg === 'task finished' && line.task_id === taskId).length;
}

describe('the scaled-out service', () => {
  it('finishes every task exactly once when a worker node holding one is killed with SIGKILL', async () => {
    const names = ['kill-0', 'kill-1', 'kill-2'];
    const ids = await Promise.all(names.map((name) => submit(name)));
    const [holder, held] = await Promise.any(
      nodes.map((node) =>
        node
          .waitForLog((line) => line.msg === 'task started' && ids.includes(String(line.task_id)))
          .then((line) => [node, String(line.task_id)] as const),
      ),
    );
    await holder.kill9();
    expect((await service.request('GET', '/health')).status).toBe(200);
    for (const [i, id] of ids.entries()) await expectAllImages(id, names[i]!);
    for (const id of ids) expect(finishesOf(id)).toBe(1);
    // The task the killed node held was taken over and finished by the other node.
    const survivor = nodes.find((node) => node !== holder)!;
    expect(survivor.logs().some((line) => line.msg === 'task finished' && line.task_id === held)).toBe(true);
    nodes = [survivor];
  });

  it('answers 503 with Retry-After while Redis is down, and loses no accepted task', async () => {
    const names = ['outage-0', 'outage-1'];
    const ids = await Promise.all(names.map((name) => submit(name)));
    await redis.stop();
    try {
      const started = Date.now();
      const refused = await service.request('POST', service.apiPath('async'), { key, body: taskBody('refused') });
      const status = await service.request('GET', `${service.apiPath('async/task-status')}?task_id=${ids[0]}`, { key });
      expect(Date.now() - started).toBeLessThan(5_000);
      for (const answer of [refused, status]) {
        expect(answer.status, answer.text).toBe(503);
        expect(answer.body).toMatchObject({ code: 'ServiceUnavailable', http_code: 503 });
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      await redis.start();
    }
    for (const [i, id] of ids.entries()) await expectAllImages(id, names[i]!);
    for (const id of ids) expect(finishesOf(id)).toBe(1);
  });
});
