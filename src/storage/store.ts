/**
 * The storage backend interface. vsnap reads inputs from and writes results
 * to `oss://bucket/key` locations; a Store maps them to a place. The local
 * directory store (local-store.ts) is the default; an S3-compatible store
 * is another file implementing this interface.
 *
 * Contract, for every implementation
 * - URLs are parsed with oss-url.ts: object methods take an object URL,
 *   `list` and `remove` a prefix URL. An invalid URL rejects with
 *   VSNAP_INVALID_STORAGE_PATH before any I/O.
 * - A prefix names a "directory": `oss://b/out` covers `out/x.jpg` and
 *   `out/t/y.jpg`, never `outside.jpg` or the object `out` itself.
 * - A missing object is `undefined` from `stat` and a StorageError with code
 *   VSNAP_STORAGE_NOT_FOUND from `readFile` and `localPath`.
 * - `write` is atomic: a reader sees either no object or the whole of one
 *   write, never a partial file; of concurrent writes to one key one wins.
 * - Other failures (permissions, disk full) reject with an Error whose
 *   message names the operation and the URL, the system error as its cause.
 */

export interface ObjectStat {
  /** Size in bytes. */
  readonly size: number;
}

export interface Store {
  /** The object's size, or undefined when there is no object at `url`. */
  stat(url: string): Promise<ObjectStat | undefined>;

  /** The object's bytes. */
  readFile(url: string): Promise<Buffer>;

  /**
   * A local file holding the object, for the engine to open directly; or
   * undefined when this store keeps objects elsewhere (then use readFile).
   */
  localPath(url: string): Promise<string | undefined>;

  /**
   * An http(s) URL from which the engine may read the object by range (a
   * presigned GET of the configured store), valid for at least `ttlSeconds`;
   * or undefined when this store has none (then use localPath or readFile).
   * Only the store makes these URLs, so the engine never opens an address a
   * client chose.
   */
  rangeUrl?(url: string, ttlSeconds: number): Promise<string | undefined>;

  /** Stores `bytes` at `url`, replacing any object there, atomically. */
  write(url: string, bytes: Uint8Array): Promise<void>;

  /** The URLs (as `formatOssUrl` writes them) of every object under the prefix, sorted by key bytes. */
  list(prefixUrl: string): Promise<string[]>;

  /**
   * Removes every object under the prefix; removing what is not there is not
   * an error, so a cleanup can be retried. A bucket root is refused, so one
   * wrong URL cannot empty a bucket.
   */
  remove(prefixUrl: string): Promise<void>;
}
