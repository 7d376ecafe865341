/**
 * QueueWorker: a worker node of the Redis queue (`vsnap worker`). A BullMQ
 * Worker takes tasks from Redis, `workers` at a time, and runs each in a
 * process of a WorkerSupervisor, so that a video that crashes the decoder
 * takes down one child process, never the node. The Redis layout is
 * redis-task.ts's.
 *
 * Contract
 * - A job's video is fetched from its input key when it was uploaded
 *   (`input.content`), else read from the store by the worker process.
 *   The input key is deleted once the task has finished for good.
 * - Failure policy: VSNAP_TASK_INPUT and VSNAP_JOB_TIMEOUT fail the task at
 *   once (unrecoverable: the same input fails the same way); a crashed
 *   worker process, a storage or any other error fail the attempt, and
 *   BullMQ retries it with backoff up to the job's attempts.
 * - Stalls: the node holds a lock on each running job and renews it every
 *   `lockDurationMs / 2`. A node killed mid-task stops renewing; every
 *   node checks for expired locks each `stalledIntervalMs`, and the first
 *   to find one puts the job back in the queue, where any node takes it:
 *   within about `lockDurationMs + 2 × stalledIntervalMs` (20 s by
 *   default). A task stalled more than twice fails (it is likely the cause).
 * - Running a task again is safe: its images go to the same paths.
 * - A sync job's result goes to its result key, not BullMQ's return value.
 * - `close(graceMs)` stops taking jobs, lets the running ones finish
 *   within `graceMs`, then stops the worker processes; a job cut short goes
 *   back to the queue as it was (not counted as an attempt), for another
 *   node. While Redis is unreachable it waits for Redis: finished tasks
 *   must still be recorded, and BullMQ cannot close before (see
 *   #blockingConnectionUp).
 * - Logs: one JSON line per task start and finish (with `task_id`), per
 *   retry and per stall recovered; Redis errors once per outage.
 */

import { type Job as BullJob, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { invalidOption } from '../errors.js';
import { maxTimerMs, positiveInteger, redisLocation } from './option-checks.js';
import { defaultLockDurationMs, defaultStalledIntervalMs } from './worker-timings.js';
import type { StoreConfig } from '../storage/store-config.js';
import { queueUnavailable, taskInternal, type TaskError, toTaskError } from './errors.js';
import type { Job, JobResult, JobSource } from './job.js';
import {
  closeConnection,
  connectionErrorLog,
  defaultPrefix,
  failureReason,
  inputKey,
  queueName,
  resultKey,
  syncResultTtlSeconds,
  untilReady,
  workerConnection,
  workerConnectionOptions,
  type JobKind,
  type StoredResult,
  type TaskData,
} from './redis-task.js';
import { WorkerSupervisor, type SupervisorEvent } from './supervisor.js';
import { parseToWorker } from './worker-protocol.js';

export interface QueueWorkerOptions {
  /** redis://HOST:PORT (or rediss://). */
  url: string;
  /** The store the worker processes read inputs from and write images to. */
  storeConfig: StoreConfig;
  /** Worker processes, and so jobs run at once. */
  workers: number;
  /** Milliseconds a job may run before its process is killed and the task fails. */
  jobTimeoutMs: number;
  logger: Logger;
  /** The key prefix; the API nodes' must be the same. Default `vsnap`. */
  prefix?: string;
  /** How long a node's lock on a running job lasts unless renewed. Default 10 000. */
  lockDurationMs?: number;
  /** How often the node looks for jobs whose lock expired. Default 5 000. */
  stalledIntervalMs?: number;
}

type TaskJob = BullJob<TaskData, StoredResult, JobKind>;

const maxStalledCount = 2;
const startTimeoutMs = 5000;
const unrecoverableCodes: ReadonlySet<string> = new Set(['VSNAP_TASK_INPUT', 'VSNAP_JOB_TIMEOUT']);

export class QueueWorker {
  /** The number of worker processes. */
  readonly processes: number;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #redis: Redis;
  readonly #supervisor: WorkerSupervisor;
  readonly #worker: Worker<TaskData, StoredResult, JobKind>;
  #closed: Promise<void> | undefined;

  private constructor(options: Required<QueueWorkerOptions>, redis: Redis, supervisor: WorkerSupervisor, report: (error: Error) => void) {
    this.processes = options.workers;
    this.#prefix = options.prefix;
    this.#logger = options.logger;
    this.#redis = redis;
    this.#supervisor = supervisor;
    this.#worker = new Worker<TaskData, StoredResult, JobKind>(queueName, (job, token) => this.#process(job, token), {
      connection: { ...workerConnectionOptions, url: options.url },
      prefix: options.prefix,
      concurrency: options.workers,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount,
    });
    this.#worker.on('error', report);
    this.#worker.on('completed', (job) => this.#onCompleted(job));
    this.#worker.on('failed', (job, error) => this.#onFailed(job, error));
    this.#worker.on('stalled', (jobId) => this.#logger.warn({ task_id: jobId }, 'task back in the queue: the node running it stopped'));
  }

  /**
   * Connects to Redis, starts the worker processes, then takes jobs.
   * Rejects with VSNAP_QUEUE_UNAVAILABLE when Redis does not answer within
   * a few seconds, and as WorkerSupervisor.start does when the processes
   * cannot start.
   */
  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    const resolved = resolveOptions(options);
    const redis = workerConnection(resolved.url);
    const report = connectionErrorLog(redis, resolved.logger, 'commands');
    try {
      await untilReady(redis, startTimeoutMs);
    } catch (error) {
      redis.disconnect();
      throw queueUnavailable(error);
    }
    let supervisor: WorkerSupervisor;
    try {
      supervisor = await WorkerSupervisor.start({
        storeConfig: resolved.storeConfig,
        workers: resolved.workers,
        // BullMQ hands over at most `workers` jobs; room for as many covers a process being replaced.
        maxQueued: resolved.workers,
        jobTimeoutMs: resolved.jobTimeoutMs,
        onEvent: (event) => logSupervisorEvent(resolved.logger, event),
      });
    } catch (error) {
      await closeConnection(redis);
      throw error;
    }
    const node = new QueueWorker(resolved, redis, supervisor, report);
    await node.#worker.waitUntilReady();
    return node;
  }

  close(graceMs: number): Promise<void> {
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  async #close(graceMs: number): Promise<void> {
    this.#logger.info({ grace_ms: graceMs }, 'worker node stopping');
    // The supervisor rejects what it cannot finish in time with VSNAP_RUNNER_CLOSED, which #process puts back in the queue.
    await Promise.all([this.#blockingConnectionUp().then(() => this.#worker.close()), this.#supervisor.close(graceMs)]);
    await closeConnection(this.#redis);
    this.#logger.info({}, 'worker node stopped');
  }

  /**
   * Resolves once BullMQ's blocking connection is up. Its `close` ends that
   * connection and waits for the end; when the connection is between two
   * reconnect attempts, ioredis drops the next attempt without ever ending
   * it, and the close would not return, not even once Redis is back. So
   * while Redis is away a stop waits for it; the close is called in the
   * same turn as the readiness is seen, with no I/O in between.
   */
  async #blockingConnectionUp(): Promise<void> {
    const client = await this.#worker.getBackend().blockingClient;
    if (client === undefined || client.status === 'ready') return;
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  }

  async #process(bullJob: TaskJob, token: string | undefined): Promise<StoredResult> {
    this.#logger.info({ task_id: bullJob.id, kind: bullJob.name, attempt: bullJob.attemptsStarted }, 'task started');
    const job = await this.#jobOf(bullJob);
    let result: JobResult;
    try {
      result = await this.#supervisor.run(job);
    } catch (error) {
      const taskError = toTaskError(error);
      if (taskError.code === 'VSNAP_RUNNER_CLOSED' && token !== undefined) {
        await bullJob.moveToWait(token);
        this.#logger.info({ task_id: bullJob.id }, 'task back in the queue: this node is stopping');
        throw new WaitingError();
      }
      throw attemptFailure(taskError);
    }
    if (bullJob.name === 'task') return { result };
    await this.#redis.set(resultKey(this.#prefix, job.taskId), JSON.stringify(result), 'EX', syncResultTtlSeconds);
    return { stored: true };
  }

  /** The Job to run: the stored one with its uploaded bytes put back, checked as a worker process would. */
  async #jobOf(bullJob: TaskJob): Promise<Job> {
    const stored: Partial<TaskData['job']> = bullJob.data?.job ?? {};
    let source: JobSource | undefined = stored.source?.type === 'oss' ? stored.source : undefined;
    if (stored.source?.type === 'bytes') {
      const bytes = await this.#redis.getBuffer(inputKey(this.#prefix, bullJob.id as string));
      // Unrecoverable: the bytes will not come back.
      if (bytes === null) throw unrecoverable(taskInternal('The uploaded video expired before a worker took the task'));
      source = { type: 'bytes', data: bytes, name: stored.source.name };
    }
    const message = parseToWorker({ type: 'run', job: { ...stored, source } });
    if (message === undefined || message.job.taskId !== bullJob.id) {
      throw unrecoverable(taskInternal('The task is malformed: it was queued by another build of vsnap'));
    }
    return message.job;
  }

  #onCompleted(job: TaskJob): void {
    this.#logger.info({ task_id: job.id, kind: job.name, status: 'SUCCESS', ms: elapsed(job), attempts: job.attemptsStarted }, 'task finished');
    this.#dropInput(job);
  }

  #onFailed(job: TaskJob | undefined, error: Error): void {
    const reason = error.message;
    const detail = error.cause instanceof Error && error.cause.cause instanceof Error ? error.cause.cause.message : undefined;
    if (job === undefined) {
      this.#logger.error({ err: reason }, 'a task failed');
      return;
    }
    // A job that will be retried has no finishing time yet.
    if (job.finishedOn === undefined) {
      this.#logger.warn({ task_id: job.id, kind: job.name, attempt: job.attemptsStarted, reason, detail }, 'task attempt failed; it will be retried');
      return;
    }
    this.#logger.warn({ task_id: job.id, kind: job.name, status: 'FAIL', ms: elapsed(job), attempts: job.attemptsStarted, reason, detail }, 'task finished');
    this.#dropInput(job);
  }

  /** Deletes a finished task's uploaded video; should that fail, it expires with the retention. */
  #dropInput(job: TaskJob): void {
    if (job.data?.job?.source?.type !== 'bytes') return;
    this.#redis.del(inputKey(this.#prefix, job.id as string)).catch((error: Error) => {
      this.#logger.warn({ task_id: job.id, err: error.message }, 'deleting the uploaded video of a finished task failed');
    });
  }
}

/** The error that fails an attempt: recorded as `CODE: message`, final when a retry would fail the same way. */
function attemptFailure(error: TaskError): Error {
  return unrecoverableCodes.has(error.code) ? unrecoverable(error) : new Error(failureReason(error), { cause: error });
}

function unrecoverable(error: TaskError): UnrecoverableError {
  const failure = new UnrecoverableError(failureReason(error));
  failure.cause = error;
  return failure;
}

function elapsed(job: TaskJob): number | undefined {
  return job.finishedOn === undefined || job.processedOn === undefined ? undefined : job.finishedOn - job.processedOn;
}

function logSupervisorEvent(logger: Logger, event: SupervisorEvent): void {
  switch (event.type) {
    case 'job-started':
    case 'job-finished':
      // The task lines say as much, with the task's outcome.
      return;
    case 'worker-ready':
      logger.info({ worker: event }, event.type);
      return;
    case 'worker-exited':
      logger[event.expected ? 'info' : 'warn']({ worker: event }, event.type);
      return;
    default:
      logger.warn({ worker: event }, event.type);
  }
}

function resolveOptions(options: QueueWorkerOptions): Required<QueueWorkerOptions> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { url, prefix } = redisLocation(options.url, options.prefix, defaultPrefix);
  return {
    url,
    storeConfig: options.storeConfig,
    workers: positiveInteger(options.workers, 'workers', undefined, maxTimerMs),
    jobTimeoutMs: positiveInteger(options.jobTimeoutMs, 'jobTimeoutMs', undefined, maxTimerMs),
    logger: options.logger,
    prefix,
    lockDurationMs: positiveInteger(options.lockDurationMs, 'lockDurationMs', defaultLockDurationMs, maxTimerMs),
    stalledIntervalMs: positiveInteger(options.stalledIntervalMs, 'stalledIntervalMs', defaultStalledIntervalMs, maxTimerMs),
  };
}
