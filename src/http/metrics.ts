/**
 * The service's Prometheus metrics, on a registry of their own (never
 * prom-client's global one), so two services in one process, as in tests,
 * keep separate counts.
 *
 *   vsnap_http_requests_total{method,route,code}            counter
 *   vsnap_http_request_duration_seconds{method,route,code}  histogram
 *   vsnap_tasks{state}                 gauge: pending (waiting), running, success, fail
 *   vsnap_frames_extracted_total       counter: images produced
 *   vsnap_job_duration_seconds{outcome}  histogram: one job in a worker, outcome success or the task error code (VSNAP_TASK_INPUT, ...)
 *   vsnap_worker_restarts_total        counter: workers replaced (crash, timeout)
 *   vsnap_queue_rejections_total{queue}  counter: 503s for a full queue, tasks | sync
 *   plus prom-client's default process and Node.js metrics (unprefixed, as
 *   dashboards expect them).
 *
 * `route` is the route pattern (`/health`, `/v3/…/:service_id/sync`), never
 * the raw URL: a label per URL would grow without bound. Requests that
 * matched no route share `unmatchedRoute`.
 *
 * This module knows nothing of where the numbers come from: the server
 * feeds the handles (a finished job's time into `jobDuration`, a replaced
 * worker into `workerRestarts`, a 503 for a full queue into
 * `queueRejections`), so no lower floor is tied to Prometheus.
 *
 * `vsnap_tasks` is read when scraped, from the `taskCounts` callback, so it
 * is never stale; when the callback fails, `render` rejects with its error
 * rather than serve a number that is not true.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

import type { TaskCounts } from '../tasks/queue.js';

export const unmatchedRoute = 'unmatched';

export interface MetricsOptions {
  taskCounts(): Promise<TaskCounts>;
}

/** One answered request, as the app reports it. */
export interface ObservedRequest {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'code'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'code'>;
  readonly tasks: Gauge<'state'>;
  readonly framesExtracted: Counter;
  readonly damagedFrames: Counter;
  readonly seekRecoveries: Counter;
  readonly jobDuration: Histogram<'outcome'>;
  readonly workerRestarts: Counter;
  readonly queueRejections: Counter<'queue'>;
  /** Counts and times one request. */
  observeRequest(request: ObservedRequest): void;
  render(): Promise<{ contentType: string; body: string }>;
}

const taskStates = ['pending', 'running', 'success', 'fail'] as const satisfies readonly (keyof TaskCounts)[];

// Requests range from a cached task-status read (well under 1 ms) to a sync
// extraction of a long video (minutes); jobs from a short clip to the timeout.
const requestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const jobBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function createMetrics(options: MetricsOptions): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({
    name: 'vsnap_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'code'] as const,
    registers,
  });
  const httpRequestDuration = new Histogram({
    name: 'vsnap_http_request_duration_seconds',
    help: 'Time from receiving a request to its answer, in seconds',
    labelNames: ['method', 'route', 'code'] as const,
    buckets: requestBuckets,
    registers,
  });
  const tasks = new Gauge({
    name: 'vsnap_tasks',
    help: 'Async tasks in the task store, by state (pending: waiting for a worker; running: on one)',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = await options.taskCounts();
      for (const state of taskStates) this.set({ state }, counts[state]);
    },
  });
  const framesExtracted = new Counter({
    name: 'vsnap_frames_extracted_total',
    help: 'Images extracted and delivered, sync and async',
    registers,
  });
  const damagedFrames = new Counter({
    name: 'vsnap_damaged_frames_total',
    help: 'Images extracted whose frame is damaged in the video itself (a sequential decode gives the same damaged picture)',
    registers,
  });
  const seekRecoveries = new Counter({
    name: 'vsnap_seek_recoveries_total',
    help: 'Frames decoded again from an earlier point because their decode after a seek showed damage',
    registers,
  });
  const jobDuration = new Histogram({
    name: 'vsnap_job_duration_seconds',
    help: 'Time one snapshot job ran in a worker process (decode, encode, store), in seconds, by outcome (success or the task error code)',
    labelNames: ['outcome'] as const,
    buckets: jobBuckets,
    registers,
  });
  const workerRestarts = new Counter({
    name: 'vsnap_worker_restarts_total',
    help: 'Worker processes replaced after a crash or a timeout',
    registers,
  });
  const queueRejections = new Counter({
    name: 'vsnap_queue_rejections_total',
    help: 'Requests refused with 503 because a queue was full, by queue (tasks: async, sync: waiting sync calls)',
    labelNames: ['queue'] as const,
    registers,
  });

  return {
    registry,
    httpRequests,
    httpRequestDuration,
    tasks,
    framesExtracted,
    damagedFrames,
    seekRecoveries,
    jobDuration,
    workerRestarts,
    queueRejections,
    observeRequest({ method, route, status, seconds }) {
      const labels = { method, route, code: String(status) };
      httpRequests.inc(labels);
      httpRequestDuration.observe(labels, seconds);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
