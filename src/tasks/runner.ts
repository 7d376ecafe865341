/**
 * A JobRunner runs jobs somewhere (worker processes supervised by this
 * process: supervisor.ts) and answers with their results. It owns admission
 * control: `capacity` jobs run at once, up to `maxQueued` more wait in
 * memory in arrival order, and beyond that `run` rejects at once with
 * VSNAP_RUNNER_BUSY. Nothing waiting in a runner is durable; durable queues
 * (the embedded task queue, BullMQ) keep their tasks elsewhere and feed a
 * runner only as many as it has free workers (`idle`).
 *
 * `run` rejects with a TaskError: VSNAP_TASK_INPUT for a bad video,
 * VSNAP_WORKER_CRASHED or VSNAP_JOB_TIMEOUT when the worker was lost (it is
 * replaced), VSNAP_RUNNER_CLOSED after `close`, VSNAP_TASK_INTERNAL otherwise.
 */

import type { Job, JobResult } from './job.js';

export interface RunnerLoad {
  /** Jobs running now. */
  running: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Jobs that can run at once (the number of workers). */
  capacity: number;
}

export interface JobRunner {
  run(job: Job): Promise<JobResult>;
  /** True when a job given now would start at once. */
  readonly idle: boolean;
  load(): RunnerLoad;
  /** Calls `listener` each time a worker may have become free: a job settled, or a new worker is ready. */
  onSettled(listener: () => void): void;
  /**
   * Stops taking jobs; waits up to `graceMs` for running jobs to finish, then
   * stops the workers (unfinished jobs reject with VSNAP_RUNNER_CLOSED).
   * Queued jobs reject with VSNAP_RUNNER_CLOSED at once.
   */
  close(graceMs?: number): Promise<void>;
}
