/**
 * The bad-input matrix against a real service: every container the API
 * accepts (mp4, mov, mkv, webm, avi, flv; each codec of the fixtures), cut
 * at 10%, 50% and 90%, with bytes overwritten, behind the header of another
 * format, empty, and sent under a data URI naming another format. Every sync
 * request answers a well-formed 200 (the frames that could be taken) or 400
 * InvalidParameter with a message, never a 500, a crash or a hang; the
 * service is healthy and its worker processes are the same ones at the end.
 *
 * Partial results, as documented: a damage vsnap can tell (a length the
 * container declares and the data does not reach, a target frame that does
 * not decode) gives no images; damage it cannot tell (a cut at a packet
 * boundary of a container that declares no length) reads as a shorter video.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { corruptedBytes } from '../helpers/bad-inputs.js';
import { type Deployment, startDeployment } from '../helpers/deployment.js';
import { fixtureCases, type FixtureCase } from '../helpers/fixture-videos.js';
import { fixturePath } from '../helpers/made-file.js';
import { type ApiResponse, type Service } from '../helpers/service.js';
import { testKeys } from '../helpers/service-keys.js';

const key = testKeys.main;
const apiFormat: Record<string, string> = { mp4: 'mp4', mov: 'mov', mkv: 'mkv', webm: 'webm', avi: 'avi', flv: 'flv' };
const chosen = ['mp4-h264', 'mp4-hevc', 'mov-h264', 'mkv-h264', 'webm-vp8', 'webm-vp9', 'webm-av1', 'avi-mpeg4', 'flv-h264', 'flv-flv1'];
const cases = (await fixtureCases()).filter((f) => f.available && chosen.includes(f.name));

interface Variant {
  name: string;
  bytes(fixture: FixtureCase, whole: Buffer, other: Buffer): Promise<Buffer> | Buffer;
  /** The format the data URI declares; the fixture's own when undefined. */
  declared?: (fixture: FixtureCase) => string;
}

const variants: Variant[] = [
  ...[0.1, 0.5, 0.9].map((fraction): Variant => ({
    name: `cut at ${fraction * 100}%`,
    bytes: (_, whole) => whole.subarray(0, Math.floor(whole.length * fraction)),
  })),
  { name: 'with bytes overwritten', bytes: (fixture) => corruptedBytes(fixture, 11, 200) },
  {
    name: 'behind the first 4 kB of another container',
    bytes: (_, whole, other) => Buffer.concat([other.subarray(0, 4096), whole.subarray(4096)]),
  },
  { name: 'empty', bytes: () => Buffer.alloc(0) },
  {
    name: 'declared as another format',
    bytes: (_, whole) => whole,
    declared: (fixture) => (fixture.ext === 'avi' ? 'mp4' : 'avi'),
  },
];

let deployment: Deployment;
let service: Service;
let workersBefore: number[];

beforeAll(async () => {
  deployment = await startDeployment('embedded', { label: 'bad-matrix', buckets: [], config: { workers: 2 } });
  service = deployment.service;
  workersBefore = service.workerPids().sort();
});

afterAll(async () => {
  await deployment?.stop();
});

function expectWellFormed(response: ApiResponse): void {
  expect(response.body.request_id, response.text).toMatch(/^[0-9a-f]{32}$/);
  if (response.status === 200) {
    const result = response.body.result as { status: string; data: { frame_index: number; frame_time: number; content: string }[] };
    expect(result.status).toBe('SUCCESS');
    for (const item of result.data) {
      expect(Number.isInteger(item.frame_index)).toBe(true);
      expect(item.frame_time).toBeTypeOf('number');
      expect(item.content.length).toBeGreaterThan(0);
    }
    return;
  }
  expect(response.status, response.text).toBe(400);
  expect(response.body.code).toBe('InvalidParameter');
  expect(String(response.body.message)).toMatch(/^input\.content: \S/);
}

describe.each(cases)('$name', (fixture) => {
  it.each(variants)('$name: a well-formed 200 or 400, never a 500', async (variant) => {
    const whole = await readFile(await fixturePath(fixture));
    const otherFixture = cases.find((c) => c.ext !== fixture.ext)!;
    const other = await readFile(await fixturePath(otherFixture));
    const bytes = await variant.bytes(fixture, whole, other);
    const format = variant.declared?.(fixture) ?? apiFormat[fixture.ext];
    const content = `data:video/${format};base64,${bytes.toString('base64')}`;
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content }, parameters: { interval: 1 }, output: { type: 'base64' } },
    });
    if (bytes.length === 0) {
      // An empty video is refused by the request check, before any worker.
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('InvalidParameter');
      return;
    }
    expectWellFormed(response);
    // The declared format is a label: the content decides, and this content is a whole video.
    if (variant.declared !== undefined) expect(response.status, response.text).toBe(200);
  });
});

describe('after the matrix', () => {
  it('is healthy, with the worker processes it started with', async () => {
    expect((await service.request('GET', '/health')).status).toBe(200);
    expect(service.workerPids().sort()).toEqual(workersBefore);
  });
});
