/**
 * What only S3Store does, against s3rver: presigned range reads, a large
 * object, failing fast and cleanly when the store is down or the bucket is
 * missing, never showing credentials, DeleteObjects as S3-compatible stores
 * need it, and its store configuration. The Store contract itself is in
 * store-contract.test.ts.
 *
 * s3rver checks the access key but no SigV4 signature, so this file signs
 * with a secret of its own and looks for it in every error.
 */

import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { inspect } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalStore } from '../../src/storage/local-store.js';
import { S3Store } from '../../src/storage/s3-store.js';
import { createStore, parseStoreConfig, storeConfigOf } from '../../src/storage/store-config.js';
import { type S3rver, s3rverCredentials, startS3rver } from '../helpers/s3rver.js';

const secret = 'vsnap-test-secret-9f2c41d7e3';
const bucket = 'media';

let s3rver: S3rver;
let store: S3Store;

beforeAll(async () => {
  s3rver = await startS3rver([bucket]);
  process.env.AWS_ACCESS_KEY_ID = s3rverCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = secret;
  store = new S3Store(s3rver.storeConfig);
});

afterAll(async () => {
  await s3rver?.stop();
});

/** Awaits `promise`, which must reject, and returns the rejection. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection with an Error, got ${inspect(error)}`);
  return error;
}

function expectNoSecret(error: Error): void {
  expect(error.message).not.toContain(secret);
  expect(inspect(error, { depth: 8 })).not.toContain(secret);
}

describe('S3Store range reads', () => {
  const url = `oss://${bucket}/videos/clip one.mp4`;
  const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

  beforeAll(async () => {
    await store.write(url, bytes);
  });

  it('gives a presigned URL of the endpoint that answers a range request with exactly those bytes', async () => {
    const signed = await store.rangeUrl(url, 300);
    expect(signed?.startsWith(`${s3rver.endpoint}/${bucket}/videos/clip%20one.mp4?`)).toBe(true);
    expect(signed).toContain('X-Amz-Expires=300');
    const response = await fetch(signed as string, { headers: { Range: 'bytes=10-19' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('bytes 10-19/100');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes.subarray(10, 20));
  });

  it('signs without a request, so a missing object is the server\'s 404 when the URL is read', async () => {
    const signed = await store.rangeUrl(`oss://${bucket}/videos/missing.mp4`, 60);
    expect((await fetch(signed as string)).status).toBe(404);
  });

  it.each([0, -1, 1.5, 7 * 24 * 3600 + 1, Number.NaN])('refuses a lifetime of %s seconds', async (ttl) => {
    await expect(store.rangeUrl(url, ttl)).rejects.toThrow(/^Expected an integer from 1 to 604800 for ttlSeconds/);
  });
});

describe('S3Store large objects', () => {
  it('writes and reads back 10 MB', async () => {
    const url = `oss://${bucket}/large/10mb.bin`;
    const bytes = randomBytes(10 * 1024 * 1024);
    await store.write(url, bytes);
    expect(await store.stat(url)).toEqual({ size: bytes.length });
    expect((await store.readFile(url)).equals(bytes)).toBe(true);
  });
});

describe('S3Store failures', () => {
  it('fails within seconds once the server is down, naming the operation and URL', async () => {
    const own = await startS3rver(['gone']);
    const doomed = new S3Store(own.storeConfig);
    await doomed.write('oss://gone/a.jpg', Buffer.from('a'));
    await own.stop();
    const calls: [string, string, () => Promise<unknown>][] = [
      ['stat', 'oss://gone/a.jpg', () => doomed.stat('oss://gone/a.jpg')],
      ['read', 'oss://gone/a.jpg', () => doomed.readFile('oss://gone/a.jpg')],
      ['write', 'oss://gone/b.jpg', () => doomed.write('oss://gone/b.jpg', Buffer.from('b'))],
      ['list', 'oss://gone/out', () => doomed.list('oss://gone/out')],
      ['remove', 'oss://gone/out', () => doomed.remove('oss://gone/out')],
    ];
    for (const [operation, url, call] of calls) {
      const started = Date.now();
      const error = await failure(call());
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error.message).toMatch(new RegExp(`^Could not ${operation} ${JSON.stringify(url)}: .*ECONNREFUSED`));
      expect(error.cause).toBeInstanceOf(Error);
      expectNoSecret(error);
    }
  });

  it('names a missing bucket when writing, listing or removing; reads find no object', async () => {
    const named = 'the bucket "no-such-bucket" does not exist in the configured store';
    for (const [operation, call] of [
      ['write', () => store.write('oss://no-such-bucket/a.jpg', Buffer.from('a'))],
      ['list', () => store.list('oss://no-such-bucket/out')],
      ['remove', () => store.remove('oss://no-such-bucket/out')],
    ] as const) {
      const error = await failure(call());
      expect(error.message).toMatch(new RegExp(`^Could not ${operation} "oss://no-such-bucket/.*": ${named}$`));
      expectNoSecret(error);
    }
    expect(await store.stat('oss://no-such-bucket/a.jpg')).toBeUndefined();
    await expect(store.readFile('oss://no-such-bucket/a.jpg')).rejects.toMatchObject({
      code: 'VSNAP_STORAGE_NOT_FOUND',
    });
  });

  it('shows neither the access key nor the secret when the server refuses the credentials', async () => {
    const accessKey = 'AKIAVSNAPUNKNOWN0001';
    process.env.AWS_ACCESS_KEY_ID = accessKey;
    try {
      const refused = new S3Store(s3rver.storeConfig);
      for (const call of [
        () => refused.write(`oss://${bucket}/a.jpg`, Buffer.from('a')),
        () => refused.readFile(`oss://${bucket}/a.jpg`),
        () => refused.list(`oss://${bucket}/out`),
      ]) {
        const error = await failure(call());
        expect(error.message).toMatch(/^Could not \w+ "oss:\/\/media\/.*": .*InvalidAccessKeyId, HTTP 403/);
        expect(error.message).not.toContain(accessKey);
        expectNoSecret(error);
      }
    } finally {
      process.env.AWS_ACCESS_KEY_ID = s3rverCredentials.accessKeyId;
    }
  });
});

/** A proxy to s3rver that keeps every request it forwards, to see what the SDK sent. */
async function recordingProxy(target: string): Promise<{ endpoint: string; seen: RecordedRequest[]; close(): Promise<void> }> {
  const seen: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const forward = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', (error) => res.destroy(error));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

describe('S3Store listing and removing many objects', () => {
  it('lists across pages and removes in DeleteObjects batches of 1000 carrying Content-MD5', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, '0')}.jpg`);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(
        keys.slice(start, start + 50).map((key) => store.write(`oss://${bucket}/${key}`, Buffer.from(key))),
      );
    }
    await store.write(`oss://${bucket}/manyside.jpg`, Buffer.from('kept'));

    const proxy = await recordingProxy(s3rver.endpoint);
    try {
      const proxied = new S3Store({ ...s3rver.storeConfig, endpoint: proxy.endpoint });
      const listed = await proxied.list(`oss://${bucket}/many`);
      expect(listed).toEqual(keys.map((key) => `oss://${bucket}/${key}`));
      expect(proxy.seen.filter((request) => request.url.includes('list-type=2')).length).toBeGreaterThan(1);

      await proxied.remove(`oss://${bucket}/many`);
      const deletes = proxy.seen.filter((request) => request.method === 'POST' && /[?&]delete/.test(request.url));
      expect(deletes.map((request) => (request.body.toString().match(/<Key>/g) ?? []).length)).toEqual([1000, 1]);
      for (const request of deletes) {
        expect(request.headers['content-md5']).toBe(createHash('md5').update(request.body).digest('base64'));
        expect(Object.keys(request.headers).filter((name) => name.startsWith('x-amz-checksum-'))).toEqual([]);
      }
    } finally {
      await proxy.close();
    }
    expect(await store.list(`oss://${bucket}/many`)).toEqual([]);
    expect(await store.stat(`oss://${bucket}/manyside.jpg`)).toEqual({ size: 4 });
  });
});

describe('S3 store configuration', () => {
  it('survives JSON, with or without an endpoint, and builds a working S3Store', async () => {
    const config = parseStoreConfig(JSON.parse(JSON.stringify(s3rver.storeConfig)));
    expect(config).toEqual({ type: 's3', endpoint: s3rver.endpoint, region: 'us-east-1', forcePathStyle: true });
    const built = createStore(config);
    expect(built).toBeInstanceOf(S3Store);
    await built.write(`oss://${bucket}/config/a.txt`, Buffer.from('a'));
    expect((await store.readFile(`oss://${bucket}/config/a.txt`)).toString()).toBe('a');

    const aws = { type: 's3', region: 'eu-central-1', forcePathStyle: false };
    expect(parseStoreConfig(aws)).toEqual(aws);
  });

  it('is made from the serve settings, credentials left to the environment', () => {
    const settings = { dataDir: '/srv/vsnap', s3Endpoint: undefined, s3Region: 'us-east-1', s3ForcePathStyle: false };
    expect(storeConfigOf({ ...settings, storage: 'local' })).toEqual({ type: 'local', dataDir: '/srv/vsnap' });
    expect(storeConfigOf({ ...settings, storage: 's3' })).toStrictEqual({
      type: 's3',
      region: 'us-east-1',
      forcePathStyle: false,
    });
    expect(storeConfigOf({ ...settings, storage: 's3', s3Endpoint: 'http://minio:9000', s3ForcePathStyle: true })).toEqual(
      { type: 's3', endpoint: 'http://minio:9000', region: 'us-east-1', forcePathStyle: true },
    );
    expect(createStore(storeConfigOf({ ...settings, storage: 'local' }))).toBeInstanceOf(LocalStore);
  });

  const valid = { type: 's3', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true };
  it.each([
    ['a missing region', { ...valid, region: undefined }, 'for store.region but received undefined'],
    ['a region in capitals', { ...valid, region: 'EU_WEST' }, 'for store.region but received "EU_WEST"'],
    ['forcePathStyle as a string', { ...valid, forcePathStyle: 'true' }, 'for store.forcePathStyle but received "true"'],
    ['a missing forcePathStyle', { ...valid, forcePathStyle: undefined }, 'for store.forcePathStyle'],
    ['an ftp endpoint', { ...valid, endpoint: 'ftp://host' }, 'for store.endpoint but received "ftp://host"'],
    ['an endpoint that is not a string', { ...valid, endpoint: 9000 }, 'for store.endpoint but received 9000'],
    ['an unknown type', { ...valid, type: 'gcs' }, 'Expected "local" or "s3" for store.type but received "gcs"'],
  ])('refuses %s, naming the field', (_name, config, fragment) => {
    expect(() => parseStoreConfig(config)).toThrow(fragment);
  });

  it('refuses an endpoint with a password without showing it', () => {
    const config = { ...valid, endpoint: 'http://admin:hunter2-pass@127.0.0.1:9000' };
    expect(() => parseStoreConfig(config)).toThrow(/^Expected an http:\/\/ or https:\/\/ URL for store\.endpoint without/);
    expect(() => parseStoreConfig(config)).not.toThrow(/hunter2/);
  });
});
