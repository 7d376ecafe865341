/**
 * The S3-compatible Store: `oss://bucket/key` is the object `key` in the
 * bucket `bucket` of one configured endpoint (AWS S3, MinIO, Alibaba OSS
 * through its S3 endpoint, Ceph), through @aws-sdk/client-s3.
 *
 * Credentials are no option of this store: the SDK's default provider chain
 * finds them (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY first), so they
 * never enter a StoreConfig, a log line or an error message.
 *
 * Beyond the Store contract (store.ts)
 * - `write` is one PutObject, which S3 applies atomically; `readFile` is one
 *   GetObject; `localPath` is always undefined; `rangeUrl` is a presigned
 *   GET of the same endpoint, signed locally without a request.
 * - A missing bucket reads as a missing object from `stat` and `readFile`
 *   (a HEAD cannot tell the two apart, and either way the named object is
 *   not there); `write`, `list` and `remove` reject naming the bucket, as
 *   output to a bucket that does not exist is a configuration error.
 * - `list` skips keys that are not valid oss:// keys (written by other
 *   tools), so every listed URL parses; `remove` deletes every key under the
 *   prefix, valid or not, in DeleteObjects batches of 1000 (the S3 limit).
 * - Checksums are sent only where an operation requires one, because
 *   S3-compatible servers store the SDK's default checksum framing of a
 *   streamed upload as part of the object. DeleteObjects requires one and
 *   gets Content-MD5, which Alibaba OSS and older MinIO demand, instead of
 *   the CRC32 header newer SDKs send.
 * - A store that is down fails in seconds: at most `maxAttempts` tries with
 *   the SDK's standard backoff, each giving up on a connection not made
 *   within `connectionTimeoutMs` or a socket idle for `socketTimeoutMs`.
 *   The idle limit, not a limit on the whole request, so that a large
 *   transfer on a slow link is not cut off while it makes progress.
 */

import { createHash } from 'node:crypto';

import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import { describeValue } from '../errors.js';
import { invalidStoragePath, StorageError, storageNotFound } from './errors.js';
import { formatOssUrl, isValidKey, type OssLocation, parseOssObjectUrl, parseOssPrefixUrl } from './oss-url.js';
import type { ObjectStat, Store } from './store.js';

export interface S3StoreOptions {
  /** The endpoint URL (http or https); undefined for AWS S3 itself. */
  readonly endpoint?: string | undefined;
  /** The region requests are signed for. */
  readonly region: string;
  /** Address buckets as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT. */
  readonly forcePathStyle: boolean;
}

const maxAttempts = 3;
const connectionTimeoutMs = 3_000;
const socketTimeoutMs = 10_000;
/** The most keys one DeleteObjects request may name. */
const deleteBatchSize = 1000;
/** SigV4 presigned URLs live at most 7 days. */
const maxPresignSeconds = 7 * 24 * 3600;

export class S3Store implements Store {
  readonly #client: S3Client;

  constructor(options: S3StoreOptions) {
    this.#client = new S3Client({
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts,
      retryMode: 'standard',
      requestHandler: { connectionTimeout: connectionTimeoutMs, socketTimeout: socketTimeoutMs },
    });
  }

  async stat(url: string): Promise<ObjectStat | undefined> {
    const location = parseOssObjectUrl(url);
    return withContext('stat', url, location, async () => {
      try {
        const head = await this.#client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
        if (head.ContentLength === undefined) throw new Error('the answer has no Content-Length');
        return { size: head.ContentLength };
      } catch (error) {
        // A HEAD answer has no body, so a missing key or bucket is only a 404.
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async readFile(url: string): Promise<Buffer> {
    const location = parseOssObjectUrl(url);
    return withContext('read', url, location, async () => {
      try {
        const object = await this.#client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
        if (object.Body === undefined) throw new Error('the answer has no body');
        const bytes = await object.Body.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (error) {
        if (errorName(error) === 'NoSuchKey' || errorName(error) === 'NoSuchBucket') throw storageNotFound(url, error);
        throw error;
      }
    });
  }

  async localPath(url: string): Promise<string | undefined> {
    parseOssObjectUrl(url);
    return undefined;
  }

  async rangeUrl(url: string, ttlSeconds: number): Promise<string | undefined> {
    const location = parseOssObjectUrl(url);
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > maxPresignSeconds) {
      throw new Error(
        `Expected an integer from 1 to ${maxPresignSeconds} for ttlSeconds but received ${describeValue(ttlSeconds)}`,
      );
    }
    return withContext('presign', url, location, () =>
      getSignedUrl(this.#client, new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), {
        expiresIn: ttlSeconds,
      }),
    );
  }

  async write(url: string, bytes: Uint8Array): Promise<void> {
    const location = parseOssObjectUrl(url);
    await withContext('write', url, location, async () => {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          Body: bytes,
          ContentLength: bytes.byteLength,
        }),
      );
    });
  }

  async list(prefixUrl: string): Promise<string[]> {
    const prefix = parseOssPrefixUrl(prefixUrl);
    return withContext('list', prefixUrl, prefix, async () => {
      const keys = (await this.#keysUnder(prefix)).filter(isValidKey);
      // Byte order of the UTF-8 keys; a server may sort UTF-16 code units instead.
      keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      return keys.map((key) => formatOssUrl(prefix.bucket, key));
    });
  }

  async remove(prefixUrl: string): Promise<void> {
    const prefix = parseOssPrefixUrl(prefixUrl);
    if (prefix.key === '') throw invalidStoragePath(prefixUrl, 'removing a whole bucket is refused');
    await withContext('remove', prefixUrl, prefix, async () => {
      const keys = await this.#keysUnder(prefix);
      for (let start = 0; start < keys.length; start += deleteBatchSize) {
        await this.#deleteBatch(prefix.bucket, keys.slice(start, start + deleteBatchSize));
      }
    });
  }

  /** Every key under the prefix (`key/`, so never `keyside` or `key` itself), as the server lists them. */
  async #keysUnder(prefix: OssLocation): Promise<string[]> {
    const keys: string[] = [];
    const pages = paginateListObjectsV2(
      { client: this.#client },
      { Bucket: prefix.bucket, Prefix: prefix.key === '' ? '' : `${prefix.key}/` },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key);
      }
    }
    return keys;
  }

  async #deleteBatch(bucket: string, keys: string[]): Promise<void> {
    const command = new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: keys.map((key) => ({ Key: key })), Quiet: true },
    });
    command.middlewareStack.addRelativeTo(contentMd5Middleware, {
      relation: 'after',
      toMiddleware: 'flexibleChecksumsMiddleware',
      name: 'vsnapContentMd5',
    });
    const output = await this.#client.send(command);
    const failed = output.Errors ?? [];
    const first = failed[0];
    if (first !== undefined) {
      throw new Error(
        `${failed.length} of ${keys.length} objects were not removed; ` +
          `the first, key ${JSON.stringify(first.Key)}: ${first.Code ?? 'no code'} ${first.Message ?? ''}`.trim(),
      );
    }
  }
}

/**
 * Replaces the checksum headers the SDK put on a request with Content-MD5 of
 * its body. Runs after the SDK's checksum step and before signing, so the
 * signature covers the headers actually sent.
 */
function contentMd5Middleware<Args extends { request: unknown }, Result>(
  next: (args: Args) => Promise<Result>,
): (args: Args) => Promise<Result> {
  return async (args) => {
    const request = args.request as { headers: Record<string, string>; body: unknown };
    for (const name of Object.keys(request.headers)) {
      const lower = name.toLowerCase();
      if (lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm') delete request.headers[name];
    }
    const body = typeof request.body === 'string' || request.body instanceof Uint8Array ? request.body : '';
    request.headers['content-md5'] = createHash('md5').update(body).digest('base64');
    return next(args);
  };
}

/**
 * Runs `body`; a failure that is not already a StorageError becomes one Error
 * naming the operation and URL, with the SDK's error as its cause. SDK
 * messages never hold the secret key, which is only ever used to sign.
 */
async function withContext<T>(
  operation: string,
  url: string,
  location: OssLocation,
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new Error(`Could not ${operation} ${JSON.stringify(url)}: ${describeFailure(error, location)}`, {
      cause: error,
    });
  }
}

function describeFailure(error: unknown, location: OssLocation): string {
  if (errorName(error) === 'NoSuchBucket') {
    return `the bucket ${JSON.stringify(location.bucket)} does not exist in the configured store`;
  }
  if (error instanceof S3ServiceException) {
    return `${error.message} (${error.name}, HTTP ${error.$metadata.httpStatusCode ?? 'status unknown'})`;
  }
  if (error instanceof Error) {
    // Node's connect to several addresses at once fails with an AggregateError whose message is empty.
    return error.message !== '' ? error.message : ((error as NodeJS.ErrnoException).code ?? error.name);
  }
  return String(error);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}
