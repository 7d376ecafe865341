/**
 * The documented API against a real `vsnap serve` on a loopback port, in
 * every deployment shape (test/helpers/deployment.ts): every route, both
 * input kinds, both output kinds, both modes, the documented fields of every
 * answer, workspaces, keys and the rate limit, health, metrics, and the
 * OpenAPI document checked against the real routes. The frames a task
 * reports are the ones the library gives for the same video.
 */

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { apiRoutes } from '../../src/http/routes.js';
import { snapshot } from '../../src/index.js';
import { type Deployment, deploymentModes, startDeployment } from '../helpers/deployment.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { dataUri, type Service } from '../helpers/service.js';
import { testKeys } from '../helpers/service-keys.js';

const key = testKeys.main;

interface Item {
  frame_index: number;
  frame_time: number;
  path?: string;
  content?: string;
}

async function engineFrames(interval: number, mode: 'exact' | 'keyframe'): Promise<{ frame_index: number; frame_time: number }[]> {
  const frames = [];
  for await (const image of snapshot(videoFile, { interval, mode })) {
    frames.push({ frame_index: image.frameIndex, frame_time: image.frameTime });
  }
  return frames;
}

function expectEnvelope(body: Record<string, unknown>): void {
  expect(body.request_id).toMatch(/^[0-9a-f]{32}$/);
  expect(body.latency).toBeTypeOf('number');
  expect(body.usage).toBeTypeOf('object');
}

let videoFile: string;
let video: Buffer;

beforeAll(async () => {
  videoFile = await fixturePath(fixtureNamed('mp4-bframes'));
  video = await readFile(videoFile);
});

describe.each(deploymentModes)('%s deployment', (shape) => {
  let deployment: Deployment;
  let service: Service;
  let inputUrl: string;

  beforeAll(async () => {
    deployment = await startDeployment(shape, { label: 'service', buckets: ['bucket'], config: { workers: 2 } });
    service = deployment.service;
    inputUrl = await deployment.putObject('bucket', 'videos/my clip.mp4', videoFile);
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  describe.each(['exact', 'keyframe'] as const)('%s mode', (mode) => {
    it('async: oss input to oss output, as the document shows', async () => {
      const created = await service.request('POST', service.apiPath('async'), {
        key,
        body: { input: { oss: inputUrl }, parameters: { interval: 1, mode }, output: { type: 'oss', oss: 'oss://bucket/result/path' } },
      });
      expect(created.status, created.text).toBe(200);
      expectEnvelope(created.body);
      expect(created.body.usage).toEqual({});
      const result = created.body.result as { task_id: string; status: string };
      expect(result.status).toBe('PENDING');
      expect(result.task_id).toMatch(/^snapshot-\d{14}-[0-9a-f]{32}$/);

      const done = await service.waitForTask(result.task_id, key);
      expect(done.status).toBe(200);
      expectEnvelope(done.body);
      const finished = done.body.result as { task_id: string; status: string; data: Item[] };
      expect(finished.status).toBe('SUCCESS');
      expect(finished.task_id).toBe(result.task_id);
      const expected = await engineFrames(1, mode);
      expect(finished.data.map(({ frame_index, frame_time }) => ({ frame_index, frame_time }))).toEqual(expected);
      expect(done.body.usage).toEqual({ image_count: expected.length, image: expected.length });
      for (const [k, item] of finished.data.entries()) {
        expect(item.path).toBe(`oss://bucket/result/path/${result.task_id}/snapshot_${k}.jpg`);
        expect(item.content).toBeUndefined();
        expect((await sharp(await deployment.readObject(item.path!)).metadata()).format).toBe('jpeg');
      }
    });

    it('async: content input to oss output in png', async () => {
      const created = await service.request('POST', service.apiPath('async'), {
        key,
        body: {
          input: { content: dataUri(video), file_name: 'clip.mp4' },
          parameters: { interval: 2, format: 'png', mode },
          output: { oss: 'oss://bucket/with space/out' },
        },
      });
      expect(created.status, created.text).toBe(200);
      const taskId = (created.body.result as { task_id: string }).task_id;
      const done = await service.waitForTask(taskId, key);
      const finished = done.body.result as { status: string; data: Item[] };
      expect(finished.status).toBe('SUCCESS');
      expect(finished.data.map(({ frame_index, frame_time }) => ({ frame_index, frame_time }))).toEqual(await engineFrames(2, mode));
      for (const [k, item] of finished.data.entries()) {
        expect(item.path).toBe(`oss://bucket/with%20space/out/${taskId}/snapshot_${k}.png`);
        expect((await sharp(await deployment.readObject(item.path!)).metadata()).format).toBe('png');
      }
    });

    it('sync: content input to base64 output', async () => {
      const response = await service.request('POST', service.apiPath('sync'), {
        key,
        body: { input: { content: dataUri(video) }, parameters: { interval: 1, mode }, output: { type: 'base64' } },
      });
      expect(response.status, response.text).toBe(200);
      expectEnvelope(response.body);
      const result = response.body.result as { task_id: string; status: string; data: Item[] };
      expect(result.status).toBe('SUCCESS');
      expect(result.task_id).toMatch(/^snapshot-/);
      expect(result.data.map(({ frame_index, frame_time }) => ({ frame_index, frame_time }))).toEqual(await engineFrames(1, mode));
      expect(response.body.usage).toEqual({ image_count: result.data.length, image: result.data.length });
      for (const item of result.data) {
        expect(item.path).toBeUndefined();
        const image = await sharp(Buffer.from(item.content!, 'base64')).metadata();
        expect([image.format, image.width, image.height]).toEqual(['jpeg', 320, 240]);
      }
    });

    it('sync: oss input to oss output', async () => {
      const response = await service.request('POST', service.apiPath('sync', 'team-a'), {
        key,
        body: { input: { oss: inputUrl }, parameters: { mode }, output: { type: 'oss', oss: 'oss://bucket/sync-out' } },
      });
      expect(response.status, response.text).toBe(200);
      const result = response.body.result as { task_id: string; data: Item[] };
      expect(result.data.length).toBe((await engineFrames(1, mode)).length);
      for (const item of result.data) expect((await deployment.readObject(item.path!)).length).toBeGreaterThan(0);
    });
  });

  it('answers a video whose seeks need recovering as any other, and counts the recoveries', async () => {
    // Its second part's parameter sets ride in-band at 3 s only (scripts/make-seek-fixtures.mjs): no
    // lane that decodes the keyframes at 0 and 2 s has them when it decodes the one at 4 s.
    const splice = fileURLToPath(new URL('../fixtures/seek/splice-pps.mp4', import.meta.url));
    const parameters = { interval: 2, mode: 'keyframe' } as const;
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content: dataUri(await readFile(splice)) }, parameters, output: { type: 'base64' } },
    });
    expect(response.status, response.text).toBe(200);
    const result = response.body.result as { task_id: string; status: string; data: Item[] };
    expect(Object.keys(result).sort()).toEqual(['data', 'status', 'task_id']);
    expect(result.status).toBe('SUCCESS');
    const engine = snapshot(splice, parameters);
    const expected = [];
    for await (const image of engine) expected.push({ frame_index: image.frameIndex, frame_time: image.frameTime, content: image.data.toString('base64') });
    expect(engine.stats().seekRecoveries).toBeGreaterThan(0);
    expect(result.data).toEqual(expected);
    const metrics = await service.request('GET', '/metrics');
    expect(Number(/^vsnap_seek_recoveries_total (\d+)/m.exec(metrics.text)?.[1])).toBeGreaterThan(0);
    expect(metrics.text).toMatch(/^vsnap_damaged_frames_total 0$/m);
  });

  describe('tasks and workspaces', () => {
    it('shows a task only in the workspace that created it', async () => {
      const created = await service.request('POST', service.apiPath('async', 'team-a'), {
        key,
        body: { input: { oss: inputUrl }, output: { oss: 'oss://bucket/ws' } },
      });
      const taskId = (created.body.result as { task_id: string }).task_id;
      expect((await service.waitForTask(taskId, key, 'team-a')).status).toBe(200);
      const elsewhere = await service.request('GET', `${service.apiPath('async/task-status', 'team-b')}?task_id=${taskId}`, { key });
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.body.code).toBe('BadRequest.TaskNotExist');
    });

    it('fails a task whose video cannot be read, saying why', async () => {
      const created = await service.request('POST', service.apiPath('async'), {
        key,
        body: { input: { content: dataUri(video.subarray(0, 4096)) }, output: { oss: 'oss://bucket/broken' } },
      });
      expect(created.status, created.text).toBe(200);
      const done = await service.waitForTask((created.body.result as { task_id: string }).task_id, key);
      expect(done.status).toBe(200);
      const result = done.body.result as { status: string; error: string; data?: unknown };
      expect(result.status).toBe('FAIL');
      expect(result.error).toMatch(/^input\.content: /);
      expect(result.error).not.toContain(deployment.dataDir);
    });
    it('fails a task whose stored video cannot be read, naming it by its oss:// path and nothing else', async () => {
      const broken = path.join(deployment.dataDir, 'broken.mp4');
      await writeFile(broken, video.subarray(0, 4096));
      const brokenUrl = await deployment.putObject('bucket', 'broken.mp4', broken);
      const created = await service.request('POST', service.apiPath('async'), {
        key,
        body: { input: { oss: brokenUrl }, output: { oss: 'oss://bucket/broken-out' } },
      });
      const done = await service.waitForTask((created.body.result as { task_id: string }).task_id, key);
      const result = done.body.result as { status: string; error: string };
      expect(result.status).toBe('FAIL');
      expect(result.error).toMatch(/^oss:\/\/bucket\/broken\.mp4: /);
      expect(result.error).not.toMatch(/X-Amz|127\.0\.0\.1|http:/);
      expect(result.error).not.toContain(deployment.dataDir);
    });
  });

  describe('keys and limits', () => {
    it('throttles a key past its QPS with Retry-After', async () => {
      const statusPath = `${service.apiPath('async/task-status')}?task_id=snapshot-20250617102142-00000000000000000000000000000000`;
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => service.request('GET', statusPath, { key: testKeys.slow })),
      );
      const throttled = answers.filter((a) => a.status === 429);
      expect(throttled.length).toBeGreaterThan(0);
      expect(answers.filter((a) => a.status === 404).length).toBeGreaterThan(0);
      for (const answer of throttled) {
        expect(answer.body.code).toBe('Throttling.RateQuota');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    });

    it('accepts the scheme in any case', async () => {
      const response = await service.request('GET', '/v3/openapi/workspaces/default/video-snapshot/ops-video-snapshot-001/async/task-status?task_id=x', {
        headers: { authorization: `bearer ${key}` },
      });
      expect(response.status).toBe(404);
    });
  });

  describe('operations', () => {
    it('answers health without a key', async () => {
      const response = await service.request('GET', '/health');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', backend: 'native' });
    });

    it('exports Prometheus metrics of requests, tasks and frames', async () => {
      const response = await service.request('GET', '/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      for (const name of ['http_requests_total', 'http_request_duration_seconds', 'tasks', 'frames_extracted_total']) {
        expect(response.text).toMatch(new RegExp(`^vsnap_${name}`, 'm'));
      }
      expect(response.text).not.toContain(key);
    });

    it('serves an OpenAPI document that lists exactly the routes the app serves', async () => {
      const response = await service.request('GET', '/openapi.json');
      expect(response.status).toBe(200);
      const document = response.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(document.openapi).toMatch(/^3\./);
      const documented = Object.entries(document.paths)
        .flatMap(([route, operations]) => Object.keys(operations).map((method) => `${method} ${route}`))
        .filter((entry) => entry.includes('/v3/'))
        .sort();
      const served = apiRoutes.map(({ method, path: route }) => `${method} ${route.replace(/:(\w+)/g, '{$1}')}`).sort();
      expect(documented).toEqual(served);
    });

    it('logs one JSON line per request with its request_id and never the key', async () => {
      const response = await service.request('GET', '/health');
      const requestId = response.headers.get('x-request-id');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = service.logs().filter((line) => line.request_id === requestId);
      expect(lines.length).toBe(1);
      expect(service.lines.join('\n')).not.toContain(key);
    });
  });
});
