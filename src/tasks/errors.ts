/**
 * Errors of the task floor, each with a stable code and one factory. The
 * service maps them: VSNAP_TASK_INPUT is the caller's video or its location
 * (a FAIL task, or 400 InvalidParameter for a sync call), VSNAP_RUNNER_BUSY,
 * VSNAP_RUNNER_CLOSED and VSNAP_QUEUE_UNAVAILABLE are retryable (503 with
 * Retry-After), VSNAP_TASK_LIMIT is the caller's own limit (429
 * Throttling with Retry-After), the rest are internal (a FAIL task with
 * a plain message, or 500).
 *
 * Messages are one line and safe to show a caller: they name the input by
 * the caller's own words (`input.oss` URL, `input.content`), never a server
 * path, and they never carry a stack.
 */

export const taskErrorCodes = [
  /** The input cannot be read as a video: missing object, bad storage path, unsupported or corrupt file. */
  'VSNAP_TASK_INPUT',
  /** The worker process running the job exited (crash, signal, out of memory). */
  'VSNAP_WORKER_CRASHED',
  /** The job ran past its time limit and its worker was stopped. */
  'VSNAP_JOB_TIMEOUT',
  /** Every worker is busy and the wait queue is full; retry later. */
  'VSNAP_RUNNER_BUSY',
  /** The runner is shutting down and takes no more jobs. */
  'VSNAP_RUNNER_CLOSED',
  /** The caller (an API key) already has as many unfinished tasks as it may; retry when one finishes. */
  'VSNAP_TASK_LIMIT',
  /** The shared queue (Redis) cannot be reached now; nothing was accepted or read. Retry later. */
  'VSNAP_QUEUE_UNAVAILABLE',
  /** Anything else that went wrong running the job. */
  'VSNAP_TASK_INTERNAL',
] as const;

export type TaskErrorCode = (typeof taskErrorCodes)[number];

export class TaskError extends Error {
  readonly code: TaskErrorCode;

  constructor(code: TaskErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TaskError';
    this.code = code;
  }
}

export function taskInputError(message: string, cause?: unknown): TaskError {
  return new TaskError('VSNAP_TASK_INPUT', message, cause);
}

export function workerCrashed(how: string): TaskError {
  return new TaskError('VSNAP_WORKER_CRASHED', `The worker process running the task exited unexpectedly (${how})`);
}

export function jobTimedOut(limitMs: number): TaskError {
  return new TaskError('VSNAP_JOB_TIMEOUT', `The task ran longer than the limit of ${Math.round(limitMs / 1000)} s and was stopped`);
}

export function runnerBusy(): TaskError {
  return new TaskError('VSNAP_RUNNER_BUSY', 'Every worker is busy and the wait queue is full');
}

/** `owner` is the caller's label (never a key); `limit` its most tasks at once. */
export function taskLimitReached(owner: string, limit: number): TaskError {
  return new TaskError(
    'VSNAP_TASK_LIMIT',
    `The key ${owner} already has ${limit} unfinished task${limit === 1 ? '' : 's'}, the most it may have at once; retry when one finishes`,
  );
}

export function runnerClosed(): TaskError {
  return new TaskError('VSNAP_RUNNER_CLOSED', 'The service is shutting down');
}

export function queueUnavailable(cause?: unknown): TaskError {
  return new TaskError('VSNAP_QUEUE_UNAVAILABLE', 'The task queue cannot be reached; retry later', cause);
}

export function taskInternal(message: string, cause?: unknown): TaskError {
  return new TaskError('VSNAP_TASK_INTERNAL', message, cause);
}

/** A TaskError as it is; anything else as VSNAP_TASK_INTERNAL with a fixed message and the original as cause. */
export function toTaskError(error: unknown): TaskError {
  return error instanceof TaskError ? error : taskInternal('The task failed on an internal error', error);
}
