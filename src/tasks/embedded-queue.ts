/**
 * The default TaskQueue: tasks in the embedded SQLite table (task-store.ts),
 * run by a JobRunner (supervised worker processes), everything in the data
 * directory, nothing else to install.
 *
 * - `execute` (sync) hands `input.content` bytes to the worker as a file in
 *   the spool directory too, removed when the job ends.
 * - `submit` spools `input.content` bytes to `DATA_DIR/spool/<task id>`
 *   (written and fsynced, directory too), then inserts the task; the spool
 *   file goes when the task finishes. A crash between the two leaves an
 *   orphan file, swept at the next start.
 * - Dispatch takes the oldest PENDING task only while the runner is idle (a
 *   free worker, nobody waiting), so tasks wait in the database, durable,
 *   not in memory, and a sync call waiting for a worker goes first.
 * - The per-owner limit counts the owner's unfinished tasks in the table
 *   plus what this process holds for it in memory: sync calls running and
 *   submits still spooling. Check and hold happen in one synchronous step,
 *   so two calls racing cannot both take the last place.
 * - Retries: an attempt lost to a worker crash (a crash can be the machine's
 *   doing: the OOM killer, an operator) runs again, up to `maxAttempts`
 *   crashes in all, then FAILs with the crash message. A timeout or a bad
 *   input FAILs at once: running it again would do the same.
 * - A finished task stays readable for `retentionSeconds`, then is deleted
 *   (its images stay where they were written).
 * - At start every RUNNING task goes back to PENDING (the previous process
 *   died with it), which is how a kill -9 loses nothing. `close` lets
 *   running tasks finish within the grace period and re-queues the rest.
 */

import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { runnerBusy, runnerClosed, type TaskError, taskLimitReached, toTaskError } from './errors.js';
import type { Job, JobResult } from './job.js';
import type { TaskCounts, TaskOwner, TaskQueue, TaskRecord } from './queue.js';
import type { JobRunner } from './runner.js';
import { TaskStore, type TaskRow } from './task-store.js';

export interface EmbeddedQueueOptions {
  dataDir: string;
  runner: JobRunner;
  /** PENDING tasks accepted before `submit` answers VSNAP_RUNNER_BUSY. */
  maxQueuedTasks: number;
  /** Crashed attempts after which a task FAILs. */
  maxAttempts?: number;
  /** Seconds a finished task stays readable; older ones are deleted. Default: 7 days. */
  retentionSeconds?: number;
}

type FinishedListener = (task: TaskRecord, result?: JobResult) => void;

const defaultMaxAttempts = 2;
const defaultRetentionSeconds = 7 * 24 * 3600;
/** How often expired tasks are deleted: often enough that the table never holds much past its retention. */
const expiryIntervalMs = 60_000;

export class EmbeddedTaskQueue implements TaskQueue {
  readonly #store: TaskStore;
  readonly #runner: JobRunner;
  readonly #spoolDir: string;
  readonly #maxQueuedTasks: number;
  readonly #maxAttempts: number;
  readonly #listeners: FinishedListener[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  /** Per owner, the sync calls running and the submits not yet in the table. */
  readonly #held = new Map<string, number>();
  readonly #retentionMs: number;
  readonly #expiryTimer: NodeJS.Timeout;
  #pending: number;
  #closing = false;
  #closed: Promise<void> | undefined;

  private constructor(store: TaskStore, spoolDir: string, options: EmbeddedQueueOptions) {
    this.#store = store;
    this.#runner = options.runner;
    this.#spoolDir = spoolDir;
    this.#maxQueuedTasks = options.maxQueuedTasks;
    this.#maxAttempts = options.maxAttempts ?? defaultMaxAttempts;
    this.#retentionMs = (options.retentionSeconds ?? defaultRetentionSeconds) * 1000;
    this.#pending = store.pendingCount();
    this.#runner.onSettled(() => this.#dispatch());
    this.expireFinished();
    this.#expiryTimer = setInterval(() => this.expireFinished(), Math.min(expiryIntervalMs, this.#retentionMs));
    this.#expiryTimer.unref();
  }

  /** Opens the table in `dataDir`, recovers what a previous process left, and starts dispatching. */
  static async open(options: EmbeddedQueueOptions): Promise<EmbeddedTaskQueue> {
    const dataDir = path.resolve(options.dataDir);
    const spoolDir = path.join(dataDir, 'spool');
    await mkdir(spoolDir, { recursive: true });
    const store = new TaskStore(path.join(dataDir, 'tasks.db'));
    store.requeueAllRunning();
    await sweepSpool(spoolDir, store.liveInputFiles());
    const queue = new EmbeddedTaskQueue(store, spoolDir, options);
    queue.#dispatch();
    return queue;
  }

  async submit(workspace: string, job: Job, owner?: TaskOwner): Promise<TaskRecord> {
    if (this.#closing) throw runnerClosed();
    if (this.#pending >= this.#maxQueuedTasks) throw runnerBusy();
    const release = this.#hold(owner);
    try {
      return await this.#submit(workspace, job, owner?.id);
    } finally {
      release();
    }
  }

  async #submit(workspace: string, job: Job, owner: string | undefined): Promise<TaskRecord> {
    let stored = job;
    let inputFile: string | undefined;
    if (job.source.type === 'bytes') {
      inputFile = path.join(this.#spoolDir, `${job.taskId}.video`);
      await writeDurably(inputFile, job.source.data);
      stored = { ...job, source: { type: 'file', path: inputFile, name: job.source.name } };
    }
    const createdAt = Date.now();
    try {
      this.#store.insert({ id: job.taskId, workspace, job: stored, inputFile, owner, createdAt });
    } catch (error) {
      if (inputFile !== undefined) await rm(inputFile, { force: true });
      throw error;
    }
    this.#pending += 1;
    this.#dispatch();
    return { id: job.taskId, workspace, status: 'PENDING', running: false, attempts: 0, createdAt };
  }

  async get(workspace: string, taskId: string): Promise<TaskRecord | undefined> {
    const row = this.#store.get(workspace, taskId);
    return row === undefined ? undefined : toRecord(row);
  }

  async execute(job: Job, owner?: TaskOwner): Promise<JobResult> {
    if (this.#closing) throw runnerClosed();
    const release = this.#hold(owner);
    try {
      return await this.#execute(job);
    } finally {
      release();
    }
  }

  async #execute(job: Job): Promise<JobResult> {
    if (job.source.type !== 'bytes') return this.#runner.run(job);
    // A worker opens a file in place; the same bytes sent over IPC cost a
    // serialized copy each way (~20 ms for 5 MB). Nothing to make durable:
    // a sync job dies with its caller, and the start-up sweep removes what
    // a crash leaves.
    const file = path.join(this.#spoolDir, `${job.taskId}.sync.video`);
    await writeFile(file, job.source.data, { mode: 0o600 });
    try {
      return await this.#runner.run({ ...job, source: { type: 'file', path: file, name: job.source.name } });
    } finally {
      await rm(file, { force: true });
    }
  }

  async counts(): Promise<TaskCounts> {
    return this.#store.counts();
  }

  onFinished(listener: FinishedListener): void {
    this.#listeners.push(listener);
  }

  close(graceMs = 0): Promise<void> {
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  /** Deletes the tasks that finished longer than the retention ago; runs every minute by itself. */
  expireFinished(now = Date.now()): number {
    return this.#store.deleteFinishedBefore(now - this.#retentionMs);
  }

  async #close(graceMs: number): Promise<void> {
    this.#closing = true;
    clearInterval(this.#expiryTimer);
    await this.#runner.close(graceMs);
    await Promise.all(this.#inFlight);
    this.#store.close();
  }

  /**
   * Takes one place of `owner`'s limit, or throws VSNAP_TASK_LIMIT when all
   * are taken; the returned function gives it back (once the task is in the
   * table, which then counts it, or once a sync call ends).
   */
  #hold(owner: TaskOwner | undefined): () => void {
    if (owner === undefined) return () => {};
    const held = this.#held.get(owner.id) ?? 0;
    if (held + this.#store.activeCount(owner.id) >= owner.maxTasks) throw taskLimitReached(owner.id, owner.maxTasks);
    this.#held.set(owner.id, held + 1);
    return () => {
      const left = (this.#held.get(owner.id) ?? 1) - 1;
      if (left === 0) this.#held.delete(owner.id);
      else this.#held.set(owner.id, left);
    };
  }

  /** Starts waiting tasks while a worker is free. */
  #dispatch(): void {
    while (!this.#closing && this.#runner.idle) {
      const row = this.#store.claimNext();
      if (row === undefined) return;
      this.#pending -= 1;
      const settled = this.#run(row).finally(() => {
        this.#inFlight.delete(settled);
      });
      this.#inFlight.add(settled);
    }
  }

  async #run(row: TaskRow): Promise<void> {
    let outcome: { result: JobResult } | { error: TaskError };
    try {
      outcome = { result: await this.#runner.run(row.job) };
    } catch (error) {
      outcome = { error: toTaskError(error) };
    }
    if ('result' in outcome) {
      if (this.#store.succeed(row.id, row.attempts, outcome.result.data)) await this.#finished(row, outcome.result);
      return;
    }
    const { error } = outcome;
    const crashed = error.code === 'VSNAP_WORKER_CRASHED';
    // Closed (shutdown) and busy are the runner's state, not the task's: run it later, uncounted.
    const notRun = error.code === 'VSNAP_RUNNER_CLOSED' || error.code === 'VSNAP_RUNNER_BUSY';
    const retry = notRun || (crashed && row.crashes + 1 < this.#maxAttempts);
    if (retry) {
      if (this.#store.requeue(row.id, row.attempts, crashed)) this.#pending += 1;
      this.#dispatch();
      return;
    }
    if (this.#store.fail(row.id, row.attempts, error.message)) await this.#finished(row);
  }

  async #finished(row: TaskRow, result?: JobResult): Promise<void> {
    if (row.inputFile !== undefined) await rm(row.inputFile, { force: true });
    const finished = this.#store.get(row.workspace, row.id);
    if (finished === undefined) return;
    const record = toRecord(finished);
    for (const listener of this.#listeners) listener(record, result);
  }
}

function toRecord(row: TaskRow): TaskRecord {
  const record: TaskRecord = {
    id: row.id,
    workspace: row.workspace,
    status: row.state === 'RUNNING' ? 'PENDING' : row.state,
    running: row.state === 'RUNNING',
    attempts: row.attempts,
    createdAt: row.createdAt,
  };
  if (row.data !== undefined) record.data = row.data;
  if (row.error !== undefined) record.error = row.error;
  if (row.finishedAt !== undefined) record.finishedAt = row.finishedAt;
  return record;
}

/** Writes `bytes` to `file` so that it survives a power cut once this resolves. */
async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Removes spool files no unfinished task needs: orphans of a crash between spooling and inserting. */
async function sweepSpool(spoolDir: string, live: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(spoolDir)) {
    const file = path.join(spoolDir, name);
    if (!live.has(file)) await rm(file, { force: true, recursive: true });
  }
}
