/**
 * Between the HTTP floor and the task floor: a validated request becomes a
 * Job, and a TaskError or StorageError becomes the ApiError a caller sees.
 *
 * Storage locations are checked here, before anything is accepted: a
 * malformed `input.oss` or `output.oss` is 400 InvalidParameter naming the
 * field, and so is an `input.oss` with no object behind it (the caller can
 * fix it now; a task that could only FAIL is not worth accepting).
 *
 * Task failures on a sync call: a video the engine cannot read is the
 * caller's input (400 InvalidParameter, the message says why), a key at
 * its limit of unfinished tasks is 429 Throttling, a full queue
 * or a shutdown is 503 with Retry-After, a crashed or timed-out worker and
 * anything else is 500 (the cause goes to the log only).
 */

import { StorageError } from '../storage/errors.js';
import { parseOssObjectUrl, parseOssPrefixUrl } from '../storage/oss-url.js';
import type { Store } from '../storage/store.js';
import { TaskError } from '../tasks/errors.js';
import type { Job, JobSource } from '../tasks/job.js';
import {
  type ApiError,
  internalServerError,
  invalidParameterDescribed,
  serviceUnavailable,
  throttled,
  unreadableInput,
} from './api-error.js';
import type { SnapshotRequest } from './snapshot-request.js';

/** Seconds a caller told "busy" should wait before trying again. */
export const busyRetryAfterSeconds = 1;

/** The job of a validated request; rejects with InvalidParameter for a storage location that cannot be used. */
export async function jobOf(taskId: string, request: SnapshotRequest, store: Store): Promise<Job> {
  const output = request.output;
  if (output.type === 'oss') checkLocation(() => parseOssPrefixUrl(output.path), 'output.oss');
  return {
    taskId,
    source: await sourceOf(request, store),
    interval: request.parameters.interval,
    format: request.parameters.format,
    mode: request.parameters.mode,
    ...(request.parameters.extensions === undefined ? {} : { extensions: request.parameters.extensions }),
    output: output.type === 'oss' ? { type: 'oss', prefix: output.path } : { type: 'base64' },
  };
}

async function sourceOf(request: SnapshotRequest, store: Store): Promise<JobSource> {
  const input = request.input;
  if (input.type === 'content') return { type: 'bytes', data: input.data, name: 'input.content' };
  checkLocation(() => parseOssObjectUrl(input.path), 'input.oss');
  const stat = await store.stat(input.path);
  if (stat === undefined) {
    throw invalidParameterDescribed('input.oss', 'the oss:// path of an existing video', `${input.path}, where there is no object`);
  }
  return { type: 'oss', url: input.path, name: input.path };
}

function checkLocation(parse: () => unknown, field: string): void {
  try {
    parse();
  } catch (error) {
    if (error instanceof StorageError) {
      throw invalidParameterDescribed(field, 'a valid oss://<bucket>/<path>', error.message.replace(/^Invalid storage path /, ''));
    }
    throw error;
  }
}

/** The ApiError a sync caller gets for a job that did not succeed. */
export function apiErrorOfTask(error: unknown): ApiError {
  if (!(error instanceof TaskError)) return internalServerError(error);
  switch (error.code) {
    case 'VSNAP_TASK_INPUT':
      return unreadableInput(error.message);
    case 'VSNAP_TASK_LIMIT':
      return throttled(error.message);
    case 'VSNAP_RUNNER_BUSY':
    case 'VSNAP_RUNNER_CLOSED':
    case 'VSNAP_QUEUE_UNAVAILABLE':
      return serviceUnavailable(busyRetryAfterSeconds);
    default:
      return internalServerError(error);
  }
}
