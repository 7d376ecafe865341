/**
 * One worker process (worker-main.ts) as the supervisor sees it: started,
 * ready or not, running at most one job, and gone.
 *
 * Contract
 * - `ready` resolves when the worker says so; it rejects with an Error
 *   saying why when the worker reports a fatal start-up error, exits first,
 *   cannot be spawned, or is not ready within `startTimeoutMs` (then it is
 *   killed). A rejected `ready` is always followed by `exited`.
 * - `exited` resolves once, when the process is gone, with how it went:
 *   `signal SIGKILL`, `exit code 1`, or `spawn failed: ...`.
 * - `run` sends one job and resolves with its result; it rejects with the
 *   worker's TaskError, or, when the process exits first, with the reason
 *   given to `kill`, else VSNAP_WORKER_CRASHED. It rejects only once the
 *   process is gone, so a job that failed this way can be run again at once
 *   with no second writer at work.
 * - A worker that breaks the protocol (a malformed or unexpected message,
 *   an IPC channel it closes itself) is killed: it is not to be trusted.
 * - Nothing here throws into the caller's event loop: every event of the
 *   child process is handled; what only the logs need goes to `onProblem`.
 */

import { fork, type ChildProcess } from 'node:child_process';

import { taskInternal, workerCrashed, type TaskError } from './errors.js';
import type { Job, JobResult } from './job.js';
import { fromWireError, parseFromWorker, type FromWorker } from './worker-protocol.js';

export interface WorkerProcessOptions {
  /** The worker's entry file. */
  module: string;
  execArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  startTimeoutMs: number;
  /** Errors of the child process that change nothing here (a failed kill of a process already gone). */
  onProblem: (message: string) => void;
}

const disconnectGraceMs = 1000;

interface RunningJob {
  taskId: string;
  resolve: (result: JobResult) => void;
  reject: (error: TaskError) => void;
}

export class WorkerProcess {
  readonly ready: Promise<void>;
  readonly exited: Promise<string>;
  /** Undefined when fork() itself threw. */
  #child: ChildProcess | undefined;
  readonly #onProblem: (message: string) => void;
  #readyState: 'starting' | 'ready' | 'failed' = 'starting';
  #alive = true;
  #running: RunningJob | undefined;
  #killReason: TaskError | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #resolveExited!: (how: string) => void;
  readonly #startTimer: NodeJS.Timeout;
  #disconnectTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerProcessOptions) {
    this.#onProblem = options.onProblem;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.exited = new Promise((resolve) => {
      this.#resolveExited = resolve;
    });
    this.#startTimer = setTimeout(() => {
      this.#failStart(new Error(`it was not ready within ${options.startTimeoutMs} ms`));
      this.kill(taskInternal('The worker process did not start'));
    }, options.startTimeoutMs);
    try {
      this.#child = fork(options.module, [], {
        execArgv: [...options.execArgv],
        env: options.env,
        serialization: 'advanced',
        // stdout is the server's (its logs); a worker has nothing to say there.
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
    } catch (error) {
      // Most spawn failures come as an 'error' event; the rest are thrown, and end the same way.
      this.#onExit(`spawn failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.#child.on('message', (message: unknown) => this.#onMessage(message));
    this.#child.on('exit', (code, signal) => this.#onExit(signal !== null ? `signal ${signal}` : `exit code ${code}`));
    this.#child.on('error', (error) => this.#onError(error));
    this.#child.on('disconnect', () => this.#onDisconnect());
  }

  /** The process id; undefined when it could not be spawned. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get taskId(): string | undefined {
    return this.#running?.taskId;
  }

  run(job: Job): Promise<JobResult> {
    const child = this.#child;
    if (child === undefined || !this.#alive || this.#readyState !== 'ready' || this.#running !== undefined) {
      return Promise.reject(taskInternal('The worker process cannot take a job now'));
    }
    return new Promise((resolve, reject) => {
      this.#running = { taskId: job.taskId, resolve, reject };
      try {
        child.send({ type: 'run', job }, (error) => {
          // Only a closing channel fails here, and its 'disconnect' ends the worker and the job.
          if (error !== null) this.#onProblem(`worker process ${child.pid}: could not send a job: ${error.message}`);
        });
      } catch (error) {
        // The job cannot be serialized; the worker never saw it and stays usable.
        this.#running = undefined;
        reject(taskInternal('The job could not be sent to its worker process', error));
      }
    });
  }

  /** Kills the process (SIGKILL); a running job rejects with `reason` once it is gone. */
  kill(reason: TaskError): void {
    if (!this.#alive) return;
    this.#killReason ??= reason;
    this.#child?.kill('SIGKILL');
  }

  #onMessage(value: unknown): void {
    const message = parseFromWorker(value);
    if (message === undefined || !this.#accepts(message)) {
      this.#failStart(new Error('it sent a malformed or unexpected message'));
      this.kill(taskInternal('The worker process sent a malformed or unexpected message'));
      return;
    }
    switch (message.type) {
      case 'ready':
        clearTimeout(this.#startTimer);
        this.#readyState = 'ready';
        this.#resolveReady();
        return;
      case 'fatal':
        // The worker exits by itself after saying so.
        this.#failStart(new Error(message.message));
        return;
      case 'result':
      case 'error': {
        const running = this.#running as RunningJob;
        this.#running = undefined;
        if (message.type === 'result') running.resolve(message.result);
        else running.reject(fromWireError(message.error));
        return;
      }
    }
  }

  /** Whether the message is one the worker may send now. */
  #accepts(message: FromWorker): boolean {
    switch (message.type) {
      case 'ready':
      case 'fatal':
        return this.#readyState === 'starting';
      case 'result':
      case 'error':
        return this.#running?.taskId === message.taskId;
    }
  }

  /**
   * The channel closes when the process exits, often just before 'exit' is
   * seen. A worker that closes it and stays alive is broken: the supervisor
   * never closes the channel of a live worker. A moment's wait tells the
   * two apart, so that a crash is reported as the crash it was.
   */
  #onDisconnect(): void {
    if (!this.#alive) return;
    this.#disconnectTimer = setTimeout(
      () => this.kill(taskInternal('The worker process closed its IPC channel')),
      disconnectGraceMs,
    );
  }

  #onError(error: Error): void {
    // Spawning failed: there is no process, and no 'exit' is sure to follow.
    const pid = this.#child?.pid;
    if (pid === undefined) {
      this.#onExit(`spawn failed: ${error.message}`);
      return;
    }
    this.#onProblem(`worker process ${pid}: ${error.message}`);
  }

  #onExit(how: string): void {
    if (!this.#alive) return;
    this.#alive = false;
    clearTimeout(this.#startTimer);
    clearTimeout(this.#disconnectTimer);
    this.#failStart(new Error(`it exited before it was ready (${how})`));
    const running = this.#running;
    this.#running = undefined;
    running?.reject(this.#killReason ?? workerCrashed(how));
    this.#resolveExited(how);
  }

  /** Rejects `ready` if it has not settled yet; the first reason wins. */
  #failStart(error: Error): void {
    if (this.#readyState !== 'starting') return;
    this.#readyState = 'failed';
    this.#rejectReady(error);
  }
}
