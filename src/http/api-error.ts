/**
 * The one error type of the HTTP service. Every error the service answers on
 * purpose is an ApiError with a stable platform `code` and the `httpCode` that
 * code always maps to (`httpCodeOf`, the single table). Each code has one
 * factory here; nothing else constructs an ApiError.
 *
 * Codes are the platform's own (status-codes.md, video-snapshot-api.txt) plus
 * two of vsnap's, spelled in the platform's PascalCase style:
 * - `InvalidApiKey` (401): the Authorization header is missing, not a
 *   `Bearer` token, or the key is unknown. It names what the caller must fix,
 *   as `InvalidParameter` does, and never says whether a key exists.
 * - `NotFound` (404): no route answers this method and path. The platform
 *   names no code for it; `BadRequest.TaskNotExist` would mislead.
 * - `ServiceUnavailable` (503): vsnap is at capacity (task queue full).
 *   The platform's 429 codes mean "this caller exceeded its quota"; overload
 *   is not the caller's doing, and 503 with Retry-After is what HTTP clients,
 *   proxies and load balancers already retry.
 *
 * `expose` says whether the message may be shown to the caller: true for every
 * 4xx and for 503 (its message is fixed here and holds nothing internal),
 * false for 500, whose detail lives only in `cause` for the log.
 * `retryAfterSeconds` is set for the retryable codes (429, 503) so the route
 * layer can send Retry-After.
 */

import { describeValue } from '../errors.js';

const httpCodes = {
  InvalidParameter: 400,
  ServiceIdNotExist: 400,
  InvalidApiKey: 401,
  'BadRequest.TaskNotExist': 404,
  NotFound: 404,
  'Throttling.RateQuota': 429,
  Throttling: 429,
  InternalServerError: 500,
  ServiceUnavailable: 503,
} as const;

export type ApiErrorCode = keyof typeof httpCodes;

export const apiErrorCodes = Object.keys(httpCodes) as readonly ApiErrorCode[];

export function httpCodeOf(code: ApiErrorCode): number {
  return httpCodes[code];
}

/** The message shown for every 500, whatever went wrong. */
export const internalErrorMessage = 'Internal error; retry later';

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly httpCode: number;
  readonly expose: boolean;
  /** The body field at fault (`input.content`); set for InvalidParameter from body validation. */
  readonly parameter: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    details: { parameter?: string; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ApiError';
    this.code = code;
    this.httpCode = httpCodeOf(code);
    this.expose = this.httpCode < 500 || code === 'ServiceUnavailable';
    this.parameter = details.parameter;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** `Expected <expected> for <parameter> but received <received>`, the one format of body errors. */
export function invalidParameter(parameter: string, expected: string, received: unknown): ApiError {
  return new ApiError('InvalidParameter', `Expected ${expected} for ${parameter} but received ${describeValue(received)}`, {
    parameter,
  });
}

/**
 * Like `invalidParameter`, for when the received value is better described
 * than shown (a defect inside a large base64 string, a byte count).
 */
export function invalidParameterDescribed(parameter: string, expected: string, receivedDescription: string): ApiError {
  return new ApiError('InvalidParameter', `Expected ${expected} for ${parameter} but received ${receivedDescription}`, {
    parameter,
  });
}

/** The request body is not JSON; `reason` is the parser's one-line message. */
export function invalidJson(reason: string, cause?: unknown): ApiError {
  return new ApiError('InvalidParameter', `JSON parse error: ${reason.replace(/\s*\n\s*/g, ' ').trim()}`, {
    parameter: 'body',
    cause,
  });
}

/** The input video cannot be read; `reason`, from the task floor, names the input and says why. */
export function unreadableInput(reason: string): ApiError {
  return new ApiError('InvalidParameter', reason, { parameter: 'input' });
}

export function routeNotFound(method: string, path: string): ApiError {
  return new ApiError('NotFound', `No route ${method} ${describeValue(path)}; the API is described at /openapi.json`);
}

export function serviceIdNotExist(serviceId: string): ApiError {
  return new ApiError('ServiceIdNotExist', `The service ${describeValue(serviceId)} does not exist`);
}

export function invalidApiKey(reason: 'missing' | 'malformed' | 'unknown'): ApiError {
  const messages = {
    missing: 'The Authorization header is missing; expected "Bearer <API-KEY>"',
    malformed: 'The Authorization header is not of the form "Bearer <API-KEY>"',
    unknown: 'The API key is not valid',
  } as const;
  return new ApiError('InvalidApiKey', messages[reason]);
}

export function taskNotExist(taskId: string): ApiError {
  return new ApiError('BadRequest.TaskNotExist', `The task ${describeValue(taskId)} does not exist`);
}

export function rateQuotaExceeded(requestsPerSecond: number, retryAfterSeconds = 1): ApiError {
  return new ApiError(
    'Throttling.RateQuota',
    `The request rate exceeded the limit of ${requestsPerSecond} requests per second; retry after ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );
}

/**
 * The key has as many unfinished tasks as it may (`reason`, from the task
 * floor, says how many). Its own doing, so 429, but not its request rate:
 * the platform's plain `Throttling`.
 */
export function throttled(reason: string, retryAfterSeconds = 1): ApiError {
  return new ApiError('Throttling', reason, { retryAfterSeconds });
}

export function serviceUnavailable(retryAfterSeconds: number): ApiError {
  return new ApiError('ServiceUnavailable', `The service is at capacity; retry after ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
}

/** `cause` is kept for the log; the caller only ever sees `internalErrorMessage`. */
export function internalServerError(cause?: unknown): ApiError {
  return new ApiError('InternalServerError', internalErrorMessage, { cause });
}

/** Any thrown value as an ApiError: ApiErrors as they are, everything else a 500 wrapping it. */
export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : internalServerError(error);
}
