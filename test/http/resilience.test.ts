/**
 * What must survive: a worker process killed in the middle of a task (the
 * task is retried once, then FAILs with the reason; a sync caller gets a
 * 500; the server answers throughout and the worker is replaced), and the
 * whole service killed with SIGKILL while tasks are queued and running
 * (after a restart every task reaches SUCCESS exactly once with all its
 * images), and a graceful stop (SIGTERM) that re-queues what it cannot
 * finish; and a service that cannot start (its port taken) exits, with no
 * worker process left to keep it alive.
 */

import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { cpuTicks, putObject, Service, tempDataDir } from '../helpers/service.js';
import { keysConfig, testKeys } from '../helpers/service-keys.js';
import { longClip } from '../helpers/service-videos.js';

const key = testKeys.main;
const run = promisify(execFile);
const vsnapBin = fileURLToPath(new URL('../../bin/vsnap', import.meta.url));

const longJob = (prefix: string) => ({
  input: { oss: 'oss://bucket/long.mp4' },
  parameters: { interval: 1, format: 'png' },
  output: { oss: `oss://bucket/${prefix}` },
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A worker of the service once it is visibly working on a job: a worker the
 * service has logged as ready (so its start-up, which also uses CPU, is
 * over) that has then used 0.2 s of CPU.
 */
async function busyWorker(service: Service, exclude: readonly number[] = []): Promise<number> {
  const ready = await until('a ready worker', () =>
    service
      .logs()
      .filter((line) => line.msg === 'worker-ready')
      .map((line) => (line.worker as { pid: number }).pid)
      .find((pid) => !exclude.includes(pid) && cpuTicks(pid) !== -1),
  );
  const start = cpuTicks(ready);
  return until('a busy worker', () => (cpuTicks(ready) - start >= 20 ? ready : undefined));
}

async function taskIdOf(service: Service, body: unknown): Promise<string> {
  const created = await service.request('POST', service.apiPath('async'), { key, body });
  expect(created.status, created.text).toBe(200);
  return (created.body.result as { task_id: string }).task_id;
}

/**
 * The tasks a killed service had finished, read from the database it left:
 * what it committed, whether or not it lived to log it.
 */
function finishedIn(serviceDir: string): Set<string> {
  const db = new Database(path.join(serviceDir, 'tasks.db'));
  try {
    return new Set(db.prepare("SELECT id FROM tasks WHERE state IN ('SUCCESS', 'FAIL')").pluck().all() as string[]);
  } finally {
    db.close();
  }
}

let dataDir: string;

beforeAll(async () => {
  dataDir = await tempDataDir('resilience');
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('a worker process killed mid-task', () => {
  let service: Service;

  beforeAll(async () => {
    const serviceDir = path.join(dataDir, 'crash');
    await putObject(serviceDir, 'bucket', 'long.mp4', await fixturePath(longClip));
    await putObject(serviceDir, 'bucket', 'short.mp4', await fixturePath(fixtureNamed('mp4-h264')));
    const { config, env } = await keysConfig(dataDir);
    service = await Service.start({ dataDir: serviceDir, env, config: { ...config, workers: 1 } });
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('retries the task once, then fails it with the reason, and the server keeps answering', async () => {
    const taskId = await taskIdOf(service, longJob('crash-out'));

    const first = await busyWorker(service);
    process.kill(first, 'SIGKILL');
    expect((await service.request('GET', '/health')).status).toBe(200);
    const status = await service.request('GET', `${service.apiPath('async/task-status')}?task_id=${taskId}`, { key });
    expect((status.body.result as { status: string }).status).toBe('PENDING');

    const second = await busyWorker(service, [first]);
    expect(second).not.toBe(first);
    process.kill(second, 'SIGKILL');

    const done = await service.waitForTask(taskId, key);
    const result = done.body.result as { status: string; error: string };
    expect(result.status).toBe('FAIL');
    expect(result.error).toContain('exited unexpectedly (signal SIGKILL)');

    const next = await taskIdOf(service, { input: { oss: 'oss://bucket/short.mp4' }, output: { oss: 'oss://bucket/after' } });
    expect(((await service.waitForTask(next, key)).body.result as { status: string }).status).toBe('SUCCESS');
    expect(service.workerPids().length).toBe(1);
  });

  it('answers a sync caller whose worker died with InternalServerError, then serves the next one', async () => {
    const pending = service.request('POST', service.apiPath('sync'), { key, body: longJob('sync-crash') });
    const worker = await busyWorker(service);
    process.kill(worker, 'SIGKILL');
    const response = await pending;
    expect(response.status, response.text).toBe(500);
    expect(response.body).toMatchObject({ code: 'InternalServerError', http_code: 500 });

    const next = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { oss: 'oss://bucket/short.mp4' }, output: { type: 'base64' } },
    });
    expect(next.status, next.text).toBe(200);
  });
});

describe('the service killed with SIGKILL', () => {
  it('runs every accepted task to SUCCESS exactly once after a restart', async () => {
    const serviceDir = path.join(dataDir, 'restart');
    await putObject(serviceDir, 'bucket', 'long.mp4', await fixturePath(longClip));
    const { config, env } = await keysConfig(dataDir);
    const options = { dataDir: serviceDir, env, config: { ...config, workers: 1 } };

    const first = await Service.start(options);
    const taskIds: string[] = [];
    // Enough work that the kill, once the worker is busy, leaves some of it: a task takes about half a second.
    for (let i = 0; i < 8; i += 1) taskIds.push(await taskIdOf(first, { ...longJob(`restart-${i}`), parameters: { interval: 2 } }));
    const worker = await busyWorker(first);
    await first.kill9();
    // The orphaned worker notices its server is gone and exits instead of working on.
    await until('the orphaned worker to exit', () => (cpuTicks(worker) === -1 ? true : undefined), 10_000);

    const finishedBefore = finishedIn(serviceDir);
    expect(finishedBefore.size, 'the kill left tasks to run after the restart').toBeLessThan(taskIds.length);

    const second = await Service.start(options);
    try {
      for (const taskId of taskIds) {
        const done = await second.waitForTask(taskId, key);
        const result = done.body.result as { status: string; data: { path: string }[] };
        expect(result.status).toBe('SUCCESS');
        expect(result.data.length).toBe(10);
        expect(done.body.usage).toEqual({ image_count: 10, image: 10 });
        const index = taskIds.indexOf(taskId);
        const files = await readdir(path.join(serviceDir, 'oss', 'bucket', `restart-${index}`, taskId));
        expect(files.sort()).toEqual(Array.from({ length: 10 }, (_, k) => `snapshot_${k}.jpg`).sort());
      }
      // Exactly once: a task the first service finished is not run again; every other one is finished by the second.
      // The first one's line can be missing only if the kill fell between its commit and its log line.
      const finishesIn = (service: Service, taskId: string) =>
        service.logs().filter((line) => line.msg === 'task finished' && line.task_id === taskId).length;
      for (const taskId of taskIds) {
        const finishedFirst = finishedBefore.has(taskId);
        expect(finishesIn(second, taskId), taskId).toBe(finishedFirst ? 0 : 1);
        expect(finishesIn(first, taskId), taskId).toBeLessThanOrEqual(finishedFirst ? 1 : 0);
      }
    } finally {
      const ended = await second.stop();
      expect(ended.code).toBe(0);
    }
  });

  it('stops gracefully on SIGTERM, re-queueing what it cannot finish', async () => {
    const serviceDir = path.join(dataDir, 'graceful');
    await putObject(serviceDir, 'bucket', 'long.mp4', await fixturePath(longClip));
    const { config, env } = await keysConfig(dataDir);
    const options = { dataDir: serviceDir, env, config: { ...config, workers: 1, shutdownGraceMs: 100 } };

    const first = await Service.start(options);
    const taskId = await taskIdOf(first, longJob('graceful'));
    await busyWorker(first);
    const ended = await first.stop();
    expect(ended.code).toBe(0);
    expect(first.logs().some((line) => line.msg === 'task finished' && line.task_id === taskId)).toBe(false);

    const second = await Service.start(options);
    try {
      const done = await second.waitForTask(taskId, key);
      expect((done.body.result as { status: string }).status).toBe('SUCCESS');
    } finally {
      await second.stop();
    }
  });
});

describe('admission control', () => {
  it('answers 503 ServiceUnavailable with Retry-After when the task queue or the sync queue is full', async () => {
    const serviceDir = path.join(dataDir, 'admission');
    await putObject(serviceDir, 'bucket', 'long.mp4', await fixturePath(longClip));
    const { config, env } = await keysConfig(dataDir);
    const service = await Service.start({
      dataDir: serviceDir,
      env,
      config: { ...config, workers: 1, maxQueuedTasks: 1, maxQueuedSync: 0 },
    });
    try {
      const running = await taskIdOf(service, longJob('admission-0'));
      await busyWorker(service);
      const waiting = await taskIdOf(service, longJob('admission-1'));
      const refused = await service.request('POST', service.apiPath('async'), { key, body: longJob('admission-2') });
      expect(refused.status, refused.text).toBe(503);
      expect(refused.body).toMatchObject({ code: 'ServiceUnavailable', http_code: 503 });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      const syncRefused = await service.request('POST', service.apiPath('sync'), { key, body: longJob('admission-sync') });
      expect(syncRefused.status, syncRefused.text).toBe(503);
      expect(syncRefused.body.code).toBe('ServiceUnavailable');

      for (const taskId of [running, waiting]) {
        expect(((await service.waitForTask(taskId, key)).body.result as { status: string }).status).toBe('SUCCESS');
      }
      const metrics = await service.request('GET', '/metrics');
      expect(metrics.text).toMatch(/^vsnap_queue_rejections_total\{queue="tasks"\} 1$/m);
      expect(metrics.text).toMatch(/^vsnap_queue_rejections_total\{queue="sync"\} 1$/m);
    } finally {
      await service.stop();
    }
  });
});

describe('a service that cannot start', () => {
  it('exits with status 1 and the reason when its port is taken, leaving no worker process behind', async () => {
    const { config, env } = await keysConfig(dataDir);
    const owner = await Service.start({ dataDir: path.join(dataDir, 'port-owner'), env, config });
    try {
      const { port } = new URL(owner.url);
      const started = Date.now();
      // A service that hung on would be ended by the timeout: its code would then be null, not 1.
      const failure = await run(process.execPath, [vsnapBin, 'serve', '--host', '127.0.0.1', '--port', port, '--data-dir', path.join(dataDir, 'port-taken')], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      }).then(
        () => undefined,
        (error: unknown) => error as { code: number | null; stderr: string },
      );
      expect(failure?.code, failure?.stderr).toBe(1);
      expect(failure?.stderr).toContain('EADDRINUSE');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await owner.stop();
    }
  });
});
