/**
 * The default Store: objects are files under a data directory.
 * `oss://bucket/a/b.jpg` is the file `DATA_DIR/oss/bucket/a/b.jpg`.
 *
 * Confinement: a location must stay inside `DATA_DIR/oss/<bucket>` twice
 * over: lexically (path.resolve) and for real, by resolving the deepest
 * existing ancestor of the path with fs.realpath (following a dangling
 * symbolic link by hand), so a symbolic link planted in the data directory
 * cannot lead a read or a write outside the bucket. The real bucket
 * directory is `realpath(DATA_DIR/oss)/<bucket>`: a bucket directory that is
 * itself a link elsewhere is refused too. The check guards against links
 * already present; it cannot stop a process that swaps links between the
 * check and the open, and such a process already controls the data.
 *
 * Writes go to a temporary file in `DATA_DIR/oss/.tmp` (no bucket can be
 * named `.tmp`, so it never shows up in a listing) that is flushed and then
 * renamed into place. `DATA_DIR/oss` must therefore be one file system, as
 * rename cannot cross file systems.
 *
 * Listing walks real directories only: symbolic links and files whose names
 * are not valid keys (put there by hand) are skipped, so every listed URL
 * parses. Removing a prefix that is a symbolic link removes the link.
 */

import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

import { invalidStoragePath, StorageError, storageNotFound } from './errors.js';
import {
  formatOssUrl,
  isValidKey,
  isValidKeySegment,
  type OssLocation,
  parseOssObjectUrl,
  parseOssPrefixUrl,
} from './oss-url.js';
import type { ObjectStat, Store } from './store.js';

export class LocalStore implements Store {
  readonly #ossDir: string;
  readonly #tmpDir: string;

  /** `dataDir` may be relative (to the working directory) and need not exist yet. */
  constructor(dataDir: string) {
    this.#ossDir = path.resolve(dataDir, 'oss');
    this.#tmpDir = path.join(this.#ossDir, '.tmp');
  }

  async stat(url: string): Promise<ObjectStat | undefined> {
    return withContext('stat', url, async () => {
      return statFile(await this.#resolve(url, parseOssObjectUrl(url)));
    });
  }

  async readFile(url: string): Promise<Buffer> {
    return withContext('read', url, async () => {
      const file = await this.#resolve(url, parseOssObjectUrl(url));
      try {
        return await fs.readFile(file);
      } catch (error) {
        // A directory is a prefix, not an object.
        if (isMissing(error) || errorCode(error) === 'EISDIR') throw storageNotFound(url, error);
        throw error;
      }
    });
  }

  async localPath(url: string): Promise<string | undefined> {
    return withContext('locate', url, async () => {
      const file = await this.#resolve(url, parseOssObjectUrl(url));
      if ((await statFile(file)) === undefined) throw storageNotFound(url);
      return file;
    });
  }

  async write(url: string, bytes: Uint8Array): Promise<void> {
    return withContext('write', url, async () => {
      const file = await this.#resolve(url, parseOssObjectUrl(url));
      await fs.mkdir(this.#tmpDir, { recursive: true });
      const tmp = path.join(this.#tmpDir, `${process.pid}-${randomUUID()}`);
      try {
        // Flushed before the rename, so a crash cannot leave a renamed but empty file.
        await fs.writeFile(tmp, bytes, { flush: true });
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.rename(tmp, file);
      } catch (error) {
        await fs.rm(tmp, { force: true });
        throw error;
      }
    });
  }

  async list(prefixUrl: string): Promise<string[]> {
    return withContext('list', prefixUrl, async () => {
      const prefix = parseOssPrefixUrl(prefixUrl);
      const dir = await this.#resolve(prefixUrl, prefix);
      const keys: string[] = [];
      await collectKeys(dir, prefix.key, keys);
      // Byte order of the UTF-8 keys, the order S3 and OSS list in.
      keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      return keys.map((key) => formatOssUrl(prefix.bucket, key));
    });
  }

  async remove(prefixUrl: string): Promise<void> {
    return withContext('remove', prefixUrl, async () => {
      const prefix = parseOssPrefixUrl(prefixUrl);
      if (prefix.key === '') throw invalidStoragePath(prefixUrl, 'removing a whole bucket is refused');
      const dir = await this.#resolve(prefixUrl, prefix);
      try {
        // A file here is the object named like the prefix, which a prefix does not cover.
        if (!(await fs.stat(dir)).isDirectory()) return;
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      await fs.rm(dir, { recursive: true, force: true });
    });
  }

  /** The file or directory of a location, after both confinement checks. */
  async #resolve(url: string, location: OssLocation): Promise<string> {
    const bucketDir = path.join(this.#ossDir, location.bucket);
    const target = location.key === '' ? bucketDir : path.resolve(bucketDir, ...location.key.split('/'));
    if (!isInside(bucketDir, target)) throw invalidStoragePath(url, 'it resolves outside its bucket');
    const realBucketDir = path.join(await realpathDeep(this.#ossDir), location.bucket);
    if (!isInside(realBucketDir, await realpathDeep(target))) {
      throw invalidStoragePath(url, 'it resolves outside its bucket through a symbolic link');
    }
    return target;
  }
}

/** A regular file's size; undefined when missing or not a file (a directory is a prefix). */
async function statFile(file: string): Promise<ObjectStat | undefined> {
  try {
    const stats = await fs.stat(file);
    return stats.isFile() ? { size: stats.size } : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * fs.realpath of the deepest existing ancestor of `p`, with the rest of `p`
 * appended. A dangling symbolic link on the way is followed by hand, since a
 * write through it would create its target.
 */
async function realpathDeep(p: string): Promise<string> {
  const rest: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(await fs.realpath(current), ...rest);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    const link = await readLinkIfAny(current);
    if (link !== undefined) return realpathDeep(path.join(path.resolve(path.dirname(current), link), ...rest));
    const parent = path.dirname(current);
    if (parent === current) return path.join(current, ...rest);
    rest.unshift(path.basename(current));
    current = parent;
  }
}

async function readLinkIfAny(p: string): Promise<string | undefined> {
  try {
    return await fs.readlink(p);
  } catch (error) {
    // EINVAL: it exists and is not a link.
    if (isMissing(error) || errorCode(error) === 'EINVAL') return undefined;
    throw error;
  }
}

/** Appends to `keys` the key of every file under `dir`, whose key is `dirKey`. */
async function collectKeys(dir: string, dirKey: string, keys: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    // No such prefix, or the prefix names a file: nothing under it.
    if (isMissing(error)) return;
    throw error;
  }
  for (const entry of entries) {
    if (!isValidKeySegment(entry.name)) continue;
    const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
    if (entry.isDirectory()) {
      await collectKeys(path.join(dir, entry.name), key, keys);
    } else if (entry.isFile() && isValidKey(key)) {
      keys.push(key);
    }
  }
}

function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/** ENOENT, or ENOTDIR: a file stands where the path needs a directory. */
function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorCode(error: unknown): unknown {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

/** Runs `body`; a failure that is not already a StorageError gains the operation and URL. */
async function withContext<T>(operation: string, url: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Could not ${operation} ${JSON.stringify(url)}: ${reason}`, { cause: error });
  }
}
