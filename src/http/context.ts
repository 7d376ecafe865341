/**
 * What the app keeps about a request while answering it, in `res.locals`:
 * its id, when it started, who called, and the route pattern it matched.
 */

import type { Response } from 'express';

/** Who a valid key belongs to, as the rest of the app may see it: never the key itself. */
export interface Caller {
  /** A label for logs and rate limiting. */
  id: string;
  /** Requests per second this key may make. */
  qps: number;
  /** Unfinished tasks this key may have at once. */
  maxTasks: number;
}

export interface RequestContext {
  requestId: string;
  started: number;
  caller?: Caller;
  /** The route pattern, for metrics and logs; the raw URL may hold anything. */
  route: string;
}

export function contextOf(res: Response): RequestContext {
  return res.locals as RequestContext;
}

export function latencyOf(res: Response): number {
  return performance.now() - contextOf(res).started;
}
