/**
 * A task as Redis keeps it: the layout that the API side (redis-queue.ts)
 * writes and the worker node (queue-worker.ts) reads, in one place so the
 * two cannot drift apart.
 *
 * Keys, under a prefix P (default `vsnap`):
 *   P:tasks:…           BullMQ's queue `tasks`: the job hash P:tasks:<task id>,
 *                       the wait/prioritized/active/delayed/completed/failed
 *                       sets, the events stream P:tasks:events, locks.
 *   P:input:<task id>   the bytes of an `input.content` video, a plain string.
 *                       They travel beside the job, not in its data, because
 *                       BullMQ keeps data as JSON (a 100 MB video would be
 *                       copied into every read of the job) and because they
 *                       can be dropped as soon as the task finishes, while
 *                       the job record stays for the retention. Written
 *                       before the job, deleted by the worker node when the
 *                       task finishes, and set to expire after the retention
 *                       in case nobody does (an API node dying between the
 *                       two writes).
 *   P:result:<task id>  a sync job's JobResult (JSON), from the worker node
 *                       until the waiting API node reads and deletes it
 *                       (GETDEL), expiring after `syncResultTtlSeconds`.
 *                       A sync result holds its images as base64, megabytes;
 *                       as a BullMQ return value it would also be copied
 *                       into the events stream, which keeps 10 000 events.
 *   P:owner:<owner>     a sorted set per API key (its label): the ids of
 *                       its tasks that may be unfinished, scored by when
 *                       each was admitted; redis-owner-tasks.ts counts and
 *                       prunes it for the per-key limit.
 *
 * A BullMQ job: name `task` (async, priority 2) or `sync` (priority 1, so
 * that a caller holding a connection goes first); data `{ workspace?, job }`
 * with the Job's source as a StoredSource; return value a StoredResult; and
 * a failure recorded as `failedReason` = `CODE: message`, the TaskError the
 * API side rebuilds (`taskErrorOfReason`).
 */

import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

import { TaskError, taskErrorCodes, taskInternal, workerCrashed, type TaskErrorCode } from './errors.js';
import type { Job, JobResult } from './job.js';

export const defaultPrefix = 'vsnap';
export const queueName = 'tasks';

export type JobKind = 'task' | 'sync';

/** BullMQ serves the lowest number first among prioritized jobs. */
export const priorities: Readonly<Record<JobKind, number>> = { sync: 1, task: 2 };

/** The waiting API node reads a sync result at once; this only bounds what a vanished one leaves. */
export const syncResultTtlSeconds = 600;

/** A Job's source as stored: the bytes of a `bytes` source live under the input key. */
export type StoredSource = { type: 'oss'; url: string; name: string } | { type: 'bytes'; name: string };

export type StoredJob = Omit<Job, 'source'> & { source: StoredSource };

export interface TaskData {
  /** Absent for sync jobs, which no workspace can read back. */
  workspace?: string;
  job: StoredJob;
}

/** The return value of a finished job: the result itself, or for a sync job a note that it waits under the result key. */
export type StoredResult = { result: JobResult } | { stored: true };

export function inputKey(prefix: string, taskId: string): string {
  return `${prefix}:input:${taskId}`;
}

export function resultKey(prefix: string, taskId: string): string {
  return `${prefix}:result:${taskId}`;
}

export function ownerKey(prefix: string, owner: string): string {
  return `${prefix}:owner:${owner}`;
}

/** How a failure is recorded, for `taskErrorOfReason` to read back. */
export function failureReason(error: TaskError): string {
  return `${error.code}: ${error.message}`;
}

/** BullMQ's own reason for a job whose worker nodes vanished too often while running it. */
const stalledTooOften = 'job stalled more than allowable limit';

/** The TaskError a recorded failure stands for; a reason not written by `failureReason` is BullMQ's, or another build's. */
export function taskErrorOfReason(reason: string | undefined): TaskError {
  const match = /^(VSNAP_[A-Z_]+): (.*)$/s.exec(reason ?? '');
  if (match !== null && (taskErrorCodes as readonly string[]).includes(match[1] as string)) {
    return new TaskError(match[1] as TaskErrorCode, match[2] as string);
  }
  if (reason === stalledTooOften) return workerCrashed('its worker node stopped while running it, more than once');
  return taskInternal('The task failed on an internal error', new Error(reason));
}

/** Reconnection delays: soon after an outage ends, without hammering a server that is down. */
function retryDelay(attempt: number): number {
  return Math.min(attempt * 200, 2000);
}

const connectTimeoutMs = 2000;

/**
 * The API node's connections fail fast: with no offline queue a command
 * sent while Redis is down rejects at once, and with no retries a command
 * in flight when the connection drops rejects at once too; each becomes
 * VSNAP_QUEUE_UNAVAILABLE, a 503 the caller retries. ioredis reconnects on
 * its own meanwhile. `commandTimeout` bounds a server that accepts
 * connections but does not answer; it is generous because a command may
 * carry a whole video.
 */
export function apiConnection(url: string, options: { blocking?: boolean } = {}): Redis {
  const settings: RedisOptions = {
    connectTimeout: connectTimeoutMs,
    retryStrategy: retryDelay,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  };
  // A blocking read (XREAD BLOCK) outlives any command timeout by design.
  if (options.blocking !== true) settings.commandTimeout = 30_000;
  return new Redis(url, settings);
}

/**
 * The worker node's connections wait out an outage instead: a finished
 * task must still be recorded once Redis is back, and a worker has nothing
 * else to do meanwhile. BullMQ's own connections get these settings too
 * (it sets maxRetriesPerRequest to null itself on blocking ones).
 */
export const workerConnectionOptions = Object.freeze({
  connectTimeout: connectTimeoutMs,
  retryStrategy: retryDelay,
});

export function workerConnection(url: string): Redis {
  return new Redis(url, { ...workerConnectionOptions, maxRetriesPerRequest: null });
}

/** Resolves once `client` is ready; rejects when it is not within `timeoutMs`, with the last connection error. */
export function untilReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error): void => {
      lastError = error;
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      const why = lastError === undefined ? 'no answer' : lastError.message;
      reject(new Error(`Redis at ${describeRedisUrl(client)} is not reachable within ${timeoutMs} ms (${why})`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('ready', onReady);
    };
    client.on('error', onError);
    client.on('ready', onReady);
  });
}

/**
 * Logs the errors of a connection, and of the BullMQ objects on it, once
 * per outage rather than once per reconnect attempt (a few a second): each
 * distinct message once until the connection is ready again, which is
 * logged too. Returns the reporter, for the BullMQ objects' 'error' events;
 * something must listen to those, or an 'error' event is thrown.
 */
export function connectionErrorLog(client: Redis, logger: Logger, connection: string): (error: Error) => void {
  const seen = new Set<string>();
  const report = (error: Error): void => {
    if (seen.has(error.message)) return;
    seen.add(error.message);
    logger.warn({ redis: describeRedisUrl(client), connection, err: error.message }, 'redis error');
  };
  client.on('error', report);
  client.on('ready', () => {
    if (seen.size > 0) logger.info({ redis: describeRedisUrl(client), connection }, 'redis connection ready again');
    seen.clear();
  });
  return report;
}

/** Closes a connection: QUIT when it is up, so replies in flight arrive; dropped at once when it is not. */
export async function closeConnection(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // The connection went down under QUIT: closing it is all that is left to do.
    }
  }
  client.disconnect();
}

/** `redis://HOST:PORT/DB` of a connection, never its password. */
export function describeRedisUrl(client: Redis): string {
  const { host, port, db, tls } = client.options;
  return `${tls === undefined ? 'redis' : 'rediss'}://${host}:${port}${db === undefined || db === 0 ? '' : `/${db}`}`;
}
