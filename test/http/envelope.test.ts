import { describe, expect, it } from 'vitest';

import { internal } from '../../src/errors.js';
import {
  internalErrorMessage,
  internalServerError,
  invalidParameter,
  serviceUnavailable,
  taskNotExist,
} from '../../src/http/api-error.js';
import { createRequestId, createTaskId, errorResponse, isTaskId, successResponse } from '../../src/http/envelope.js';

const requestId = 'de81e152284a2d3b1f4315d0a1b2c3d4';

describe('successResponse', () => {
  it('builds the documented success shape with empty usage by default', () => {
    const result = { task_id: 'snapshot-20250617102142-abc', status: 'PENDING' };
    expect(successResponse(result, requestId, 21)).toEqual({ request_id: requestId, latency: 21, usage: {}, result });
  });

  it('carries usage and rounds latency to whole, non-negative milliseconds', () => {
    const body = successResponse({ status: 'SUCCESS' }, requestId, 10.6, { image: 64 });
    expect(body).toEqual({ request_id: requestId, latency: 11, usage: { image: 64 }, result: { status: 'SUCCESS' } });
    expect(successResponse(null, requestId, -3).latency).toBe(0);
    expect(successResponse(null, requestId, Number.NaN).latency).toBe(0);
  });

  it('has exactly the documented keys', () => {
    expect(Object.keys(successResponse({}, requestId, 1))).toEqual(['request_id', 'latency', 'usage', 'result']);
  });
});

describe('errorResponse', () => {
  it('shows a 4xx message with its code and status', () => {
    const error = invalidParameter('parameters.interval', 'an integer number of seconds from 1 to 3600', 0);
    expect(errorResponse(error, requestId, 2)).toEqual({
      request_id: requestId,
      latency: 2,
      code: 'InvalidParameter',
      http_code: 400,
      message: 'Expected an integer number of seconds from 1 to 3600 for parameters.interval but received 0',
    });
  });

  it('has exactly the documented keys', () => {
    expect(Object.keys(errorResponse(taskNotExist('x'), requestId, 1))).toEqual([
      'request_id',
      'latency',
      'code',
      'http_code',
      'message',
    ]);
  });

  it('answers 404 BadRequest.TaskNotExist for an unknown task', () => {
    expect(errorResponse(taskNotExist('snapshot-x'), requestId, 1)).toMatchObject({
      code: 'BadRequest.TaskNotExist',
      http_code: 404,
      message: 'The task "snapshot-x" does not exist',
    });
  });

  it('shows the retryable overload message', () => {
    expect(errorResponse(serviceUnavailable(2), requestId, 1)).toMatchObject({
      code: 'ServiceUnavailable',
      http_code: 503,
      message: 'The service is at capacity; retry after 2 s',
    });
  });

  it.each([
    ['an InternalServerError', internalServerError(new Error('password=hunter2'))],
    ['a plain Error', new Error('password=hunter2 at /srv/vsnap/db.ts:12')],
    ['a VsnapError', internal('password=hunter2 in native frame')],
    ['a thrown string', 'password=hunter2'],
    ['a thrown object', { message: 'password=hunter2' }],
  ])('hides the message of %s behind a generic 500', (_name, thrown) => {
    const body = errorResponse(thrown, requestId, 5);
    expect(body).toEqual({
      request_id: requestId,
      latency: 5,
      code: 'InternalServerError',
      http_code: 500,
      message: internalErrorMessage,
    });
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });
});

describe('ids', () => {
  it('makes request ids of 32 lower-case hex digits, different each time', () => {
    const ids = new Set(Array.from({ length: 100 }, () => createRequestId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('makes task ids like the document: snapshot-<UTC YYYYMMDDhhmmss>-<random>', () => {
    const id = createTaskId(new Date(Date.UTC(2025, 5, 17, 10, 21, 42, 999)));
    expect(id).toMatch(/^snapshot-20250617102142-[0-9a-f]{32}$/);
    expect(createTaskId(new Date(0))).toMatch(/^snapshot-19700101000000-/);
    expect(createTaskId()).not.toBe(createTaskId());
  });

  it('recognises only ids of its own shape', () => {
    expect(isTaskId(createTaskId())).toBe(true);
    expect(isTaskId('snapshot-20250617102142-1108418170738252-abcdef')).toBe(false);
    expect(isTaskId('snapshot-xxxx-abc-123')).toBe(false);
    expect(isTaskId(`snapshot-20250617102142-${'a'.repeat(32)}/../x`)).toBe(false);
    expect(isTaskId(42)).toBe(false);
  });
});
