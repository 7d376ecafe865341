import { describe, expect, it } from 'vitest';

import {
  ApiError,
  apiErrorCodes,
  httpCodeOf,
  internalErrorMessage,
  internalServerError,
  invalidApiKey,
  invalidJson,
  invalidParameter,
  invalidParameterDescribed,
  rateQuotaExceeded,
  routeNotFound,
  serviceIdNotExist,
  serviceUnavailable,
  taskNotExist,
  throttled,
  toApiError,
  unreadableInput,
} from '../../src/http/api-error.js';

describe('ApiError factories', () => {
  it.each([
    ['invalidParameter', invalidParameter('parameters.interval', 'an integer', 0), 'InvalidParameter', 400, true, undefined],
    ['invalidJson', invalidJson('Unexpected token } in JSON'), 'InvalidParameter', 400, true, undefined],
    ['serviceIdNotExist', serviceIdNotExist('ops-video-snapshot-999'), 'ServiceIdNotExist', 400, true, undefined],
    ['invalidApiKey', invalidApiKey('unknown'), 'InvalidApiKey', 401, true, undefined],
    ['taskNotExist', taskNotExist('snapshot-x'), 'BadRequest.TaskNotExist', 404, true, undefined],
    ['rateQuotaExceeded', rateQuotaExceeded(5), 'Throttling.RateQuota', 429, true, 1],
    ['throttled', throttled('The key ci already has 2 unfinished tasks', 3), 'Throttling', 429, true, 3],
    ['internalServerError', internalServerError(new Error('disk on fire')), 'InternalServerError', 500, false, undefined],
    ['serviceUnavailable', serviceUnavailable(2), 'ServiceUnavailable', 503, true, 2],
    ['unreadableInput', unreadableInput('input.content: the video is empty'), 'InvalidParameter', 400, true, undefined],
    ['routeNotFound', routeNotFound('GET', '/nowhere'), 'NotFound', 404, true, undefined],
  ])('%s gives its code, status, exposure and Retry-After', (_name, error, code, httpCode, expose, retryAfter) => {
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ApiError');
    expect(error.code).toBe(code);
    expect(error.httpCode).toBe(httpCode);
    expect(httpCodeOf(error.code)).toBe(httpCode);
    expect(error.expose).toBe(expose);
    expect(error.retryAfterSeconds).toBe(retryAfter);
  });

  it('lists every code once', () => {
    expect([...apiErrorCodes].sort()).toEqual(
      [
        'BadRequest.TaskNotExist',
        'InternalServerError',
        'InvalidApiKey',
        'InvalidParameter',
        'NotFound',
        'ServiceIdNotExist',
        'ServiceUnavailable',
        'Throttling',
        'Throttling.RateQuota',
      ].sort(),
    );
  });

  it('writes parameter errors in the one format, naming the parameter', () => {
    const error = invalidParameter('output.type', 'one of "base64", "oss"', 'ftp');
    expect(error.message).toBe('Expected one of "base64", "oss" for output.type but received "ftp"');
    expect(error.parameter).toBe('output.type');
    const described = invalidParameterDescribed('input.content', 'non-empty video data', '0 bytes');
    expect(described.message).toBe('Expected non-empty video data for input.content but received 0 bytes');
  });

  it('keeps JSON parse errors on one line, in the documented "JSON parse error" form', () => {
    expect(invalidJson('Unexpected token\n  at position 3').message).toBe('JSON parse error: Unexpected token at position 3');
  });

  it('tells a missing API key from a malformed header without saying whether a key exists', () => {
    expect(invalidApiKey('missing').message).toContain('missing');
    expect(invalidApiKey('malformed').message).toContain('Bearer <API-KEY>');
    expect(invalidApiKey('unknown').message).toBe('The API key is not valid');
  });

  it('keeps an internal cause for the log but a generic message', () => {
    const cause = new Error('ENOSPC /var/lib/vsnap');
    const error = internalServerError(cause);
    expect(error.message).toBe(internalErrorMessage);
    expect(error.cause).toBe(cause);
  });
});

describe('toApiError', () => {
  it('passes ApiErrors through', () => {
    const error = taskNotExist('snapshot-x');
    expect(toApiError(error)).toBe(error);
  });

  it.each([new Error('secret'), 'a thrown string', undefined])('wraps %s as a 500 keeping it as cause', (thrown) => {
    const error = toApiError(thrown);
    expect(error.code).toBe('InternalServerError');
    expect(error.message).toBe(internalErrorMessage);
    expect(error.cause).toBe(thrown);
  });
});
