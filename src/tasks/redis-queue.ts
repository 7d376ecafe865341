/**
 * The TaskQueue of a scaled-out deployment: tasks in Redis through BullMQ,
 * run by `vsnap worker` nodes (queue-worker.ts) on any machine, read back by
 * any API node. The embedded queue's twin: same contract (queue.ts), same
 * states, nothing kept in the API node, so API nodes come and go freely.
 * The Redis layout is redis-task.ts's.
 *
 * - `submit` writes an `input.content` video to its input key, then adds
 *   the job; Redis answers each write only once it is in its append-only
 *   file (appendfsync always, as the deployment section asks), so an
 *   accepted task survives a restart of Redis. Admission control counts the
 *   waiting jobs first: VSNAP_RUNNER_BUSY beyond `maxQueuedTasks`; then
 *   the owner's unfinished tasks, in Redis so that every API node sees the
 *   same count (redis-owner-tasks.ts): VSNAP_TASK_LIMIT at its limit.
 * - Attempts: 3, with exponential backoff from 1 s, for what may pass (a
 *   worker process that crashed, a storage error); a bad input or a
 *   timeout fails at once (the worker marks them unrecoverable). A worker
 *   node that vanishes mid-task leaves its job locked; another node takes
 *   it over when the lock expires (stall detection, not an attempt).
 * - Finished records stay readable for `retentionSeconds`. BullMQ deletes
 *   them lazily (when a later job finishes), so `get` hides one that is
 *   past its retention itself. That clean-up applies the age of the job
 *   finishing now to every finished record, so all API nodes of one
 *   deployment must share one retention (the shortest would win).
 * - `get` maps BullMQ's states: waiting, prioritized, delayed (a retry's
 *   backoff) and active are PENDING (active is `running`), completed is
 *   SUCCESS, failed is FAIL with the task's one-line reason. A task of
 *   another workspace, and every sync job, is not there.
 * - `execute` sends a sync job through the same queue at a higher
 *   priority, one attempt, removed once finished, and waits for its finish
 *   on the events stream (redis-events.ts), so the API node holds nothing
 *   but the waiting call. At most `maxQueuedSync` sync jobs wait (else
 *   VSNAP_RUNNER_BUSY); one not finished within `syncTimeoutMs` (no worker
 *   node running, say) rejects with VSNAP_JOB_TIMEOUT and is withdrawn if
 *   no worker has taken it.
 * - Redis unreachable: every call rejects at once with
 *   VSNAP_QUEUE_UNAVAILABLE (the connections fail fast, redis-task.ts), a
 *   sync call waiting for its result too, and the connections come back on
 *   their own. `open` fails the same way when Redis does not answer within
 *   a few seconds.
 * - `close` takes no more calls, lets waiting sync calls finish within the
 *   grace period (then they reject with VSNAP_RUNNER_CLOSED) and closes the
 *   connections. Tasks are in Redis and need no API node to finish.
 */

import { Queue, type Job as BullJob, type JobState, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';

import { invalidOption } from '../errors.js';
import { maxTimerMs, positiveInteger, redisLocation } from './option-checks.js';
import { queueUnavailable, runnerBusy, runnerClosed, TaskError, taskInternal, taskLimitReached } from './errors.js';
import type { Job, JobResult, JobSource } from './job.js';
import type { TaskCounts, TaskOwner, TaskQueue, TaskRecord } from './queue.js';
import { OwnerTasks } from './redis-owner-tasks.js';
import { FinishedJobs, type Finish } from './redis-events.js';
import {
  apiConnection,
  closeConnection,
  connectionErrorLog,
  defaultPrefix,
  inputKey,
  priorities,
  queueName,
  resultKey,
  taskErrorOfReason,
  untilReady,
  type JobKind,
  type StoredResult,
  type StoredSource,
  type TaskData,
} from './redis-task.js';
import { parseFromWorker } from './worker-protocol.js';

export interface RedisQueueOptions {
  /** redis://HOST:PORT (or rediss://), as ioredis reads it. */
  url: string;
  /** Seconds a finished task stays readable; an uploaded video expires after as long if no worker finishes its task. */
  retentionSeconds: number;
  /** Waiting tasks accepted before `submit` answers VSNAP_RUNNER_BUSY. Default 10 000. */
  maxQueuedTasks?: number;
  /** Waiting sync jobs accepted before `execute` answers VSNAP_RUNNER_BUSY. Default 64. */
  maxQueuedSync?: number;
  /** Milliseconds a sync call waits for its result. Default 10 minutes. */
  syncTimeoutMs?: number;
  /** The key prefix, to share one Redis between deployments. Default `vsnap`. */
  prefix?: string;
  /** Where connection trouble is logged. Default: nowhere. */
  logger?: Logger;
}

type TaskJob = BullJob<TaskData, StoredResult, JobKind>;

interface Resolved {
  url: string;
  retentionSeconds: number;
  maxQueuedTasks: number;
  maxQueuedSync: number;
  syncTimeoutMs: number;
  prefix: string;
  logger: Logger;
}

const taskAttempts = 3;
const firstRetryDelayMs = 1000;
const openTimeoutMs = 5000;

export class RedisTaskQueue implements TaskQueue {
  readonly #options: Resolved;
  readonly #redis: Redis;
  readonly #queue: Queue<TaskData, StoredResult, JobKind>;
  readonly #finished: FinishedJobs;
  readonly #owners: OwnerTasks;
  /** Sync calls waiting for their result, for `close` to wait for. */
  readonly #executions = new Set<Promise<unknown>>();
  #closing = false;
  #closed: Promise<void> | undefined;

  private constructor(options: Resolved, redis: Redis, queue: Queue<TaskData, StoredResult, JobKind>, finished: FinishedJobs) {
    this.#options = options;
    this.#redis = redis;
    this.#queue = queue;
    this.#finished = finished;
    const keys = queue.keys as Record<string, string>;
    this.#owners = new OwnerTasks(redis, options.prefix, {
      jobPrefix: keys[''] as string,
      completed: keys.completed as string,
      failed: keys.failed as string,
    });
  }

  /** Connects to Redis; rejects with VSNAP_QUEUE_UNAVAILABLE when it does not answer within a few seconds. */
  static async open(options: RedisQueueOptions): Promise<RedisTaskQueue> {
    const resolved = resolveOptions(options);
    const { url, prefix, logger } = resolved;
    const redis = apiConnection(url);
    const report = connectionErrorLog(redis, logger, 'commands');
    try {
      await untilReady(redis, openTimeoutMs);
    } catch (error) {
      redis.disconnect();
      throw queueUnavailable(error);
    }
    // BullMQ runs its commands on this connection, and leaves closing it to us.
    const queue = new Queue<TaskData, StoredResult, JobKind>(queueName, { connection: redis, prefix });
    queue.on('error', report);
    try {
      await queue.waitUntilReady();
      const finished = await FinishedJobs.start(url, queue.keys.events as string, openTimeoutMs, logger);
      return new RedisTaskQueue(resolved, redis, queue, finished);
    } catch (error) {
      await queue.close();
      await closeConnection(redis);
      throw queueUnavailable(error);
    }
  }

  async submit(workspace: string, job: Job, owner?: TaskOwner): Promise<TaskRecord> {
    if (this.#closing) throw runnerClosed();
    const waiting = await this.#call(() => this.#queue.getJobCountByTypes('waiting', 'prioritized', 'delayed'));
    if (waiting >= this.#options.maxQueuedTasks) throw runnerBusy();
    const data: TaskData = { workspace, job: { ...job, source: storedSource(job.source) } };
    await this.#admit(owner, job.taskId);
    const { retentionSeconds } = this.#options;
    let added: TaskJob;
    try {
      added = await this.#add('task', data, job.source, {
        attempts: taskAttempts,
        backoff: { type: 'exponential', delay: firstRetryDelayMs },
        removeOnComplete: { age: retentionSeconds },
        removeOnFail: { age: retentionSeconds },
      });
    } catch (error) {
      await this.#release(owner, job.taskId);
      throw error;
    }
    return { id: job.taskId, workspace, status: 'PENDING', running: false, attempts: 0, createdAt: added.timestamp };
  }

  async get(workspace: string, taskId: string): Promise<TaskRecord | undefined> {
    // The state first: a job read after it is seen finished holds its result.
    const state = await this.#call(() => this.#queue.getJobState(taskId));
    if (state === 'unknown') return undefined;
    const job = await this.#call(() => this.#queue.getJob(taskId));
    if (job?.data?.workspace !== workspace) return undefined;
    return recordOf(job, workspace, state, this.#options.retentionSeconds * 1000);
  }

  async execute(job: Job, owner?: TaskOwner): Promise<JobResult> {
    if (this.#closing) throw runnerClosed();
    const counts = await this.#call(() => this.#queue.getCountsPerPriority([priorities.sync]));
    if ((counts[priorities.sync] ?? 0) >= this.#options.maxQueuedSync) throw runnerBusy();
    await this.#admit(owner, job.taskId);
    const execution = this.#execute(job);
    this.#executions.add(execution);
    try {
      return await execution;
    } finally {
      this.#executions.delete(execution);
      await this.#release(owner, job.taskId);
    }
  }

  async counts(): Promise<TaskCounts> {
    const counts = await this.#call(() =>
      this.#queue.getJobCounts('waiting', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed'),
    );
    const count = (state: string): number => counts[state] ?? 0;
    return {
      pending: count('waiting') + count('prioritized') + count('delayed') + count('waiting-children'),
      running: count('active'),
      success: count('completed'),
      fail: count('failed'),
    };
  }

  /**
   * Called for no task. Tasks finish on worker nodes, which log each one;
   * an API node could only learn of them from the events stream, and every
   * API node would then report every task, counting each one N times in
   * the sum of N nodes' metrics.
   */
  onFinished(): void {}

  close(graceMs = 0): Promise<void> {
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  async #close(graceMs: number): Promise<void> {
    this.#closing = true;
    await settledWithin([...this.#executions], graceMs);
    await this.#finished.close(runnerClosed());
    await this.#queue.close();
    await closeConnection(this.#redis);
  }

  async #execute(job: Job): Promise<JobResult> {
    const wait = this.#finished.wait(job.taskId);
    try {
      await this.#add('sync', { job: { ...job, source: storedSource(job.source) } }, job.source, {
        attempts: 1,
        removeOnComplete: true,
        removeOnFail: true,
      });
    } catch (error) {
      wait.cancel();
      throw error;
    }
    const finish = await this.#within(wait.finished, job, () => wait.cancel());
    if (finish.event === 'failed') throw taskErrorOfReason(finish.failedReason);
    const stored = parseJson(finish.returnvalue) as StoredResult | undefined;
    if (stored !== undefined && 'result' in stored) return checkedResult(job.taskId, stored.result);
    const json = await this.#call(() => this.#redis.getdel(resultKey(this.#options.prefix, job.taskId)));
    if (json === null) throw taskInternal('The result of the task expired before it was read');
    return checkedResult(job.taskId, parseJson(json));
  }

  /** The sync job's finish, or VSNAP_JOB_TIMEOUT after `syncTimeoutMs`, when the job is withdrawn unless a worker has it. */
  async #within(finished: Promise<Finish>, job: Job, cancel: () => void): Promise<Finish> {
    const { syncTimeoutMs, prefix, logger } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        cancel();
        reject(new TaskError('VSNAP_JOB_TIMEOUT', `No worker finished the task within ${Math.round(syncTimeoutMs / 1000)} s`));
        // A job a worker already runs cannot be removed: it finishes, and its result expires unread.
        void this.#queue
          .remove(job.taskId)
          .then((removed) => (removed === 1 && job.source.type === 'bytes' ? this.#redis.del(inputKey(prefix, job.taskId)) : 0))
          .catch((error: Error) => logger.warn({ task_id: job.taskId, err: error.message }, 'withdrawing a timed-out sync job failed'));
      }, syncTimeoutMs);
    });
    try {
      return await Promise.race([finished, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Takes a place of `owner`'s limit for `taskId`, or throws VSNAP_TASK_LIMIT. */
  async #admit(owner: TaskOwner | undefined, taskId: string): Promise<void> {
    if (owner === undefined) return;
    const admitted = await this.#call(() => this.#owners.admit(owner.id, owner.maxTasks, taskId));
    if (!admitted) throw taskLimitReached(owner.id, owner.maxTasks);
  }

  /** Gives the place back now; should Redis not answer, the next admit frees it after the grace. */
  async #release(owner: TaskOwner | undefined, taskId: string): Promise<void> {
    if (owner === undefined) return;
    await this.#owners.release(owner.id, taskId).catch((error: Error) => {
      this.#options.logger.warn({ task_id: taskId, err: error.message }, 'releasing a task place of its key failed');
    });
  }

  /** Writes the input bytes (when the source has them), then adds the job. */
  async #add(kind: JobKind, data: TaskData, source: JobSource, options: JobsOptions): Promise<TaskJob> {
    const { prefix, retentionSeconds } = this.#options;
    return this.#call(async () => {
      if (source.type === 'bytes') {
        const bytes = Buffer.from(source.data.buffer, source.data.byteOffset, source.data.byteLength);
        // Should adding the job fail now, the bytes expire with the retention.
        await this.#redis.set(inputKey(prefix, data.job.taskId), bytes, 'EX', retentionSeconds);
      }
      return this.#queue.add(kind, data, { ...options, jobId: data.job.taskId, priority: priorities[kind] });
    });
  }

  /** Runs Redis commands; whatever fails there means the queue cannot be used now. */
  async #call<T>(commands: () => Promise<T>): Promise<T> {
    try {
      return await commands();
    } catch (error) {
      if (error instanceof TaskError) throw error;
      throw queueUnavailable(error);
    }
  }
}

function storedSource(source: JobSource): StoredSource {
  switch (source.type) {
    case 'oss':
      return source;
    case 'bytes':
      return { type: 'bytes', name: source.name };
    case 'file':
      // A file of this machine: a worker node elsewhere could not open it.
      throw taskInternal('A task with a local file as its input cannot be sent to a worker node');
  }
}

function recordOf(job: TaskJob, workspace: string, state: JobState | 'unknown', retentionMs: number): TaskRecord | undefined {
  const finishedAt = job.finishedOn;
  if (finishedAt !== undefined && finishedAt + retentionMs <= Date.now()) return undefined;
  const record: TaskRecord = {
    id: job.id as string,
    workspace,
    status: 'PENDING',
    running: state === 'active',
    attempts: job.attemptsStarted,
    createdAt: job.timestamp,
  };
  if (state !== 'completed' && state !== 'failed') return record;
  if (finishedAt !== undefined) record.finishedAt = finishedAt;
  if (state === 'failed') {
    record.status = 'FAIL';
    record.error = taskErrorOfReason(job.failedReason).message;
    return record;
  }
  const returned = job.returnvalue as StoredResult | null;
  const checked =
    returned !== null && 'result' in returned
      ? parseFromWorker({ type: 'result', taskId: record.id, result: returned.result })
      : undefined;
  if (checked?.type === 'result') {
    record.status = 'SUCCESS';
    record.data = checked.result.data;
  } else {
    // A completed job without a readable result was written by another build.
    record.status = 'FAIL';
    record.error = taskInternal('The task failed on an internal error').message;
  }
  return record;
}

/** A result as a worker node stored it, checked as strictly as a worker process's. */
function checkedResult(taskId: string, value: unknown): JobResult {
  const message = parseFromWorker({ type: 'result', taskId, result: value });
  if (message?.type !== 'result') throw taskInternal('The worker node returned a malformed result');
  return message.result;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Resolves once every promise has settled or `ms` have passed, whichever is first; never rejects. */
async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled(promises), elapsed]);
  clearTimeout(timer);
}

function resolveOptions(options: RedisQueueOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { url, prefix } = redisLocation(options.url, options.prefix, defaultPrefix);
  return {
    url,
    retentionSeconds: positiveInteger(options.retentionSeconds, 'retentionSeconds', undefined),
    maxQueuedTasks: positiveInteger(options.maxQueuedTasks, 'maxQueuedTasks', 10_000),
    maxQueuedSync: positiveInteger(options.maxQueuedSync, 'maxQueuedSync', 64),
    syncTimeoutMs: positiveInteger(options.syncTimeoutMs, 'syncTimeoutMs', 10 * 60_000, maxTimerMs),
    prefix,
    logger: options.logger ?? pino({ enabled: false }),
  };
}
