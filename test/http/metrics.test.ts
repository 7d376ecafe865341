import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { createMetrics, unmatchedRoute } from '../../src/http/metrics.js';
import type { TaskCounts } from '../../src/tasks/queue.js';

const syncRoute = '/v3/openapi/workspaces/:workspace_name/video-snapshot/:service_id/sync';

/** Samples of the exposition text as `name{labels}` → value; comments are kept in `types`. */
function parse(body: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of body.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1] as string, type[2] as string);
    if (line.startsWith('#')) continue;
    const sample = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    expect(sample, `a sample line: ${line}`).not.toBeNull();
    samples.set(sample?.[1] as string, Number(sample?.[2]));
  }
  return { samples, types };
}

function metricsWith(counts: () => Promise<TaskCounts>) {
  return createMetrics({ taskCounts: counts });
}

const zeroCounts: TaskCounts = { pending: 0, running: 0, success: 0, fail: 0 };

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  const { contentType, body } = await metrics.render();
  return { contentType, ...parse(body) };
}

describe('createMetrics', () => {
  it('renders the Prometheus text format with every vsnap metric typed', async () => {
    const { contentType, types } = await scrape(metricsWith(async () => zeroCounts));
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('vsnap_')))).toEqual({
      vsnap_http_requests_total: 'counter',
      vsnap_http_request_duration_seconds: 'histogram',
      vsnap_tasks: 'gauge',
      vsnap_frames_extracted_total: 'counter',
      vsnap_damaged_frames_total: 'counter',
      vsnap_seek_recoveries_total: 'counter',
      vsnap_job_duration_seconds: 'histogram',
      vsnap_worker_restarts_total: 'counter',
      vsnap_queue_rejections_total: 'counter',
    });
  });

  it("includes prom-client's default process metrics", async () => {
    const { types } = await scrape(metricsWith(async () => zeroCounts));
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
  });

  it('counts and times requests by method, route pattern and status', async () => {
    const metrics = metricsWith(async () => zeroCounts);
    metrics.observeRequest({ method: 'POST', route: syncRoute, status: 200, seconds: 0.3 });
    metrics.observeRequest({ method: 'POST', route: syncRoute, status: 200, seconds: 0.7 });
    metrics.observeRequest({ method: 'POST', route: syncRoute, status: 429, seconds: 0.001 });
    metrics.observeRequest({ method: 'GET', route: unmatchedRoute, status: 404, seconds: 0.002 });
    const { samples } = await scrape(metrics);
    const ok = `method="POST",route="${syncRoute}",code="200"`;
    expect(samples.get(`vsnap_http_requests_total{${ok}}`)).toBe(2);
    expect(samples.get(`vsnap_http_requests_total{method="POST",route="${syncRoute}",code="429"}`)).toBe(1);
    expect(samples.get('vsnap_http_requests_total{method="GET",route="unmatched",code="404"}')).toBe(1);
    expect(samples.get(`vsnap_http_request_duration_seconds_count{${ok}}`)).toBe(2);
    expect(samples.get(`vsnap_http_request_duration_seconds_sum{${ok}}`)).toBeCloseTo(1.0, 9);
    expect(samples.get(`vsnap_http_request_duration_seconds_bucket{le="0.5",${ok}}`)).toBe(1);
    expect(samples.get(`vsnap_http_request_duration_seconds_bucket{le="1",${ok}}`)).toBe(2);
  });

  it('reads the task counts at every scrape', async () => {
    let counts: TaskCounts = { pending: 3, running: 1, success: 10, fail: 2 };
    let calls = 0;
    const metrics = metricsWith(async () => {
      calls += 1;
      return counts;
    });
    const first = await scrape(metrics);
    expect(['pending', 'running', 'success', 'fail'].map((s) => first.samples.get(`vsnap_tasks{state="${s}"}`))).toEqual([3, 1, 10, 2]);
    counts = { pending: 0, running: 0, success: 14, fail: 2 };
    const second = await scrape(metrics);
    expect(second.samples.get('vsnap_tasks{state="pending"}')).toBe(0);
    expect(second.samples.get('vsnap_tasks{state="success"}')).toBe(14);
    expect(calls).toBe(2);
  });

  it('fails the scrape when the task counts cannot be read', async () => {
    const metrics = metricsWith(async () => {
      throw new Error('database is locked');
    });
    await expect(metrics.render()).rejects.toThrow('database is locked');
  });

  it('times jobs by outcome and counts worker restarts through its handles', async () => {
    const metrics = metricsWith(async () => zeroCounts);
    metrics.jobDuration.observe({ outcome: 'success' }, 1.5);
    metrics.jobDuration.observe({ outcome: 'fail' }, 0.2);
    metrics.workerRestarts.inc();
    const { samples } = await scrape(metrics);
    expect(samples.get('vsnap_job_duration_seconds_count{outcome="success"}')).toBe(1);
    expect(samples.get('vsnap_job_duration_seconds_sum{outcome="success"}')).toBe(1.5);
    expect(samples.get('vsnap_job_duration_seconds_count{outcome="fail"}')).toBe(1);
    expect(samples.get('vsnap_job_duration_seconds_bucket{le="0.1",outcome="fail"}')).toBe(0);
    expect(samples.get('vsnap_job_duration_seconds_bucket{le="0.25",outcome="fail"}')).toBe(1);
    expect(samples.get('vsnap_worker_restarts_total')).toBe(1);
  });

  it('counts frames and queue rejections through its handles', async () => {
    const metrics = metricsWith(async () => zeroCounts);
    metrics.framesExtracted.inc(64);
    metrics.framesExtracted.inc(3);
    metrics.queueRejections.inc({ queue: 'tasks' });
    metrics.queueRejections.inc({ queue: 'sync' });
    metrics.queueRejections.inc({ queue: 'sync' });
    const { samples } = await scrape(metrics);
    expect(samples.get('vsnap_frames_extracted_total')).toBe(67);
    expect(samples.get('vsnap_queue_rejections_total{queue="tasks"}')).toBe(1);
    expect(samples.get('vsnap_queue_rejections_total{queue="sync"}')).toBe(2);
  });

  it('keeps two services in one process apart, and off the global registry', async () => {
    const a = metricsWith(async () => ({ ...zeroCounts, pending: 1 }));
    const b = metricsWith(async () => ({ ...zeroCounts, pending: 2 }));
    a.observeRequest({ method: 'GET', route: '/health', status: 200, seconds: 0.001 });
    const [scrapeA, scrapeB] = await Promise.all([scrape(a), scrape(b)]);
    const health = 'vsnap_http_requests_total{method="GET",route="/health",code="200"}';
    expect(scrapeA.samples.get(health)).toBe(1);
    expect(scrapeB.samples.get(health)).toBeUndefined();
    expect(scrapeA.samples.get('vsnap_tasks{state="pending"}')).toBe(1);
    expect(scrapeB.samples.get('vsnap_tasks{state="pending"}')).toBe(2);
    expect(await globalRegistry.metrics()).not.toContain('vsnap_');
  });
});
