/**
 * WorkerSupervisor: the JobRunner that runs each job in a worker process
 * (worker-main.ts) of a fixed set it supervises, so that decoding
 * untrusted video can crash, hang or run out of memory without taking the
 * server down.
 *
 * Contract (beyond runner.ts)
 * - `start` forks `workers` processes and resolves once every one is ready;
 *   when one cannot start (a missing backend, a bad store configuration, no
 *   worker file) it stops the others and rejects with an Error that says
 *   why. Bad options throw at once, naming the option.
 * - A worker runs one job at a time. Jobs wait in arrival order, at most
 *   `maxQueued` of them; beyond that `run` rejects with VSNAP_RUNNER_BUSY.
 * - A job running longer than `jobTimeoutMs` has its worker killed and
 *   rejects with VSNAP_JOB_TIMEOUT; a worker that dies during a job rejects
 *   it with VSNAP_WORKER_CRASHED. Either way the job rejects only once the
 *   process is gone, and a new worker takes its place: at once after a
 *   worker that had been ready, and after a growing pause (up to
 *   `maxRestartDelayMs`) while new workers keep failing to start, so a
 *   broken install does not fork without end. Queued jobs wait meanwhile.
 * - `onSettled` listeners are also called when a new worker becomes ready,
 *   since that frees a worker as much as a settled job does.
 * - `close` as runner.ts says; a job that outlives the grace period has
 *   its worker killed and rejects with VSNAP_RUNNER_CLOSED. Every worker
 *   is gone when it resolves.
 * - Nothing a worker does, or fails to do, throws in this process.
 * - `onEvent` gets what logs and metrics need; it must not throw.
 */

import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { invalidOption } from '../errors.js';
import { maxTimerMs, nonNegativeInteger, positiveInteger } from './option-checks.js';
import { packageRoot } from '../package-root.js';
import { parseStoreConfig, type StoreConfig } from '../storage/store-config.js';
import { jobTimedOut, runnerBusy, runnerClosed, type TaskError, type TaskErrorCode } from './errors.js';
import type { Job, JobResult } from './job.js';
import type { JobRunner, RunnerLoad } from './runner.js';
import { WorkerProcess } from './worker-process.js';
import { storeConfigEnv } from './worker-protocol.js';

export interface SupervisorOptions {
  /** The store the workers read inputs from and write images to. */
  storeConfig: StoreConfig;
  /** Worker processes, each running one job at a time. Default: the number of CPU cores. */
  workers?: number;
  /** Jobs that may wait for a worker. Default: 4 per worker. */
  maxQueued?: number;
  /** Milliseconds a job may run. Default: 10 minutes. */
  jobTimeoutMs?: number;
  /** The worker's entry file. Default: dist/src/tasks/worker-main.js of this package. */
  workerModule?: string;
  /** Node options of the worker processes. Default: none (not this process's, which may hold --inspect). */
  execArgv?: readonly string[];
  /** Environment variables added to this process's for the workers. */
  env?: Readonly<Record<string, string>>;
  onEvent?: (event: SupervisorEvent) => void;
}

export type SupervisorEvent =
  /** A worker is ready; `replaces` is the pid of the worker it took the place of. */
  | { type: 'worker-ready'; pid: number; replaces?: number }
  | { type: 'worker-start-failed'; pid?: number; reason: string }
  /** `expected`: the supervisor stopped it (timeout, close). A job it ran ends with a job-finished event. */
  | { type: 'worker-exited'; pid?: number; how: string; expected: boolean }
  | { type: 'worker-problem'; message: string }
  | { type: 'job-started'; taskId: string; pid: number }
  /** `error`: the code the job failed with. */
  | { type: 'job-finished'; taskId: string; pid: number; ms: number; error?: TaskErrorCode };

export interface WorkerInfo {
  pid: number;
  state: 'starting' | 'idle' | 'busy';
  /** The job it runs, when busy. */
  taskId?: string;
}

interface Resolved {
  storeConfig: StoreConfig;
  workers: number;
  maxQueued: number;
  jobTimeoutMs: number;
  workerModule: string;
  execArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  onEvent: (event: SupervisorEvent) => void;
}

interface QueuedJob {
  job: Job;
  resolve: (result: JobResult) => void;
  reject: (error: TaskError) => void;
  /** Set while it waits for a worker: gives up after the job timeout. */
  waitTimer?: NodeJS.Timeout;
}

interface Slot {
  process: WorkerProcess;
  state: 'starting' | 'idle' | 'busy';
  /** The supervisor stopped it, so its exit is no crash. */
  stopping: boolean;
}

const defaultJobTimeoutMs = 10 * 60 * 1000;
const defaultGraceMs = 10_000;
const queuedPerWorker = 4;
/** Loading the backend and sharp takes well under a second; this is for a worker that hangs. */
const startTimeoutMs = 30_000;
const firstRestartDelayMs = 100;
const maxRestartDelayMs = 30_000;

export class WorkerSupervisor implements JobRunner {
  readonly #options: Resolved;
  readonly #slots = new Set<Slot>();
  readonly #queue: QueuedJob[] = [];
  readonly #listeners: (() => void)[] = [];
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #started = false;
  #closing: Promise<void> | undefined;
  /** Workers in a row that failed to start since one was last ready. */
  #startFailures = 0;

  private constructor(options: Resolved) {
    this.#options = options;
  }

  /** Forks the workers; resolves when all are ready. Throws at once on bad options. */
  static start(options: SupervisorOptions): Promise<WorkerSupervisor> {
    const supervisor = new WorkerSupervisor(resolveOptions(options));
    return supervisor.#startAll().then(() => supervisor);
  }

  run(job: Job): Promise<JobResult> {
    if (this.#closing !== undefined) return Promise.reject(runnerClosed());
    return new Promise((resolve, reject) => {
      const queued = { job, resolve, reject };
      const slot = this.#idleSlot();
      if (slot !== undefined) this.#dispatch(slot, queued);
      else if (this.#queue.length < this.#options.maxQueued) this.#enqueue(queued);
      else reject(runnerBusy());
    });
  }

  get idle(): boolean {
    return this.#closing === undefined && this.#queue.length === 0 && this.#idleSlot() !== undefined;
  }

  load(): RunnerLoad {
    let running = 0;
    for (const slot of this.#slots) if (slot.state === 'busy') running++;
    return { running, queued: this.#queue.length, capacity: this.#options.workers };
  }

  onSettled(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** The live worker processes and the job each runs. */
  workers(): WorkerInfo[] {
    const infos: WorkerInfo[] = [];
    for (const slot of this.#slots) {
      const { pid, taskId } = slot.process;
      if (pid === undefined) continue;
      infos.push(taskId === undefined ? { pid, state: slot.state } : { pid, state: slot.state, taskId });
    }
    return infos;
  }

  close(graceMs: number = defaultGraceMs): Promise<void> {
    this.#closing ??= this.#shutdown(graceMs);
    return this.#closing;
  }

  async #startAll(): Promise<void> {
    const slots = Array.from({ length: this.#options.workers }, () => this.#spawn(undefined));
    const outcomes = await Promise.allSettled(slots.map((slot) => slot.process.ready));
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined) {
      await this.close(0);
      const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      throw new Error(`A vsnap worker process (${this.#options.workerModule}) could not start: ${reason}`, {
        cause: failed.reason,
      });
    }
    this.#started = true;
  }

  #spawn(replaces: number | undefined): Slot {
    const worker = new WorkerProcess({
      module: this.#options.workerModule,
      execArgv: this.#options.execArgv,
      env: this.#options.env,
      startTimeoutMs,
      onProblem: (message) => this.#emit({ type: 'worker-problem', message }),
    });
    const slot: Slot = { process: worker, state: 'starting', stopping: false };
    this.#slots.add(slot);
    worker.ready.then(
      () => this.#onReady(slot, replaces),
      (error: Error) => this.#onStartFailed(slot, error),
    );
    void worker.exited.then((how) => this.#onExit(slot, how));
    return slot;
  }

  #onReady(slot: Slot, replaces: number | undefined): void {
    if (this.#closing !== undefined) {
      this.#stop(slot, runnerClosed());
      return;
    }
    slot.state = 'idle';
    this.#startFailures = 0;
    const pid = slot.process.pid as number;
    this.#emit(replaces === undefined ? { type: 'worker-ready', pid } : { type: 'worker-ready', pid, replaces });
    this.#pump();
    this.#notify();
  }

  #onStartFailed(slot: Slot, error: Error): void {
    if (slot.stopping) return;
    const { pid } = slot.process;
    this.#emit(
      pid === undefined
        ? { type: 'worker-start-failed', reason: error.message }
        : { type: 'worker-start-failed', pid, reason: error.message },
    );
  }

  #onExit(slot: Slot, how: string): void {
    this.#slots.delete(slot);
    const { pid } = slot.process;
    this.#emit({ type: 'worker-exited', how, expected: slot.stopping, ...(pid === undefined ? {} : { pid }) });
    if (this.#closing !== undefined || !this.#started) return;
    if (slot.state === 'starting') this.#startFailures++;
    this.#replace(pid);
  }

  /** Starts a worker in place of one that exited, after a pause that grows while workers fail to start. */
  #replace(pid: number | undefined): void {
    if (this.#startFailures === 0) {
      this.#spawn(pid);
      return;
    }
    const delay = Math.min(maxRestartDelayMs, firstRestartDelayMs * 2 ** (this.#startFailures - 1));
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      this.#spawn(pid);
    }, delay);
    this.#restartTimers.add(timer);
  }

  #dispatch(slot: Slot, queued: QueuedJob): void {
    clearTimeout(queued.waitTimer);
    const { job } = queued;
    const pid = slot.process.pid as number;
    slot.state = 'busy';
    const started = performance.now();
    this.#emit({ type: 'job-started', taskId: job.taskId, pid });
    const timer = setTimeout(() => {
      slot.stopping = true;
      slot.process.kill(jobTimedOut(this.#options.jobTimeoutMs));
    }, this.#options.jobTimeoutMs);
    const finish = (error: TaskError | undefined): void => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      this.#emit({ type: 'job-finished', taskId: job.taskId, pid, ms, ...(error === undefined ? {} : { error: error.code }) });
      if (slot.process.alive) {
        slot.state = 'idle';
        if (this.#closing !== undefined) this.#stop(slot, runnerClosed());
      }
    };
    slot.process.run(job).then(
      (result) => {
        finish(undefined);
        queued.resolve(result);
        this.#pump();
        this.#notify();
      },
      (error: TaskError) => {
        finish(error);
        queued.reject(error);
        this.#pump();
        this.#notify();
      },
    );
  }

  /**
   * Waits for a worker, but no longer than a job may run: when no worker
   * frees up in that time (every replacement keeps failing to start, say),
   * the caller hears VSNAP_RUNNER_BUSY and can retry, rather than waiting
   * forever.
   */
  #enqueue(queued: QueuedJob): void {
    queued.waitTimer = setTimeout(() => {
      const at = this.#queue.indexOf(queued);
      if (at === -1) return;
      this.#queue.splice(at, 1);
      queued.reject(runnerBusy());
    }, this.#options.jobTimeoutMs);
    this.#queue.push(queued);
  }

  #pump(): void {
    for (let slot = this.#idleSlot(); slot !== undefined && this.#queue.length > 0; slot = this.#idleSlot()) {
      this.#dispatch(slot, this.#queue.shift() as QueuedJob);
    }
  }

  #idleSlot(): Slot | undefined {
    for (const slot of this.#slots) if (slot.state === 'idle' && slot.process.alive) return slot;
    return undefined;
  }

  #stop(slot: Slot, reason: TaskError): void {
    slot.stopping = true;
    slot.process.kill(reason);
  }

  async #shutdown(graceMs: number): Promise<void> {
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    for (const queued of this.#queue.splice(0)) {
      clearTimeout(queued.waitTimer);
      queued.reject(runnerClosed());
    }
    const slots = [...this.#slots];
    // Busy workers are stopped as their jobs finish (#dispatch), the rest now.
    for (const slot of slots) if (slot.state !== 'busy') this.#stop(slot, runnerClosed());
    const exits = Promise.all(slots.map((slot) => slot.process.exited));
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([exits, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
    clearTimeout(graceTimer);
    for (const slot of slots) this.#stop(slot, runnerClosed());
    await exits;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  #emit(event: SupervisorEvent): void {
    this.#options.onEvent(event);
  }
}

function resolveOptions(options: SupervisorOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const workers = positiveInteger(options.workers, 'workers', Math.max(1, availableParallelism()));
  const storeConfig = parseStoreConfig(options.storeConfig);
  const execArgv = options.execArgv ?? [];
  if (!Array.isArray(execArgv) || !execArgv.every((arg) => typeof arg === 'string')) {
    throw invalidOption('execArgv', 'an array of strings', execArgv);
  }
  const env = options.env ?? {};
  if (typeof env !== 'object' || env === null || !Object.values(env).every((value) => typeof value === 'string')) {
    throw invalidOption('env', 'an object of strings', env);
  }
  const workerModule = options.workerModule ?? join(packageRoot(), 'dist', 'src', 'tasks', 'worker-main.js');
  if (typeof workerModule !== 'string' || workerModule === '') {
    throw invalidOption('workerModule', 'a non-empty file path string', workerModule);
  }
  const onEvent = options.onEvent ?? ((): void => {});
  if (typeof onEvent !== 'function') throw invalidOption('onEvent', 'a function', onEvent);
  return {
    storeConfig,
    workers,
    maxQueued: nonNegativeInteger(options.maxQueued, 'maxQueued', queuedPerWorker * workers),
    jobTimeoutMs: positiveInteger(options.jobTimeoutMs, 'jobTimeoutMs', defaultJobTimeoutMs, maxTimerMs),
    workerModule,
    execArgv,
    env: { ...process.env, ...env, [storeConfigEnv]: JSON.stringify(storeConfig) },
    onEvent,
  };
}
