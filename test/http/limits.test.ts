/**
 * The service's job limits (settings maxDuration, maxPixels, maxTargets,
 * passed to its worker processes): a sync request over one answers 400
 * InvalidParameter naming the limit, an async task over one ends FAIL saying
 * so, and a request within them succeeds.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { longDeclaredVideo } from '../helpers/bad-inputs.js';
import { type Deployment, startDeployment } from '../helpers/deployment.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { canMake, fixturePath } from '../helpers/made-file.js';
import { dataUri, type Service } from '../helpers/service.js';
import { testKeys } from '../helpers/service-keys.js';

const key = testKeys.main;
const bombAvailable = await canMake(longDeclaredVideo);

let deployment: Deployment;
let service: Service;
let clip: Buffer;
let longClip: Buffer;

beforeAll(async () => {
  // At 1 s, mp4-bframes (4 s) has 4 targets and mp4-long-gop (12 s) 12.
  deployment = await startDeployment('embedded', { label: 'limits', buckets: ['bucket'], config: { maxTargets: 10, workers: 1 } });
  service = deployment.service;
  clip = await readFile(await fixturePath(fixtureNamed('mp4-bframes')));
  longClip = await readFile(await fixturePath(fixtureNamed('mp4-long-gop')));
});

afterAll(() => deployment?.stop());

describe('a service with maxTargets 10', () => {
  it('answers a sync request within it', async () => {
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content: dataUri(clip) }, parameters: { interval: 1 }, output: { type: 'base64' } },
    });
    expect(response.status, response.text).toBe(200);
  });

  it('answers 400 InvalidParameter to a sync request over it, naming the limit', async () => {
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content: dataUri(longClip) }, parameters: { interval: 1 }, output: { type: 'base64' } },
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.code).toBe('InvalidParameter');
    expect(response.body.message).toBe('input.content: the plan has 12 targets, more than the limit of 10 (maxTargets)');
  });

  it('fails an async task over it, saying why', async () => {
    const created = await service.request('POST', service.apiPath('async'), {
      key,
      body: { input: { content: dataUri(longClip) }, parameters: { interval: 1 }, output: { oss: 'oss://bucket/long' } },
    });
    expect(created.status, created.text).toBe(200);
    const done = await service.waitForTask((created.body.result as { task_id: string }).task_id, key);
    const result = done.body.result as { status: string; error: string };
    expect(result.status).toBe('FAIL');
    expect(result.error).toContain('the plan has 12 targets, more than the limit of 10 (maxTargets)');
  });

  it.skipIf(!bombAvailable)('fails an async task on a small file declaring 11.6 days by the default duration limit, saying why', async () => {
    const bomb = await readFile(await fixturePath(longDeclaredVideo));
    const created = await service.request('POST', service.apiPath('async'), {
      key,
      body: { input: { content: dataUri(bomb) }, output: { oss: 'oss://bucket/bomb' } },
    });
    expect(created.status, created.text).toBe(200);
    const done = await service.waitForTask((created.body.result as { task_id: string }).task_id, key);
    const result = done.body.result as { status: string; error: string };
    expect(result.status).toBe('FAIL');
    // The duration is checked as soon as the video is open, before its million targets are counted.
    expect(result.error).toContain('the video lasts 1000001 s, more than the limit of 43200 s (maxDuration)');
  });
});
