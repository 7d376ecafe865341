/**
 * The server entry: everything `vsnap serve` owns that the app factory does
 * not. It builds the pieces from the configuration (keys, store, worker
 * processes, task queue, metrics, logs), listens, prints exactly one line
 * `listening on http://HOST:PORT` once ready, and shuts down gracefully on
 * SIGTERM or SIGINT:
 *   1. stop accepting connections and close idle keep-alive ones;
 *   2. let running tasks finish within `shutdownGraceMs`; what does not
 *      finish goes back to PENDING and runs at the next start;
 *   3. stop the worker processes, close the database, flush the logs.
 * A second signal during shutdown exits at once (the database is already
 * durable, so nothing accepted is lost).
 *
 * With no API key configured, a key is generated into the data directory on
 * first start and printed once, so the Quick start works with no setup.
 */

import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { createStore, type StoreConfig, storeConfigOf } from '../storage/store-config.js';
import { EmbeddedTaskQueue } from '../tasks/embedded-queue.js';
import type { JobResult } from '../tasks/job.js';
import type { TaskQueue } from '../tasks/queue.js';
import { WorkerSupervisor } from '../tasks/supervisor.js';
import { createApp } from './app.js';
import { loadKeyRing } from './auth.js';
import type { ServeConfig } from './config.js';
import { applyEngineSettings } from './decode-backend.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { RateLimiter } from './rate-limit.js';

export interface OutputStream {
  write(text: string): unknown;
}

export interface RunningServer {
  /** `http://HOST:PORT`, the port the system chose when 0 was asked. */
  url: string;
  /** Resolves once the server has shut down (after a signal or `close`). */
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function startServer(
  config: ServeConfig,
  stdout: OutputStream,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true });
  const logger = createLogger({ level: config.logLevel });
  const { keyRing, generated } = loadKeyRing(config, env);
  if (generated?.created === true) stdout.write(`generated API key (stored in ${generated.path}): ${generated.key}\n`);

  const backend = applyEngineSettings(config, logger);
  const storeConfig = storeConfigOf(config);
  const store = createStore(storeConfig);
  const metrics = createMetrics({ taskCounts: () => queue.counts() });
  const queue = await openTaskQueue(config, storeConfig, metrics, logger);

  const limiter = new RateLimiter();
  const app = createApp({
    tasks: withSyncMetrics(queue, metrics),
    store,
    authenticate: (authorization) => keyRing.authenticate(authorization),
    rateLimit: (caller) => limiter.take(caller.id, caller.qps),
    observe: (request) => metrics.observeRequest(request),
    metrics: () => metrics.render(),
    logger,
    openapi: openApiDocument,
    maxBodyBytes: config.maxBodyBytes,
    backend: backend.name,
  });

  const server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // A port in use, say: the queue's workers and connections must not keep the process alive.
    await queue.close(0);
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info({ grace_ms: config.shutdownGraceMs }, 'shutting down');
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await queue.close(config.shutdownGraceMs);
      server.closeAllConnections();
      await stopped;
      logger.info({}, 'stopped');
      logger.flush();
    })();
    return closing;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing !== undefined) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    void close();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const closed = new Promise<void>((resolve) => {
    server.on('close', () => {
      void (closing ?? close()).then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    });
  });

  stdout.write(`listening on ${url}\n`);
  return { url, closed, close };
}

/**
 * The task queue the configuration names: the embedded one (SQLite and this
 * process's worker processes), or the Redis one, whose tasks `vsnap worker`
 * nodes run (this node then runs no worker processes of its own).
 */
async function openTaskQueue(config: ServeConfig, storeConfig: StoreConfig, metrics: ServiceMetrics, logger: Logger): Promise<TaskQueue> {
  if (config.queue !== 'embedded') {
    // BullMQ and ioredis are loaded only by deployments that use them.
    const { RedisTaskQueue } = await import('../tasks/redis-queue.js');
    return RedisTaskQueue.open({
      url: config.queue,
      retentionSeconds: config.taskRetentionSeconds,
      maxQueuedTasks: config.maxQueuedTasks,
      maxQueuedSync: config.maxQueuedSync,
      // A sync job may wait for a busy worker node before it runs for up to the job timeout.
      syncTimeoutMs: 2 * config.jobTimeoutMs,
      logger,
    });
  }
  const supervisor = await WorkerSupervisor.start({
    workers: config.workers,
    maxQueued: config.maxQueuedSync,
    jobTimeoutMs: config.jobTimeoutMs,
    storeConfig,
    onEvent: (event) => {
      if (event.type === 'job-finished') {
        metrics.jobDuration.observe({ outcome: event.error ?? 'success' }, event.ms / 1000);
        return;
      }
      if (event.type === 'job-started') return;
      if (event.type === 'worker-ready' && event.replaces !== undefined) metrics.workerRestarts.inc();
      const level = event.type === 'worker-ready' ? 'info' : 'warn';
      logger[level]({ worker: event }, event.type);
    },
  });
  let queue: EmbeddedTaskQueue;
  try {
    queue = await EmbeddedTaskQueue.open({
      dataDir: config.dataDir,
      runner: supervisor,
      maxQueuedTasks: config.maxQueuedTasks,
      retentionSeconds: config.taskRetentionSeconds,
    });
  } catch (error) {
    // The worker processes would keep a service that cannot start alive.
    await supervisor.close(0);
    throw error;
  }
  queue.onFinished((task, result) => {
    if (result !== undefined) countResult(metrics, result);
    const decoding = result === undefined ? {} : { damaged_frames: result.damagedFrames, seek_recoveries: result.seekRecoveries };
    logger.info({ task_id: task.id, status: task.status, attempts: task.attempts, ...decoding }, 'task finished');
  });
  return queue;
}

/** The queue, with the frames of sync jobs and refused submissions counted (async frames are counted as tasks finish). */
function withSyncMetrics(queue: TaskQueue, metrics: ServiceMetrics): TaskQueue {
  return {
    submit: async (workspace, job, owner) => {
      try {
        return await queue.submit(workspace, job, owner);
      } catch (error) {
        if (isCode(error, 'VSNAP_RUNNER_BUSY')) metrics.queueRejections.inc({ queue: 'tasks' });
        throw error;
      }
    },
    get: (workspace, taskId) => queue.get(workspace, taskId),
    execute: async (job, owner) => {
      try {
        const result = await queue.execute(job, owner);
        countResult(metrics, result);
        return result;
      } catch (error) {
        if (isCode(error, 'VSNAP_RUNNER_BUSY')) metrics.queueRejections.inc({ queue: 'sync' });
        throw error;
      }
    },
    counts: () => queue.counts(),
    onFinished: (listener) => queue.onFinished(listener),
    close: (graceMs) => queue.close(graceMs),
  };
}

function countResult(metrics: ServiceMetrics, result: JobResult): void {
  metrics.framesExtracted.inc(result.data.length);
  metrics.damagedFrames.inc(result.damagedFrames ?? 0);
  metrics.seekRecoveries.inc(result.seekRecoveries ?? 0);
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
