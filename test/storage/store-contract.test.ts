/**
 * The Store contract of src/storage/store.ts, one table of cases run against
 * every backend: LocalStore on a temporary directory and S3Store on s3rver.
 * Each case gets a fresh, empty bucket. What only one backend does (local
 * confinement, presigned URLs, timeouts) is tested in that backend's file.
 *
 * Not here: that no reader sees a partial object while a write is in
 * flight. LocalStore proves it in its own tests; S3Store makes one
 * PutObject, which S3 applies atomically but s3rver writes in place.
 */

import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { LocalStore } from '../../src/storage/local-store.js';
import { formatOssUrl, parseOssObjectUrl } from '../../src/storage/oss-url.js';
import { S3Store } from '../../src/storage/s3-store.js';
import type { Store } from '../../src/storage/store.js';
import { type S3rver, s3rverCredentials, startS3rver } from '../helpers/s3rver.js';

interface Backend {
  name: string;
  /** A store in which the bucket `bucket` exists and is empty. */
  fresh(): Promise<{ store: Store; bucket: string }>;
  /** A store whose storage cannot be reached: any I/O fails or finds nothing. */
  unreachable(): Promise<Store>;
}

let root: string;
let s3rver: S3rver;
let bucketCount = 0;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'vsnap-contract-'));
  s3rver = await startS3rver([]);
  process.env.AWS_ACCESS_KEY_ID = s3rverCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3rverCredentials.secretAccessKey;
});

afterAll(async () => {
  await s3rver?.stop();
  await fs.rm(root, { recursive: true, force: true });
});

const backends: Backend[] = [
  {
    name: 'LocalStore',
    async fresh() {
      return { store: new LocalStore(await fs.mkdtemp(path.join(root, 'data-'))), bucket: 'bucket' };
    },
    async unreachable() {
      // Below a regular file, so no directory can ever be made there.
      const file = path.join(await fs.mkdtemp(path.join(root, 'file-')), 'file');
      await fs.writeFile(file, '');
      return new LocalStore(path.join(file, 'data'));
    },
  },
  {
    name: 'S3Store',
    async fresh() {
      bucketCount += 1;
      const bucket = `contract-${bucketCount}`;
      await s3rver.createBucket(bucket);
      return { store: new S3Store({ ...s3rver.storeConfig }), bucket };
    },
    async unreachable() {
      return new S3Store({ ...s3rver.storeConfig, endpoint: `http://127.0.0.1:${await closedPort()}` });
    },
  },
];

/** A loopback port on which nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function rejection(code: string, fragment: string): unknown {
  return expect.objectContaining({ code, message: expect.stringContaining(fragment) });
}

describe.each(backends)('$name keeps the Store contract', (backend) => {
  let store: Store;
  let bucket: string;
  const url = (key: string): string => formatOssUrl(bucket, key);

  beforeEach(async () => {
    ({ store, bucket } = await backend.fresh());
  });

  it('writes, stats and reads back binary bytes, including a view into a larger buffer', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    await store.write(url('out/task 1/snapshot_0.jpg'), bytes);
    expect(await store.stat(url('out/task 1/snapshot_0.jpg'))).toEqual({ size: 512 });
    expect((await store.readFile(url('out/task 1/snapshot_0.jpg'))).equals(bytes)).toBe(true);

    const view = new Uint8Array(bytes.buffer, bytes.byteOffset + 100, 50);
    await store.write(url('view.bin'), view);
    expect((await store.readFile(url('view.bin'))).equals(bytes.subarray(100, 150))).toBe(true);

    await store.write(url('empty.bin'), new Uint8Array(0));
    expect(await store.stat(url('empty.bin'))).toEqual({ size: 0 });
    expect(await store.readFile(url('empty.bin'))).toEqual(Buffer.alloc(0));
  });

  it('gives a local file holding the object, or undefined when it keeps objects elsewhere', async () => {
    await store.write(url('clip.mp4'), Buffer.from('video'));
    const file = await store.localPath(url('clip.mp4'));
    if (file !== undefined) expect(await fs.readFile(file, 'utf8')).toBe('video');
  });

  it('reports a missing object as undefined from stat and VSNAP_STORAGE_NOT_FOUND from readFile', async () => {
    const missing = url('missing/clip.mp4');
    expect(await store.stat(missing)).toBeUndefined();
    await expect(store.readFile(missing)).rejects.toEqual(
      rejection('VSNAP_STORAGE_NOT_FOUND', `No object at ${JSON.stringify(missing)}`),
    );
  });

  it('treats a prefix as no object', async () => {
    await store.write(url('dir/x.jpg'), Buffer.from('x'));
    expect(await store.stat(url('dir'))).toBeUndefined();
    await expect(store.readFile(url('dir'))).rejects.toEqual(rejection('VSNAP_STORAGE_NOT_FOUND', 'dir'));
  });

  it('replaces an object whole: a shorter write leaves nothing of the longer one', async () => {
    await store.write(url('a.bin'), Buffer.from('first, longer content'));
    await store.write(url('a.bin'), Buffer.from('second'));
    expect((await store.readFile(url('a.bin'))).toString()).toBe('second');
    expect(await store.stat(url('a.bin'))).toEqual({ size: 6 });
  });

  describe('list and remove', () => {
    // Ａ (U+FF21) sorts after 😀 (U+1F600) by UTF-16 code units and before it by UTF-8 bytes.
    const keys = [
      'out/b.jpg',
      'out/a b/中.jpg',
      'out/t/100%.jpg',
      'out/\uff21.jpg',
      'out/\u{1f600}.jpg',
      'out-x/y.jpg',
      'outside.jpg',
      'z.jpg',
    ];

    beforeEach(async () => {
      for (const key of keys) await store.write(url(key), Buffer.from(key));
    });

    it('lists every object under a prefix as formatOssUrl writes it, in key byte order', async () => {
      const expected = [
        `oss://${bucket}/out/a%20b/%E4%B8%AD.jpg`,
        `oss://${bucket}/out/b.jpg`,
        `oss://${bucket}/out/t/100%25.jpg`,
        `oss://${bucket}/out/%EF%BC%A1.jpg`,
        `oss://${bucket}/out/%F0%9F%98%80.jpg`,
      ];
      expect(await store.list(`oss://${bucket}/out`)).toEqual(expected);
      expect(await store.list(`oss://${bucket}/out/`)).toEqual(expected);
      expect(await store.list(`oss://${bucket}/out/t`)).toEqual([`oss://${bucket}/out/t/100%25.jpg`]);
      const all = await store.list(`oss://${bucket}`);
      expect(all).toHaveLength(keys.length);
      for (const listed of all) {
        expect((await store.readFile(listed)).toString()).toBe(parseOssObjectUrl(listed).key);
      }
    });

    it('lists nothing under a missing prefix or under the object a prefix URL names', async () => {
      expect(await store.list(`oss://${bucket}/nope`)).toEqual([]);
      expect(await store.list(`oss://${bucket}/z.jpg`)).toEqual([]);
      expect(await store.list(`oss://${bucket}/ou`)).toEqual([]);
    });

    it('removes everything under a prefix and nothing else, idempotently', async () => {
      await store.remove(`oss://${bucket}/out`);
      expect(await store.list(`oss://${bucket}`)).toEqual([
        `oss://${bucket}/out-x/y.jpg`,
        `oss://${bucket}/outside.jpg`,
        `oss://${bucket}/z.jpg`,
      ]);
      await store.remove(`oss://${bucket}/out/`);
      await store.remove(`oss://${bucket}/never/was`);
      expect(await store.list(`oss://${bucket}`)).toHaveLength(3);
    });

    it('does not remove the object a prefix URL names', async () => {
      await store.remove(`oss://${bucket}/z.jpg`);
      expect(await store.stat(`oss://${bucket}/z.jpg`)).toEqual({ size: 5 });
    });

    it('refuses to remove a whole bucket', async () => {
      for (const root of [`oss://${bucket}`, `oss://${bucket}/`]) {
        await expect(store.remove(root)).rejects.toEqual(
          rejection('VSNAP_INVALID_STORAGE_PATH', 'removing a whole bucket is refused'),
        );
      }
      expect(await store.list(`oss://${bucket}`)).toHaveLength(keys.length);
    });
  });

  describe('refuses invalid URLs before any I/O', () => {
    let unreachable: Store;

    beforeEach(async () => {
      unreachable = await backend.unreachable();
    });

    it.each([
      ['an empty key', 'oss://bucket-name/', 'the object key is empty'],
      ['a trailing slash', 'oss://bucket-name/dir/', "ends with '/'"],
      ['an empty segment', 'oss://bucket-name/a//b.jpg', 'empty segment'],
      ['an encoded .. segment', 'oss://bucket-name/%2e%2e/secret', "'..' segment"],
      ['another scheme', 's3://bucket-name/a.jpg', 'the scheme must be oss://'],
      ['an uppercase bucket', 'oss://Bucket/a.jpg', 'the bucket must be'],
      ['a raw ?', 'oss://bucket-name/a.jpg?x=1', "'?' must be percent-encoded"],
      ['a bad escape', 'oss://bucket-name/100%.jpg', "'%' that is not followed"],
    ])('an object URL with %s', async (_name, bad, fragment) => {
      const refused = rejection('VSNAP_INVALID_STORAGE_PATH', fragment);
      await expect(unreachable.stat(bad)).rejects.toEqual(refused);
      await expect(unreachable.readFile(bad)).rejects.toEqual(refused);
      await expect(unreachable.localPath(bad)).rejects.toEqual(refused);
      await expect(unreachable.write(bad, Buffer.from('x'))).rejects.toEqual(refused);
      if (unreachable.rangeUrl !== undefined) await expect(unreachable.rangeUrl(bad, 60)).rejects.toEqual(refused);
    });

    it.each([
      ['an empty segment', 'oss://bucket-name/a//b', 'empty segment'],
      ['a .. segment', 'oss://bucket-name/out/..', "'..' segment"],
      ['an absolute key', 'oss://bucket-name//', 'absolute'],
      ['another scheme', 's3://bucket-name/out', 'the scheme must be oss://'],
      ['a short bucket', 'oss://bu/out', 'the bucket must be'],
    ])('a prefix URL with %s', async (_name, bad, fragment) => {
      const refused = rejection('VSNAP_INVALID_STORAGE_PATH', fragment);
      await expect(unreachable.list(bad)).rejects.toEqual(refused);
      await expect(unreachable.remove(bad)).rejects.toEqual(refused);
    });

    it('a value that is not a string', async () => {
      const refused = rejection('VSNAP_INVALID_STORAGE_PATH', 'expected a string');
      await expect(unreachable.stat(42 as unknown as string)).rejects.toEqual(refused);
      await expect(unreachable.list(undefined as unknown as string)).rejects.toEqual(refused);
    });

    it('while a valid URL on the same store does reach its storage', async () => {
      await expect(unreachable.write('oss://bucket-name/a.jpg', Buffer.from('x'))).rejects.toThrow(
        /^Could not write "oss:\/\/bucket-name\/a\.jpg": /,
      );
    });
  });
});
