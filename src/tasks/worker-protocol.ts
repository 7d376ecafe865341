/**
 * The messages between the supervisor (supervisor.ts) and a worker process
 * (worker-main.ts), over the IPC channel of child_process.fork with
 * `serialization: 'advanced'` (structured clone), so that the bytes of a
 * job and of its images cross as they are.
 *
 *   supervisor → worker   { type: 'run', job }                      one at a time
 *   worker → supervisor   { type: 'ready' }                         once, when it can take jobs
 *                         { type: 'fatal', message }                instead of ready: it cannot start, and why
 *                         { type: 'result', taskId, result }        the job succeeded
 *                         { type: 'error', taskId, error }          the job failed (a TaskError)
 *
 * Each side checks what it receives with the parser of this module, which
 * answers undefined for anything malformed: neither side trusts the other
 * to be the same build, and a worker decodes untrusted video.
 *
 * A WireError is a TaskError as data: its code, its caller-safe message, and
 * `detail`, the message of its cause, for the server's logs only.
 */

import { TaskError, taskErrorCodes, taskInternal, type TaskErrorCode } from './errors.js';
import type { Job, JobResult, SnapshotResultItem } from './job.js';

export interface WireError {
  code: string;
  message: string;
  detail?: string;
}

export interface RunMessage {
  type: 'run';
  job: Job;
}

export type ToWorker = RunMessage;

export type FromWorker =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'result'; taskId: string; result: JobResult }
  | { type: 'error'; taskId: string; error: WireError };

/** The environment variable that carries the worker's store configuration (JSON). */
export const storeConfigEnv = 'VSNAP_WORKER_STORE';

export function toWireError(error: { code: string; message: string; cause?: unknown }): WireError {
  const wire: WireError = { code: error.code, message: error.message };
  if (error.cause instanceof Error) wire.detail = error.cause.message;
  return wire;
}

/** The TaskError a worker reported; a code outside the task codes is a broken worker, hence internal. */
export function fromWireError(wire: WireError): TaskError {
  const cause = wire.detail === undefined ? undefined : new Error(wire.detail);
  if ((taskErrorCodes as readonly string[]).includes(wire.code)) {
    return new TaskError(wire.code as TaskErrorCode, wire.message, cause);
  }
  return taskInternal('The task failed on an internal error', new Error(`${wire.code}: ${wire.message}`));
}

export function parseToWorker(value: unknown): ToWorker | undefined {
  if (!isRecord(value) || value.type !== 'run' || !isJob(value.job)) return undefined;
  return { type: 'run', job: value.job };
}

export function parseFromWorker(value: unknown): FromWorker | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case 'ready':
      return { type: 'ready' };
    case 'fatal':
      return typeof value.message === 'string' ? { type: 'fatal', message: value.message } : undefined;
    case 'result':
      return isTaskId(value.taskId) && isJobResult(value.result)
        ? { type: 'result', taskId: value.taskId, result: value.result }
        : undefined;
    case 'error':
      return isTaskId(value.taskId) && isWireError(value.error)
        ? { type: 'error', taskId: value.taskId, error: value.error }
        : undefined;
    default:
      return undefined;
  }
}

function isJob(value: unknown): value is Job {
  return (
    isRecord(value) &&
    isTaskId(value.taskId) &&
    isSource(value.source) &&
    isFiniteNumber(value.interval) &&
    (value.format === 'jpg' || value.format === 'png' || value.format === 'webp') &&
    (value.mode === 'exact' || value.mode === 'keyframe') &&
    (value.extensions === undefined || isRecord(value.extensions)) &&
    isOutput(value.output)
  );
}

function isSource(value: unknown): boolean {
  if (!isRecord(value) || typeof value.name !== 'string') return false;
  switch (value.type) {
    case 'file':
      return typeof value.path === 'string';
    case 'bytes':
      return value.data instanceof Uint8Array;
    case 'oss':
      return typeof value.url === 'string';
    default:
      return false;
  }
}

function isOutput(value: unknown): boolean {
  if (!isRecord(value)) return false;
  return value.type === 'base64' || (value.type === 'oss' && typeof value.prefix === 'string');
}

function isJobResult(value: unknown): value is JobResult {
  return (
    isRecord(value) &&
    Array.isArray(value.data) &&
    value.data.every(isResultItem) &&
    isFiniteNumber(value.framesDecoded) &&
    isFiniteNumber(value.decodeMs) &&
    (value.damagedFrames === undefined || isFiniteNumber(value.damagedFrames)) &&
    (value.seekRecoveries === undefined || isFiniteNumber(value.seekRecoveries))
  );
}

function isResultItem(value: unknown): value is SnapshotResultItem {
  return (
    isRecord(value) &&
    isFiniteNumber(value.frame_index) &&
    isFiniteNumber(value.frame_time) &&
    (value.path === undefined || typeof value.path === 'string') &&
    (value.content === undefined || typeof value.content === 'string')
  );
}

function isWireError(value: unknown): value is WireError {
  return (
    isRecord(value) &&
    typeof value.code === 'string' &&
    typeof value.message === 'string' &&
    (value.detail === undefined || typeof value.detail === 'string')
  );
}

function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
