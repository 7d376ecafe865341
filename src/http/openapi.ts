/**
 * The OpenAPI 3.1 document of the service, a plain object the app serves at
 * `openApiPath`. It describes exactly what the app answers: the three
 * routes of the video snapshot API, `/health`, `/metrics` and the document
 * itself; `documentedOperations` lists them so a test of the app can hold
 * the document against the real routes.
 *
 * The body schemas are in openapi-schemas.ts. The error codes of each status
 * come from api-error.ts, so a code added there and answered by a route
 * shows up here, and the unit test checks that every code is documented.
 *
 * Every answer carries `X-Request-Id`, the envelope's `request_id`; 429 and
 * 503 carry Retry-After. `/health`, `/metrics` and the document need no key.
 * Any other method or path answers 404 `NotFound` in the error envelope.
 */

import { type ApiErrorCode, apiErrorCodes, httpCodeOf } from './api-error.js';
import { type JsonObject, openApiSchemas, ref } from './openapi-schemas.js';
import { serviceIds } from './routes.js';

export const openApiPath = '/openapi.json';

export type HttpMethod = 'get' | 'post';

export interface DocumentedOperation {
  method: HttpMethod;
  /** As OpenAPI writes it: `/v3/…/{workspace_name}/…`. */
  path: string;
  /** As Express writes it: `/v3/…/:workspace_name/…`. */
  expressPath: string;
}

const base = '/v3/openapi/workspaces/{workspace_name}/video-snapshot/{service_id}';

const json = (schema: JsonObject): JsonObject => ({ content: { 'application/json': { schema } } });

const requestIdHeader = { 'X-Request-Id': ref('RequestId', 'headers') };

/** A success answer: the envelope with `result` of the given schema. */
function success(description: string, result: string): JsonObject {
  return {
    description,
    headers: requestIdHeader,
    ...json({
      type: 'object',
      required: ['request_id', 'latency', 'usage', 'result'],
      properties: { request_id: ref('RequestId'), latency: ref('Latency'), usage: ref('Usage'), result: ref(result) },
    }),
  };
}

/** An error answer in the error envelope, with the codes it can carry. */
function failure(description: string, codes: readonly ApiErrorCode[], retryAfter = false): JsonObject {
  return {
    description,
    headers: retryAfter ? { ...requestIdHeader, 'Retry-After': ref('RetryAfter', 'headers') } : requestIdHeader,
    ...json({
      allOf: [
        ref('ErrorEnvelope'),
        { properties: { code: { enum: codes }, http_code: { enum: [...new Set(codes.map(httpCodeOf))] } } },
      ],
    }),
  };
}

const codesOf = (status: number): ApiErrorCode[] => apiErrorCodes.filter((code) => httpCodeOf(code) === status);

const responseNames: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  404: 'TaskNotExist',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

/** The error answers of an operation, by status. */
const errorResponses = (...statuses: number[]): JsonObject =>
  Object.fromEntries(statuses.map((status) => [String(status), ref(responseNames[status] as string, 'responses')]));

const pathParameters = [ref('WorkspaceName', 'parameters'), ref('ServiceId', 'parameters')];

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'vsnap video snapshot service',
    version: '1.0.0',
    description:
      'The video snapshot API (sync, async, task status) with vsnap sampling modes, plus health and metrics. ' +
      'Every error is the envelope {request_id, latency, code, http_code, message}; any other method or path answers 404 NotFound.',
  },
  security: [{ bearerAuth: [] }],
  paths: {
    [`${base}/sync`]: {
      post: {
        operationId: 'createSyncSnapshot',
        summary: 'Extract the snapshots of a video and answer with them',
        parameters: pathParameters,
        requestBody: { required: true, ...json(ref('SyncSnapshotRequest')) },
        responses: {
          200: success('The snapshots; a video that cannot be read is a 400 naming why', 'SyncResult'),
          ...errorResponses(400, 401, 429, 500, 503),
        },
      },
    },
    [`${base}/async`]: {
      post: {
        operationId: 'createAsyncSnapshotTask',
        summary: 'Accept a snapshot task; it is stored before this answers',
        parameters: pathParameters,
        requestBody: { required: true, ...json(ref('AsyncSnapshotRequest')) },
        responses: { 200: success('The task, PENDING', 'AcceptedTask'), ...errorResponses(400, 401, 429, 500, 503) },
      },
    },
    [`${base}/async/task-status`]: {
      get: {
        operationId: 'getSnapshotTaskStatus',
        summary: 'The state of a task of this workspace; a failed task is 200 with status FAIL',
        parameters: [
          ...pathParameters,
          {
            name: 'task_id',
            in: 'query',
            required: true,
            schema: { type: 'string' },
            description: 'result.task_id of the async call',
          },
        ],
        responses: { 200: success('The task', 'TaskStatus'), ...errorResponses(400, 401, 404, 429, 500) },
      },
    },
    '/health': {
      get: {
        operationId: 'getHealth',
        summary: 'Liveness: the service answers',
        security: [],
        responses: {
          200: {
            description: 'The service is up',
            headers: requestIdHeader,
            ...json({
              type: 'object',
              required: ['status', 'backend'],
              properties: {
                status: { const: 'ok' },
                backend: { enum: ['native', 'wasm'], description: 'the decode backend the workers use' },
              },
            }),
          },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        security: [],
        responses: {
          200: {
            description: 'The Prometheus text format',
            headers: requestIdHeader,
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...errorResponses(500),
        },
      },
    },
    [openApiPath]: {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        security: [],
        responses: {
          200: { description: 'The OpenAPI 3.1 document', headers: requestIdHeader, ...json({ type: 'object' }) },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'Authorization: Bearer <API-KEY>; each key has its own QPS limit (default 5)',
      },
    },
    parameters: {
      WorkspaceName: {
        name: 'workspace_name',
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description: 'Tasks are visible only in their workspace',
      },
      ServiceId: { name: 'service_id', in: 'path', required: true, schema: { type: 'string', enum: serviceIds } },
    },
    headers: {
      RequestId: { description: 'The request_id of the body', schema: ref('RequestId') },
      RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
    },
    responses: {
      BadRequest: failure(
        'A malformed request (the message names the field), a body over the size limit, an unreadable video (sync), or an unknown service id',
        codesOf(400),
      ),
      Unauthorized: failure(
        'The Authorization header is missing, not "Bearer <API-KEY>", or the key is unknown',
        codesOf(401),
      ),
      TaskNotExist: failure('No task with this id in this workspace', ['BadRequest.TaskNotExist']),
      NotFound: failure('No route answers this method and path', ['NotFound']),
      TooManyRequests: failure(
        "The key's requests per second are used up (Throttling.RateQuota), or it has as many unfinished tasks as it may (Throttling)",
        codesOf(429),
        true,
      ),
      InternalServerError: failure('An internal error; the message holds no detail. Retry later', codesOf(500)),
      ServiceUnavailable: failure(
        'The service is at capacity (its queue is full); retry after Retry-After',
        codesOf(503),
        true,
      ),
    },
    schemas: openApiSchemas,
  },
};

/** Every (method, path) the document describes, in document order. */
export const documentedOperations: readonly DocumentedOperation[] = Object.entries(openApiDocument.paths).flatMap(
  ([path, item]) =>
    Object.keys(item).map((method) => ({
      method: method as HttpMethod,
      path,
      expressPath: path.replace(/\{([^}]+)\}/g, ':$1'),
    })),
);
