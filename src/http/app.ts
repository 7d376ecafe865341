/**
 * The app factory: an Express 5 application speaking the video snapshot API.
 * It never listens (server.ts does), reads no environment and owns nothing
 * it is given, so a test builds one per case on its own task queue.
 *
 * Every request gets a request id and a start time first; every answer,
 * success or error, carries them as `request_id` and `latency`. The API
 * routes then run, in this order: authentication (401 before anything is
 * read), the per-key rate limit (429 + Retry-After), the service id (400),
 * the JSON body (400 for bad JSON or a body over the limit), the handler.
 * One error handler turns anything thrown into the documented error
 * envelope (envelope.ts) and logs it with the request id; 5xx causes go to
 * the log only.
 *
 * `/health`, `/metrics` and `/openapi.json` need no key: they say nothing
 * about anyone's tasks, and probes and scrapers carry no API key.
 */

import express, { type NextFunction, type Request, type Response } from 'express';

import type { BackendName } from '../index.js';
import type { Store } from '../storage/store.js';
import type { TaskQueue } from '../tasks/queue.js';
import type { Caller } from './context.js';
import {
  ApiError,
  invalidJson,
  invalidParameterDescribed,
  rateQuotaExceeded,
  routeNotFound,
  toApiError,
} from './api-error.js';
import { contextOf, latencyOf } from './context.js';
import { createRequestId, errorResponse } from './envelope.js';
import { parseJsonBody } from './json-body.js';
import { snapshotRoutes } from './routes.js';

export interface AppOptions {
  tasks: TaskQueue;
  store: Store;
  /** Throws InvalidApiKey for a missing, malformed or unknown key. */
  authenticate(authorization: string | undefined): Caller;
  /** Undefined when the request may go on, else the whole seconds to wait. */
  rateLimit(caller: Caller): number | undefined;
  /** Called once per answered request. */
  observe(request: { method: string; route: string; status: number; seconds: number }): void;
  metrics(): Promise<{ contentType: string; body: string }>;
  logger: RequestLogger;
  openapi: object;
  maxBodyBytes: number;
  /** The decode backend in use, which /health reports. */
  backend: BackendName;
}

/** The part of a pino logger the app uses. */
export interface RequestLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.set('x-powered-by', false);
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const context = contextOf(res);
    context.requestId = createRequestId();
    context.started = performance.now();
    context.route = 'unmatched';
    res.setHeader('X-Request-Id', context.requestId);
    res.on('finish', () => finish(req, res, options));
    next();
  });

  app.get('/health', (_req, res) => {
    contextOf(res).route = '/health';
    res.json({ status: 'ok', backend: options.backend });
  });
  app.get('/metrics', async (_req, res) => {
    contextOf(res).route = '/metrics';
    const { contentType, body } = await options.metrics();
    res.type(contentType).send(body);
  });
  app.get('/openapi.json', (_req, res) => {
    contextOf(res).route = '/openapi.json';
    res.json(options.openapi);
  });

  const authenticated = (req: Request, res: Response, next: NextFunction): void => {
    const caller = options.authenticate(req.headers.authorization);
    contextOf(res).caller = caller;
    const wait = options.rateLimit(caller);
    if (wait !== undefined) throw rateQuotaExceeded(caller.qps, wait);
    next();
  };
  const readBody = express.raw({ limit: options.maxBodyBytes, type: () => true });
  const json = (req: Request, res: Response, next: NextFunction): void => {
    readBody(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      const raw: unknown = req.body;
      // No body, or an empty one, is no JSON object: the route's check says so by name.
      if (!Buffer.isBuffer(raw) || raw.length === 0) {
        req.body = undefined;
        return next();
      }
      try {
        req.body = parseJsonBody(raw);
      } catch (parseError) {
        return next(invalidJson(parseError instanceof Error ? parseError.message : String(parseError), parseError));
      }
      next();
    });
  };
  app.use(snapshotRoutes({ tasks: options.tasks, store: options.store, authenticated, json }));

  app.use((req: Request) => {
    throw routeNotFound(req.method, req.path);
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const apiError = fromBodyParser(error, options.maxBodyBytes) ?? toApiError(error);
    const context = contextOf(res);
    if (apiError.httpCode >= 500) {
      options.logger.error(
        { request_id: context.requestId, route: context.route, err: apiError.cause ?? apiError },
        'request failed',
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (apiError.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(apiError.retryAfterSeconds));
    res.status(apiError.httpCode).json(errorResponse(apiError, context.requestId, latencyOf(res)));
  });
  return app;
}

function finish(req: Request, res: Response, options: AppOptions): void {
  const context = contextOf(res);
  const seconds = latencyOf(res) / 1000;
  options.observe({ method: req.method, route: context.route, status: res.statusCode, seconds });
  options.logger.info(
    {
      request_id: context.requestId,
      method: req.method,
      route: context.route,
      status: res.statusCode,
      latency_ms: Math.round(seconds * 1000),
      caller: context.caller?.id,
    },
    'request',
  );
}

/** body-parser's errors (they carry `type`: too large, bad encoding, aborted) as InvalidParameter for the body. */
function fromBodyParser(error: unknown, limit: number): ApiError | undefined {
  if (error instanceof ApiError || typeof error !== 'object' || error === null) return undefined;
  const { type, message, length } = error as { type?: unknown; message?: unknown; length?: unknown };
  if (typeof type !== 'string') return undefined;
  if (type === 'entity.too.large') {
    const received = typeof length === 'number' ? `${length} bytes` : 'more';
    return invalidParameterDescribed('body', `a body of at most ${limit} bytes`, received);
  }
  return invalidParameterDescribed('body', 'a JSON request body', String(message));
}
