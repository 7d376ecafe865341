/**
 * The TaskQueue: what the HTTP floor needs of tasks, whatever keeps them.
 * The embedded queue (embedded-queue.ts: SQLite + supervised worker
 * processes) is the default; a Redis queue (BullMQ) is another file
 * implementing this interface.
 *
 * Contract
 * - `submit` resolves only once the task is durable: after a `kill -9` of
 *   the service and a restart, every submitted task that had not finished
 *   runs to completion and finishes exactly once (it reaches SUCCESS or FAIL
 *   once; a run cut short is run again, which is safe because a job is
 *   idempotent). It rejects with VSNAP_RUNNER_BUSY when the queue is full.
 * - `owner` (submit, execute) limits the tasks one caller has at once:
 *   its async tasks not yet finished plus its sync calls running (or being
 *   accepted) count, and one more than `owner.maxTasks` rejects with
 *   VSNAP_TASK_LIMIT before anything is written. The count holds across
 *   every API node of a deployment (one SQLite table, or one Redis).
 * - `get` returns a task only to its own workspace.
 * - `execute` runs a sync job on the same workers, not persisted:
 *   a sync caller that loses its connection has lost nothing accepted.
 * - The visible states are the document's: PENDING (waiting or running),
 *   SUCCESS, FAIL. `running` says which PENDING tasks are being worked on.
 */

import type { Job, JobResult, SnapshotResultItem } from './job.js';

export type TaskStatus = 'PENDING' | 'SUCCESS' | 'FAIL';

export interface TaskRecord {
  id: string;
  workspace: string;
  status: TaskStatus;
  /** True while a worker runs it (status stays PENDING). */
  running: boolean;
  /** result.data once SUCCESS. */
  data?: SnapshotResultItem[];
  /** result.error once FAIL: one line, safe to show. */
  error?: string;
  /** How many times a worker started it. */
  attempts: number;
  createdAt: number;
  finishedAt?: number;
}

export type TaskCounts = Record<'pending' | 'running' | 'success' | 'fail', number>;

/** Who asks for a task, for the per-caller limit: an API key's label, never the key. */
export interface TaskOwner {
  id: string;
  /** Unfinished tasks (async pending or running, sync running) this owner may have at once; at least 1. */
  maxTasks: number;
}

export interface TaskQueue {
  /** `job.source` may be bytes (`input.content`): the queue keeps them durably until the task finishes. */
  submit(workspace: string, job: Job, owner?: TaskOwner): Promise<TaskRecord>;
  get(workspace: string, taskId: string): Promise<TaskRecord | undefined>;
  execute(job: Job, owner?: TaskOwner): Promise<JobResult>;
  counts(): Promise<TaskCounts>;
  /** Listeners for tasks reaching SUCCESS or FAIL (metrics, logs). */
  onFinished(listener: (task: TaskRecord, result?: JobResult) => void): void;
  /** Stops taking tasks; running ones finish within `graceMs` or go back to PENDING for the next start. */
  close(graceMs?: number): Promise<void>;
}
