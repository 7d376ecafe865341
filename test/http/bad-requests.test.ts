/**
 * Malformed requests against a real `vsnap serve`, as a table: each row is a
 * request a client might really send, with the status, the platform code
 * and a fragment of the message it must get. Every answer is the documented
 * error envelope (exactly its keys, `http_code` equal to the status, no
 * stack or server path in the message), and the service keeps serving
 * afterwards.
 */

import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { truncatedBytes } from '../helpers/bad-inputs.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { dataUri, putObject, Service, tempDataDir } from '../helpers/service.js';
import { keysConfig, testKeys } from '../helpers/service-keys.js';

const key = testKeys.main;
const maxBodyBytes = 2 * 1024 * 1024;

let service: Service;
let dataDir: string;
let video: Buffer;

beforeAll(async () => {
  dataDir = await tempDataDir('bad-requests');
  const file = await fixturePath(fixtureNamed('mp4-h264'));
  video = await readFile(file);
  await putObject(dataDir, 'bucket', 'test.mp4', file);
  const { config, env } = await keysConfig(dataDir);
  service = await Service.start({ dataDir, env, config: { ...config, maxBodyBytes, workers: 1 } });
});

afterAll(async () => {
  await service?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const output = { type: 'oss', oss: 'oss://bucket/out' };
const goodInput = { oss: 'oss://bucket/test.mp4' };

interface Row {
  name: string;
  method?: 'GET' | 'POST';
  /** Defaults to the sync route of the default workspace. */
  path?: (service: Service) => string;
  key?: string | null;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string | (() => string);
  status: number;
  code: string;
  message: string | RegExp;
}

const rows: Row[] = [
  { name: 'a body that is not JSON', rawBody: '{"input": ', status: 400, code: 'InvalidParameter', message: 'JSON parse error' },
  { name: 'no body at all', rawBody: '', status: 400, code: 'InvalidParameter', message: 'for body' },
  { name: 'a JSON array', body: [], status: 400, code: 'InvalidParameter', message: 'Expected a JSON object for body' },
  { name: 'a JSON number', rawBody: '42', status: 400, code: 'InvalidParameter', message: 'Expected a JSON object for body but received 42' },
  { name: 'JSON null', rawBody: 'null', status: 400, code: 'InvalidParameter', message: 'for body but received null' },
  { name: 'no input', body: { output }, status: 400, code: 'InvalidParameter', message: 'for input but received undefined' },
  { name: 'input a string', body: { input: 'oss://bucket/test.mp4', output }, status: 400, code: 'InvalidParameter', message: 'Expected a JSON object for input' },
  { name: 'both content and oss', body: { input: { oss: 'oss://bucket/test.mp4', content: 'data:video/mp4;base64,AAAA' }, output }, status: 400, code: 'InvalidParameter', message: 'exactly one of input.content or input.oss for input but received both' },
  { name: 'neither content nor oss', body: { input: { file_name: 'a.mp4' }, output }, status: 400, code: 'InvalidParameter', message: 'but received neither' },
  { name: 'content a number', body: { input: { content: 123 }, output }, status: 400, code: 'InvalidParameter', message: 'for input.content but received 123' },
  { name: 'content not a data URI', body: { input: { content: 'AAAAIGZ0eXBtcDQy' }, output }, status: 400, code: 'InvalidParameter', message: 'a data URI of the form data:video/<format>;base64,<data> for input.content' },
  { name: 'content an image data URI', body: { input: { content: 'data:image/png;base64,AAAA' }, output }, status: 400, code: 'InvalidParameter', message: 'as the media type for input.content but received "image/png"' },
  { name: 'an unsupported video format', body: { input: { content: 'data:video/wmv;base64,AAAA' }, output }, status: 400, code: 'InvalidParameter', message: 'video/mp4, video/avi, video/mkv, video/mov, video/flv or video/webm' },
  { name: 'content not base64', body: { input: { content: 'data:video/mp4;base64,@@@@' }, output }, status: 400, code: 'InvalidParameter', message: 'strict base64 video data for input.content but received the character "@"' },
  { name: 'base64 without padding', body: { input: { content: 'data:video/mp4;base64,AAA' }, output }, status: 400, code: 'InvalidParameter', message: 'not a multiple of 4' },
  { name: 'empty base64 data', body: { input: { content: 'data:video/mp4;base64,' }, output }, status: 400, code: 'InvalidParameter', message: 'non-empty video data' },
  { name: 'content that is no video', body: { input: { content: dataUri(Buffer.from('this is not a video, only text'.repeat(40))) }, output: { type: 'base64' } }, status: 400, code: 'InvalidParameter', message: /^input\.content: / },
  { name: 'oss a number', body: { input: { oss: 5 }, output }, status: 400, code: 'InvalidParameter', message: 'for input.oss but received 5' },
  { name: 'oss with another scheme', body: { input: { oss: 's3://bucket/test.mp4' }, output }, status: 400, code: 'InvalidParameter', message: 'for input.oss but received "s3://bucket/test.mp4"' },
  { name: 'an invalid bucket name', body: { input: { oss: 'oss://Bad_Bucket/test.mp4' }, output }, status: 400, code: 'InvalidParameter', message: 'input.oss' },
  { name: 'path traversal in input.oss', body: { input: { oss: 'oss://bucket/../../etc/passwd' }, output }, status: 400, code: 'InvalidParameter', message: 'input.oss' },
  { name: 'an encoded traversal in input.oss', body: { input: { oss: 'oss://bucket/%2e%2e/secret.mp4' }, output }, status: 400, code: 'InvalidParameter', message: 'input.oss' },
  { name: 'no object at input.oss', body: { input: { oss: 'oss://bucket/missing.mp4' }, output }, status: 400, code: 'InvalidParameter', message: 'oss://bucket/missing.mp4, where there is no object' },
  { name: 'a file name with a slash', body: { input: { ...goodInput, file_name: '../x.mp4' }, output }, status: 400, code: 'InvalidParameter', message: 'for input.file_name' },
  { name: 'parameters an array', body: { input: goodInput, parameters: [1], output }, status: 400, code: 'InvalidParameter', message: 'Expected a JSON object for parameters' },
  { name: 'interval 0', body: { input: goodInput, parameters: { interval: 0 }, output }, status: 400, code: 'InvalidParameter', message: 'for parameters.interval but received 0' },
  { name: 'interval negative', body: { input: goodInput, parameters: { interval: -5 }, output }, status: 400, code: 'InvalidParameter', message: 'for parameters.interval but received -5' },
  { name: 'interval fractional', body: { input: goodInput, parameters: { interval: 1.5 }, output }, status: 400, code: 'InvalidParameter', message: 'for parameters.interval but received 1.5' },
  { name: 'interval a string', body: { input: goodInput, parameters: { interval: '1' }, output }, status: 400, code: 'InvalidParameter', message: 'for parameters.interval but received "1"' },
  { name: 'interval too large', body: { input: goodInput, parameters: { interval: 3601 }, output }, status: 400, code: 'InvalidParameter', message: 'from 1 to 3600 for parameters.interval' },
  { name: 'format gif', body: { input: goodInput, parameters: { format: 'gif' }, output }, status: 400, code: 'InvalidParameter', message: 'one of "jpg", "png", "webp" for parameters.format but received "gif"' },
  { name: 'format in capitals', body: { input: goodInput, parameters: { format: 'JPG' }, output }, status: 400, code: 'InvalidParameter', message: 'for parameters.format but received "JPG"' },
  { name: 'an unknown mode', body: { input: goodInput, parameters: { mode: 'fast' }, output }, status: 400, code: 'InvalidParameter', message: 'one of "exact", "keyframe" for parameters.mode' },
  { name: 'no output', body: { input: goodInput }, status: 400, code: 'InvalidParameter', message: 'Expected a JSON object for output but received undefined' },
  { name: 'an unknown output type', body: { input: goodInput, output: { type: 'file' } }, status: 400, code: 'InvalidParameter', message: 'one of "base64", "oss" for output.type but received "file"' },
  { name: 'oss output without output.oss', body: { input: goodInput, output: { type: 'oss' } }, status: 400, code: 'InvalidParameter', message: 'for output.oss but received undefined' },
  { name: 'traversal in output.oss', body: { input: goodInput, output: { type: 'oss', oss: 'oss://bucket/out/../../x' } }, status: 400, code: 'InvalidParameter', message: 'output.oss' },
  { name: 'output.oss given with base64 output', body: { input: goodInput, output: { type: 'base64', oss: 'oss://bucket/out' } }, status: 400, code: 'InvalidParameter', message: 'no value when output.type is "base64" for output.oss' },
  {
    name: 'base64 output on an async call',
    path: (s) => s.apiPath('async'),
    body: { input: goodInput, output: { type: 'base64' } },
    status: 400,
    code: 'InvalidParameter',
    message: 'base64 output is available for sync calls only',
  },
  {
    name: 'a body over the size limit',
    rawBody: () => JSON.stringify({ input: { content: dataUri(Buffer.alloc(maxBodyBytes)) }, output }),
    status: 400,
    code: 'InvalidParameter',
    message: `a body of at most ${maxBodyBytes} bytes for body`,
  },
  { name: 'an unknown service id', path: (s) => s.apiPath('sync', 'default', 'ops-video-snapshot-999'), body: { input: goodInput, output }, status: 400, code: 'ServiceIdNotExist', message: 'ops-video-snapshot-999' },
  { name: 'task-status without task_id', method: 'GET', path: (s) => s.apiPath('async/task-status'), status: 400, code: 'InvalidParameter', message: 'for task_id but received undefined' },
  { name: 'task-status of an unknown task', method: 'GET', path: (s) => `${s.apiPath('async/task-status')}?task_id=snapshot-20250617102142-00000000000000000000000000000000`, status: 404, code: 'BadRequest.TaskNotExist', message: 'does not exist' },
  { name: 'task-status of a malformed id', method: 'GET', path: (s) => `${s.apiPath('async/task-status')}?task_id=../../etc`, status: 404, code: 'BadRequest.TaskNotExist', message: 'does not exist' },
  { name: 'no Authorization header', key: null, body: { input: goodInput, output }, status: 401, code: 'InvalidApiKey', message: 'missing' },
  { name: 'an unknown API key', key: 'vs-not-a-real-key-0000000000000000', body: { input: goodInput, output }, status: 401, code: 'InvalidApiKey', message: 'not valid' },
  { name: 'Basic instead of Bearer', key: null, headers: { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` }, body: { input: goodInput, output }, status: 401, code: 'InvalidApiKey', message: 'Bearer' },
  { name: 'an unknown route', path: () => '/v3/openapi/workspaces/default/video-snapshot', status: 404, code: 'NotFound', message: 'No route POST' },
  { name: 'GET on the sync route', method: 'GET', path: (s) => s.apiPath('sync'), status: 404, code: 'NotFound', message: 'No route GET' },
];

describe('malformed requests', () => {
  it('has a row for at least 30 kinds of bad request', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  it.each(rows)('$name → $status $code', async (row) => {
    const rawBody = typeof row.rawBody === 'function' ? row.rawBody() : row.rawBody;
    const response = await service.request(row.method ?? 'POST', (row.path ?? ((s: Service) => s.apiPath('sync')))(service), {
      key: row.key === null ? undefined : (row.key ?? key),
      ...(row.headers === undefined ? {} : { headers: row.headers }),
      ...(row.body === undefined ? {} : { body: row.body }),
      ...(rawBody === undefined ? {} : { rawBody }),
    });
    expect(response.status, response.text).toBe(row.status);
    expect(Object.keys(response.body).sort()).toEqual(['code', 'http_code', 'latency', 'message', 'request_id']);
    expect(response.body).toMatchObject({ code: row.code, http_code: row.status });
    expect(response.body.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get('x-request-id')).toBe(response.body.request_id);
    expect(response.body.latency).toBeTypeOf('number');
    const message = String(response.body.message);
    if (typeof row.message === 'string') expect(message).toContain(row.message);
    else expect(message).toMatch(row.message);
    expect(message).not.toContain(dataDir);
    expect(message).not.toMatch(/\n|\s at /);
  });

  it('keeps serving after every one of them', async () => {
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content: dataUri(video) }, parameters: { interval: 2 }, output: { type: 'base64' } },
    });
    expect(response.status, response.text).toBe(200);
    expect((response.body.result as { status: string }).status).toBe('SUCCESS');
    expect((await service.request('GET', '/health')).status).toBe(200);
  });

  it('answers a truncated video with a message that says why', async () => {
    const truncated = await truncatedBytes(fixtureNamed('mp4-h264'), 0.4);
    const response = await service.request('POST', service.apiPath('sync'), {
      key,
      body: { input: { content: dataUri(truncated) }, output: { type: 'base64' } },
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.code).toBe('InvalidParameter');
    expect(String(response.body.message)).toMatch(/^input\.content: /);
    expect(String(response.body.message)).not.toContain(dataDir);
  });
});
