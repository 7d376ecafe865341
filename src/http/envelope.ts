/**
 * The documented response bodies and the ids they carry.
 *
 * - Success: `{ request_id, latency, usage, result }`.
 * - Error: `{ request_id, latency, code, http_code, message }`, built only by
 *   `errorResponse`, the one error mapper: an ApiError keeps its code and
 *   status and shows its message when `expose` (4xx, 503); anything else, and
 *   every 500, answers InternalServerError with `internalErrorMessage`, so no
 *   internal detail ever reaches a caller. The route layer logs the error's
 *   cause itself; this module does no I/O.
 * - `latency` is whole milliseconds (rounded, never negative), as in the
 *   document's examples.
 * - A request id is 32 lower-case hex digits (a random UUID v4 without
 *   dashes), the shape of the document's `request_id` examples.
 * - A task id is `snapshot-<YYYYMMDDhhmmss in UTC>-<32 lower-case hex>`,
 *   the document's `snapshot-20250617102142-...` shape. It holds only
 *   `[a-z0-9-]`, so it is safe as an OSS path segment of the output.
 */

import { randomUUID } from 'node:crypto';

import { type ApiErrorCode, internalErrorMessage, toApiError } from './api-error.js';

export type Usage = Readonly<Record<string, number>>;

export interface SuccessEnvelope<R> {
  request_id: string;
  latency: number;
  usage: Usage;
  result: R;
}

export interface ErrorEnvelope {
  request_id: string;
  latency: number;
  code: ApiErrorCode;
  http_code: number;
  message: string;
}

export function successResponse<R>(result: R, requestId: string, latencyMs: number, usage: Usage = {}): SuccessEnvelope<R> {
  return { request_id: requestId, latency: wholeMilliseconds(latencyMs), usage, result };
}

/** The error envelope for any thrown value; its `http_code` is the status to answer with. */
export function errorResponse(error: unknown, requestId: string, latencyMs: number): ErrorEnvelope {
  const apiError = toApiError(error);
  return {
    request_id: requestId,
    latency: wholeMilliseconds(latencyMs),
    code: apiError.code,
    http_code: apiError.httpCode,
    message: apiError.expose ? apiError.message : internalErrorMessage,
  };
}

export function createRequestId(): string {
  return randomUUID().replaceAll('-', '');
}

const taskIdPattern = /^snapshot-\d{14}-[0-9a-f]{32}$/;

export function createTaskId(now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  return `snapshot-${stamp}-${randomUUID().replaceAll('-', '')}`;
}

/** Whether `value` has the shape `createTaskId` makes; anything else cannot name a task. */
export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && taskIdPattern.test(value);
}

function wholeMilliseconds(latencyMs: number): number {
  return Number.isFinite(latencyMs) ? Math.max(0, Math.round(latencyMs)) : 0;
}
