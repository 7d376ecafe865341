/**
 * `vsnap serve` configured for the wasm backend (config value `backend`):
 * it says so in its log and on /health, its worker processes decode with
 * wasm (a codec only the native backend reads fails there; HDR video, which
 * it cannot tone-map, unless parameters.tonemap is "off"), and a sync
 * request gives the frames the library gives.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { shutdown, snapshot } from '../../src/index.js';
import { type Deployment, startDeployment } from '../helpers/deployment.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { hlg } from '../helpers/hdr-videos.js';
import { canMake, fixturePath } from '../helpers/made-file.js';
import { dataUri, type Service } from '../helpers/service.js';
import { testKeys } from '../helpers/service-keys.js';

const key = testKeys.main;
const av1 = fixtureNamed('webm-av1');
const av1Available = await canMake(av1);

let deployment: Deployment;
let service: Service;

beforeAll(async () => {
  deployment = await startDeployment('embedded', { label: 'wasm-service', buckets: [], config: { backend: 'wasm', workers: 1 } });
  service = deployment.service;
});

afterAll(async () => {
  await deployment?.stop();
  await shutdown();
});

describe('a service on the wasm backend', () => {
  it('says which backend it uses and why, in its log and on /health', async () => {
    const line = await service.waitForLog((l) => l.msg === 'decode backend');
    expect(line).toMatchObject({ backend: 'wasm', reason: 'chosen (backend: wasm)' });
    const health = await service.request('GET', '/health');
    expect(health.body).toEqual({ status: 'ok', backend: 'wasm' });
  });

  it('answers a sync request with the frames the library gives', async () => {
    const file = await fixturePath(fixtureNamed('mp4-bframes'));
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content: dataUri(await readFile(file)) }, parameters: { interval: 1 }, output: { type: 'base64' } },
    });
    expect(response.status, response.text).toBe(200);
    const data = (response.body.result as { data: { frame_index: number; frame_time: number }[] }).data;
    const expected = [];
    for await (const image of snapshot(file, { interval: 1, backend: 'native' })) {
      expected.push({ frame_index: image.frameIndex, frame_time: image.frameTime });
    }
    expect(data.map(({ frame_index, frame_time }) => ({ frame_index, frame_time }))).toEqual(expected);
  });

  it.skipIf(!av1Available)('decodes in its workers with wasm: AV1, which only native reads, is refused', async () => {
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content: dataUri(await readFile(await fixturePath(av1))) }, output: { type: 'base64' } },
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.code).toBe('InvalidParameter');
    expect(response.body.message).toMatch(/av1/i);
  });

  it('refuses HDR video it cannot tone-map, and gives it unmapped with parameters.tonemap "off"', async () => {
    const content = dataUri(await readFile(await fixturePath(hlg)));
    const refused = await service.request('POST', service.apiPath('sync'), { key, body: { input: { content }, output: { type: 'base64' } } });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.code).toBe('InvalidParameter');
    expect(refused.body.message).toMatch(/HDR .*tone-map/);
    const unmapped = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content }, parameters: { tonemap: 'off' }, output: { type: 'base64' } },
    });
    expect(unmapped.status, unmapped.text).toBe(200);
    expect((unmapped.body.result as { data: unknown[] }).data).toHaveLength(2);
  });
});
