import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LocalStore } from '../../src/storage/local-store.js';
import { formatOssUrl, parseOssObjectUrl } from '../../src/storage/oss-url.js';

let root: string;
let dataDir: string;
let outside: string;
let store: LocalStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'vsnap-store-'));
  dataDir = path.join(root, 'data');
  outside = path.join(root, 'outside');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'secret');
  store = new LocalStore(dataDir);
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function rejection(code: string, fragment: string): unknown {
  return expect.objectContaining({ code, message: expect.stringContaining(fragment) });
}

async function bucketDir(bucket: string): Promise<string> {
  const dir = path.join(dataDir, 'oss', bucket);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

async function tmpEntries(): Promise<string[]> {
  return fs.readdir(path.join(dataDir, 'oss', '.tmp'));
}

describe('LocalStore objects', () => {
  it('writes, reads back, stats and locates an object under DATA_DIR/oss/bucket/key', async () => {
    const url = 'oss://bucket-name/result/path/task%201/snapshot_0.jpg';
    await store.write(url, Buffer.from('jpeg bytes'));
    expect(await store.readFile(url)).toEqual(Buffer.from('jpeg bytes'));
    expect(await store.stat(url)).toEqual({ size: 10 });
    const file = path.join(dataDir, 'oss', 'bucket-name', 'result', 'path', 'task 1', 'snapshot_0.jpg');
    expect(await store.localPath(url)).toBe(file);
    expect(await fs.readFile(file, 'utf8')).toBe('jpeg bytes');
    expect(await tmpEntries()).toEqual([]);
  });

  it('replaces an existing object', async () => {
    await store.write('oss://bucket/a.bin', Buffer.from('first, longer content'));
    await store.write('oss://bucket/a.bin', Buffer.from('second'));
    expect((await store.readFile('oss://bucket/a.bin')).toString()).toBe('second');
  });

  it('reports a missing object as undefined from stat and VSNAP_STORAGE_NOT_FOUND elsewhere', async () => {
    const url = 'oss://bucket/missing/clip.mp4';
    expect(await store.stat(url)).toBeUndefined();
    await expect(store.readFile(url)).rejects.toEqual(rejection('VSNAP_STORAGE_NOT_FOUND', `No object at "${url}"`));
    await expect(store.localPath(url)).rejects.toEqual(rejection('VSNAP_STORAGE_NOT_FOUND', url));
  });

  it('treats a prefix directory, and a path through a file, as no object', async () => {
    await store.write('oss://bucket/dir/x.jpg', Buffer.from('x'));
    expect(await store.stat('oss://bucket/dir')).toBeUndefined();
    await expect(store.readFile('oss://bucket/dir')).rejects.toEqual(rejection('VSNAP_STORAGE_NOT_FOUND', 'dir'));
    expect(await store.stat('oss://bucket/dir/x.jpg/y')).toBeUndefined();
    await expect(store.readFile('oss://bucket/dir/x.jpg/y')).rejects.toEqual(
      rejection('VSNAP_STORAGE_NOT_FOUND', 'x.jpg/y'),
    );
  });

  it('refuses an invalid URL before touching the disk', async () => {
    await expect(store.write('oss://bucket/a//b.jpg', Buffer.from('x'))).rejects.toEqual(
      rejection('VSNAP_INVALID_STORAGE_PATH', 'empty segment'),
    );
    await expect(store.stat('oss://bucket/')).rejects.toEqual(
      rejection('VSNAP_INVALID_STORAGE_PATH', 'the object key is empty'),
    );
    await expect(fs.access(dataDir)).rejects.toThrow();
  });

  it('names the operation and URL when the file system refuses, and leaves no temporary file', async () => {
    await store.write('oss://bucket/taken/inner.jpg', Buffer.from('x'));
    await expect(store.write('oss://bucket/taken', Buffer.from('y'))).rejects.toThrow(
      /^Could not write "oss:\/\/bucket\/taken": /,
    );
    expect(await tmpEntries()).toEqual([]);
  });
});

describe('LocalStore atomic writes', () => {
  it('never shows a partial object while a large write is in flight', async () => {
    const url = 'oss://bucket/big.bin';
    const bytes = Buffer.alloc(32 * 1024 * 1024, 7);
    const seen = new Set<number | undefined>();
    let done = false;
    const writing = store.write(url, bytes).finally(() => {
      done = true;
    });
    while (!done) {
      seen.add((await store.stat(url))?.size);
    }
    await writing;
    seen.add((await store.stat(url))?.size);
    for (const size of seen) expect([undefined, bytes.length]).toContain(size);
    expect(seen.has(bytes.length)).toBe(true);
    expect((await store.readFile(url)).equals(bytes)).toBe(true);
  });

  it('ends concurrent writes to one key with exactly one complete content', async () => {
    const url = 'oss://bucket/same/key.bin';
    const contents = Array.from({ length: 16 }, (_, i) => Buffer.alloc(256 * 1024 + i, i));
    await Promise.all(contents.map((bytes) => store.write(url, bytes)));
    const result = await store.readFile(url);
    expect(contents.filter((bytes) => bytes.equals(result))).toHaveLength(1);
    expect(await tmpEntries()).toEqual([]);
  });
});

describe('LocalStore confinement', () => {
  it.each([
    ['a .. segment', 'oss://bucket/../outside/secret.txt', "'..' segment"],
    ['an encoded .. segment', 'oss://bucket/%2e%2e/%2e%2e/outside/secret.txt', "'..' segment"],
    ['an encoded slash and ..', 'oss://bucket/a%2F..%2F..%2Fsecret.txt', "'..' segment"],
    ['an encoded absolute key', 'oss://bucket/%2Fetc%2Fpasswd', 'absolute'],
  ])('refuses %s', async (_name, url, fragment) => {
    await expect(store.readFile(url)).rejects.toEqual(rejection('VSNAP_INVALID_STORAGE_PATH', fragment));
    await expect(store.write(url, Buffer.from('x'))).rejects.toEqual(
      rejection('VSNAP_INVALID_STORAGE_PATH', fragment),
    );
  });

  it('refuses to read or write through a directory link planted in the bucket', async () => {
    await fs.symlink(outside, path.join(await bucketDir('bucket'), 'evil'));
    const escape = rejection('VSNAP_INVALID_STORAGE_PATH', 'outside its bucket through a symbolic link');
    await expect(store.readFile('oss://bucket/evil/secret.txt')).rejects.toEqual(escape);
    await expect(store.stat('oss://bucket/evil/secret.txt')).rejects.toEqual(escape);
    await expect(store.localPath('oss://bucket/evil/secret.txt')).rejects.toEqual(escape);
    await expect(store.write('oss://bucket/evil/sub/new.txt', Buffer.from('x'))).rejects.toEqual(escape);
    await expect(store.list('oss://bucket/evil')).rejects.toEqual(escape);
    await expect(store.remove('oss://bucket/evil')).rejects.toEqual(escape);
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
  });

  it('refuses to read through a file link planted in the bucket', async () => {
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(await bucketDir('bucket'), 'passwd'));
    await expect(store.readFile('oss://bucket/passwd')).rejects.toEqual(
      rejection('VSNAP_INVALID_STORAGE_PATH', 'through a symbolic link'),
    );
  });

  it('refuses to write through a dangling link, which would create its target', async () => {
    await fs.symlink(path.join(outside, 'made'), path.join(await bucketDir('bucket'), 'dangling'));
    await expect(store.write('oss://bucket/dangling/x.txt', Buffer.from('x'))).rejects.toEqual(
      rejection('VSNAP_INVALID_STORAGE_PATH', 'through a symbolic link'),
    );
    await expect(fs.access(path.join(outside, 'made'))).rejects.toThrow();
  });

  it('refuses a bucket directory that links elsewhere', async () => {
    await fs.mkdir(path.join(dataDir, 'oss'), { recursive: true });
    await fs.symlink(outside, path.join(dataDir, 'oss', 'linked'));
    await expect(store.readFile('oss://linked/secret.txt')).rejects.toEqual(
      rejection('VSNAP_INVALID_STORAGE_PATH', 'through a symbolic link'),
    );
  });

  it('follows a link that stays inside the bucket', async () => {
    await store.write('oss://bucket/real/clip.mp4', Buffer.from('video'));
    await fs.symlink('real', path.join(dataDir, 'oss', 'bucket', 'alias'));
    expect((await store.readFile('oss://bucket/alias/clip.mp4')).toString()).toBe('video');
  });

  it('works when the data directory itself is reached through a link', async () => {
    await fs.mkdir(dataDir);
    const linkedData = path.join(root, 'linked-data');
    await fs.symlink(dataDir, linkedData);
    const linkedStore = new LocalStore(linkedData);
    await linkedStore.write('oss://bucket/a.jpg', Buffer.from('a'));
    expect((await store.readFile('oss://bucket/a.jpg')).toString()).toBe('a');
  });
});

describe('LocalStore list and remove', () => {
  const keys = ['out/b.jpg', 'out/a b/中.jpg', 'out/t/100%.jpg', 'out-x/y.jpg', 'outside.jpg', 'z.jpg'];

  beforeEach(async () => {
    for (const key of keys) await store.write(formatOssUrl('bucket', key), Buffer.from(key));
  });

  it('lists every object under a prefix as a formatted URL, in key byte order', async () => {
    const expected = [
      'oss://bucket/out/a%20b/%E4%B8%AD.jpg',
      'oss://bucket/out/b.jpg',
      'oss://bucket/out/t/100%25.jpg',
    ];
    expect(await store.list('oss://bucket/out')).toEqual(expected);
    expect(await store.list('oss://bucket/out/')).toEqual(expected);
    const all = await store.list('oss://bucket');
    expect(all).toHaveLength(keys.length);
    for (const url of all) {
      const { key } = parseOssObjectUrl(url);
      expect((await store.readFile(url)).toString()).toBe(key);
    }
  });

  it('lists nothing under a missing prefix, an object, or a missing data directory', async () => {
    expect(await store.list('oss://bucket/nope')).toEqual([]);
    expect(await store.list('oss://bucket/z.jpg')).toEqual([]);
    expect(await store.list('oss://other-bucket')).toEqual([]);
    expect(await new LocalStore(path.join(root, 'never-made')).list('oss://bucket/out')).toEqual([]);
  });

  it('skips links and files whose names are not keys', async () => {
    const dir = path.join(dataDir, 'oss', 'bucket', 'out');
    await fs.symlink(outside, path.join(dir, 'link-dir'));
    await fs.symlink(path.join(dir, 'b.jpg'), path.join(dir, 'link-file.jpg'));
    await fs.writeFile(path.join(dir, 'back\\slash.jpg'), 'x');
    await fs.writeFile(path.join(dir, 'ctl\u0001.jpg'), 'x');
    expect(await store.list('oss://bucket/out')).toHaveLength(3);
  });

  it('removes everything under a prefix and nothing else, idempotently', async () => {
    await store.remove('oss://bucket/out');
    expect(await store.list('oss://bucket')).toEqual([
      'oss://bucket/out-x/y.jpg',
      'oss://bucket/outside.jpg',
      'oss://bucket/z.jpg',
    ]);
    await store.remove('oss://bucket/out/');
    await store.remove('oss://bucket/never/was');
    await store.remove('oss://other-bucket/out');
  });

  it('does not remove the object a prefix URL names', async () => {
    await store.remove('oss://bucket/z.jpg');
    expect(await store.stat('oss://bucket/z.jpg')).toEqual({ size: 5 });
  });

  it('refuses to remove a whole bucket', async () => {
    await expect(store.remove('oss://bucket/')).rejects.toEqual(
      rejection('VSNAP_INVALID_STORAGE_PATH', 'removing a whole bucket is refused'),
    );
    expect(await store.list('oss://bucket')).toHaveLength(keys.length);
  });
});
