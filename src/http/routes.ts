/**
 * The three routes of the video snapshot API, as documented, for any
 * workspace and the one service id vsnap provides.
 *
 *   POST {base}/sync                     run now, answer with result.data
 *   POST {base}/async                    accept a task, answer result.task_id, PENDING
 *   GET  {base}/async/task-status        PENDING | SUCCESS (data) | FAIL (error)
 *
 * A task belongs to the workspace it was created in; asked from another
 * workspace it does not exist (404, the same answer as an unknown id, so
 * ids cannot be probed across workspaces). An async task is durable before
 * its id is answered (TaskQueue.submit). A finished task reports its image
 * count as `usage.image_count` and also as `usage.image`, the spelling of
 * the document's examples. `result.status` of a running task is PENDING:
 * the document has no other state for it.
 *
 * Each key may have `maxTasks` unfinished tasks at once (its async tasks
 * not yet finished, its sync calls running): one more is 429 Throttling,
 * before anything is accepted.
 */

import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';

import type { Store } from '../storage/store.js';
import { TaskError } from '../tasks/errors.js';
import type { JobResult } from '../tasks/job.js';
import type { TaskOwner, TaskQueue, TaskRecord } from '../tasks/queue.js';
import { invalidParameter, serviceIdNotExist, taskNotExist } from './api-error.js';
import { type Caller, contextOf, latencyOf } from './context.js';
import { createTaskId, isTaskId, successResponse, type Usage } from './envelope.js';
import { apiErrorOfTask, jobOf } from './snapshot-job.js';
import { parseSnapshotRequest } from './snapshot-request.js';

export const serviceIds: readonly string[] = ['ops-video-snapshot-001'];

const base = '/v3/openapi/workspaces/:workspace_name/video-snapshot/:service_id';

/** The documented routes, as the OpenAPI document must list them. */
export const apiRoutes: readonly { method: 'get' | 'post'; path: string }[] = [
  { method: 'post', path: `${base}/sync` },
  { method: 'post', path: `${base}/async` },
  { method: 'get', path: `${base}/async/task-status` },
];

export interface RouteOptions {
  tasks: TaskQueue;
  store: Store;
  authenticated: RequestHandler;
  json: RequestHandler;
}

export function snapshotRoutes({ tasks, store, authenticated, json }: RouteOptions): Router {
  const router = Router();
  const known = (req: Request, _res: Response, next: NextFunction) => {
    const serviceId = param(req, 'service_id');
    if (!serviceIds.includes(serviceId)) throw serviceIdNotExist(serviceId);
    next();
  };

  router.post(`${base}/sync`, named(`${base}/sync`), authenticated, known, json, async (req, res) => {
    const request = parseSnapshotRequest(req.body, 'sync');
    const taskId = createTaskId();
    const job = await jobOf(taskId, request, store);
    let result: JobResult;
    try {
      result = await tasks.execute(job, ownerOf(res));
    } catch (error) {
      throw apiErrorOfTask(error);
    }
    const count = result.data.length;
    res.json(
      successResponse({ task_id: taskId, status: 'SUCCESS', data: result.data }, contextOf(res).requestId, latencyOf(res), imageUsage(count)),
    );
  });

  router.post(`${base}/async`, named(`${base}/async`), authenticated, known, json, async (req, res) => {
    const request = parseSnapshotRequest(req.body, 'async');
    const workspace = param(req, 'workspace_name');
    const job = await jobOf(createTaskId(), request, store);
    let task: TaskRecord;
    try {
      task = await tasks.submit(workspace, job, ownerOf(res));
    } catch (error) {
      throw error instanceof TaskError ? apiErrorOfTask(error) : error;
    }
    res.json(successResponse({ task_id: task.id, status: task.status }, contextOf(res).requestId, latencyOf(res)));
  });

  const statusRoute = `${base}/async/task-status`;
  router.get(statusRoute, named(statusRoute), authenticated, known, async (req, res) => {
    const taskId = req.query.task_id;
    if (typeof taskId !== 'string' || taskId === '') throw invalidParameter('task_id', 'a task id', taskId);
    let task: TaskRecord | undefined;
    try {
      task = isTaskId(taskId) ? await tasks.get(param(req, 'workspace_name'), taskId) : undefined;
    } catch (error) {
      throw error instanceof TaskError ? apiErrorOfTask(error) : error;
    }
    if (task === undefined) throw taskNotExist(taskId);
    res.json(successResponse(resultOf(task), contextOf(res).requestId, latencyOf(res), usageOf(task)));
  });

  return router;
}

/** The authenticated caller, as the task floor counts its tasks. */
function ownerOf(res: Response): TaskOwner {
  const caller = contextOf(res).caller as Caller;
  return { id: caller.id, maxTasks: caller.maxTasks };
}

/** A named path parameter; these routes have no wildcards, so it is one string. */
function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

/** Sets the route pattern before authentication, so even a 401 is counted under its route. */
function named(route: string): RequestHandler {
  return (_req, res, next) => {
    contextOf(res).route = route;
    next();
  };
}

function resultOf(task: TaskRecord): object {
  switch (task.status) {
    case 'PENDING':
      return { task_id: task.id, status: task.status };
    case 'SUCCESS':
      return { task_id: task.id, status: task.status, data: task.data ?? [] };
    case 'FAIL':
      return { task_id: task.id, status: task.status, error: task.error ?? '' };
  }
}

function usageOf(task: TaskRecord): Usage {
  return task.status === 'SUCCESS' ? imageUsage(task.data?.length ?? 0) : {};
}

function imageUsage(count: number): Usage {
  return { image_count: count, image: count };
}
