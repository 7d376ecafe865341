/**
 * `oss://bucket/key` URLs: the one place that says what a storage path is.
 *
 * Contract
 * - The scheme is exactly `oss://` (lowercase).
 * - The bucket follows the OSS naming rule: 3 to 63 characters, lowercase
 *   letters, digits and hyphens, starting and ending with a letter or digit.
 *   Dots (allowed by S3) are refused: OSS forbids them, and it keeps `.` and
 *   `..` from ever naming a bucket directory.
 * - The key is percent-decoded once, and every check runs on the decoded
 *   key, because the decoded key is what names the object. This makes the
 *   URL-encoded `path` the API reports (see `formatOssUrl`) parse back to the
 *   same key, and it means `%2e%2e` is `..` and is refused like `..`.
 *   Unencoded characters other than `%`, `?` and `#` stand for themselves, so
 *   `oss://b/my clip.mp4` works as users write it. A `%` not followed by two
 *   hex digits, or escapes that are not UTF-8, are refused. `?` and `#` must
 *   be written `%3F` and `%23`: a raw one would read as a query or fragment
 *   to any URL parser downstream.
 * - After decoding the key must be at most 1023 UTF-8 bytes (the OSS limit),
 *   not start with `/` or a drive letter (`C:`), and contain no empty, `.` or
 *   `..` segment, no backslash, no control character (C0, DEL, C1) and no
 *   lone surrogate. These keep a key a plain relative path on every store.
 * - An object URL needs a non-empty key without a trailing `/`. A prefix URL
 *   (an output location) may end with `/` or not, and may be the bucket
 *   itself; its key is returned without the trailing `/`.
 *
 * Every refusal is a StorageError with code VSNAP_INVALID_STORAGE_PATH whose
 * message names the URL and the problem.
 */

import { invalidStoragePath } from './errors.js';

/** A parsed, validated storage location; `key` is decoded, '' for a bucket root prefix. */
export interface OssLocation {
  readonly bucket: string;
  readonly key: string;
}

const scheme = 'oss://';
const bucketPattern = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const maxKeyBytes = 1023;
// C0 controls, DEL and C1 controls; none is printable and several end paths early.
const controlPattern = /[\u0000-\u001f\u007f-\u009f]/u;
// With the `u` flag a well-formed pair is one code point, so this matches lone surrogates only.
const loneSurrogatePattern = /\p{Cs}/u;
const badEscapePattern = /%(?![0-9A-Fa-f]{2})/;

/** Parses the URL of one object, e.g. `input.oss`. */
export function parseOssObjectUrl(url: unknown): OssLocation {
  return parse(url, 'object');
}

/** Parses the URL of a prefix under which objects are written, e.g. `output.oss`. */
export function parseOssPrefixUrl(url: unknown): OssLocation {
  return parse(url, 'prefix');
}

/**
 * The URL of `key` in `bucket`, each key segment percent-encoded and the `/`
 * between them kept: the URL-encoded `path` the API reports. An empty key
 * gives the bucket root `oss://bucket`. Refuses what the parsers refuse, so
 * its output always parses back to the same bucket and key.
 */
export function formatOssUrl(bucket: string, key: string): string {
  const described = `bucket ${JSON.stringify(bucket)}, key ${JSON.stringify(key)}`;
  const bucketIssue = bucketProblem(bucket);
  if (bucketIssue !== undefined) throw invalidStoragePath(described, bucketIssue);
  if (key === '') return `${scheme}${bucket}`;
  const keyIssue = keyProblem(key);
  if (keyIssue !== undefined) throw invalidStoragePath(described, keyIssue);
  return `${scheme}${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Appends literal (not percent-encoded) segments to a key, e.g. a task id and
 * a file name under an output prefix. Each segment must be one valid segment:
 * no `/`, not empty, `.` or `..`.
 */
export function joinOssKey(prefixKey: string, ...segments: string[]): string {
  for (const segment of segments) {
    if (!isValidKeySegment(segment)) {
      throw invalidStoragePath(
        segment,
        "not one key segment (it is empty, '.' or '..', or contains '/', a backslash or a control character)",
      );
    }
  }
  const key = [...(prefixKey === '' ? [] : [prefixKey]), ...segments].join('/');
  const issue = keyProblem(key);
  if (issue !== undefined) throw invalidStoragePath(key, issue);
  return key;
}

/** Whether `name` can be one segment of a key; stores use it to skip foreign files when listing. */
export function isValidKeySegment(name: string): boolean {
  return !name.includes('/') && segmentProblem(name) === undefined;
}

/** Whether `key` (decoded, non-empty) is a valid object key. */
export function isValidKey(key: string): boolean {
  return key !== '' && !key.endsWith('/') && keyProblem(key) === undefined;
}

function parse(url: unknown, kind: 'object' | 'prefix'): OssLocation {
  if (typeof url !== 'string') throw invalidStoragePath(url, 'expected a string');
  if (!url.startsWith(scheme)) throw invalidStoragePath(url, `the scheme must be ${scheme}`);
  const rest = url.slice(scheme.length);
  for (const [char, escape] of [['?', '%3F'], ['#', '%23']] as const) {
    if (rest.includes(char)) throw invalidStoragePath(url, `'${char}' must be percent-encoded as ${escape}`);
  }
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? '' : rest.slice(slash + 1);

  const bucketIssue = bucketProblem(bucket);
  if (bucketIssue !== undefined) throw invalidStoragePath(url, bucketIssue);

  if (badEscapePattern.test(rawKey)) {
    throw invalidStoragePath(url, "the key has a '%' that is not followed by two hex digits");
  }
  let key: string;
  try {
    key = decodeURIComponent(rawKey);
  } catch {
    throw invalidStoragePath(url, 'the percent-encoded key is not valid UTF-8');
  }

  if (kind === 'object') {
    if (key === '') throw invalidStoragePath(url, 'the object key is empty');
    if (key.endsWith('/')) throw invalidStoragePath(url, "the object key ends with '/', which names a prefix");
  } else if (key.endsWith('/') && key !== '/') {
    // A lone '/' is not stripped: `oss://bucket//` is an absolute key, not the bucket root.
    key = key.slice(0, -1);
  }
  if (key === '' && kind === 'prefix') return { bucket, key };

  const keyIssue = keyProblem(key);
  if (keyIssue !== undefined) throw invalidStoragePath(url, keyIssue);
  return { bucket, key };
}

function bucketProblem(bucket: string): string | undefined {
  if (bucket === '') return 'the bucket is empty';
  if (!bucketPattern.test(bucket)) {
    return 'the bucket must be 3 to 63 lowercase letters, digits or hyphens, starting and ending with a letter or digit';
  }
  return undefined;
}

/** Why `key` (decoded, non-empty) is not a valid key, or undefined. */
function keyProblem(key: string): string | undefined {
  if (key.startsWith('/')) return "the key is absolute (starts with '/')";
  if (Buffer.byteLength(key, 'utf8') > maxKeyBytes) return `the key is longer than ${maxKeyBytes} bytes`;
  const segments = key.split('/');
  if (/^[A-Za-z]:$/.test(segments[0] ?? '')) return 'the key is absolute (starts with a drive letter)';
  for (const segment of segments) {
    const issue = segmentProblem(segment);
    if (issue !== undefined) return `the key ${issue}`;
  }
  return undefined;
}

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return "has an empty segment ('//')";
  if (segment === '.' || segment === '..') return `has a '${segment}' segment`;
  if (segment.includes('\\')) return 'contains a backslash';
  if (controlPattern.test(segment)) return 'contains a control character';
  if (loneSurrogatePattern.test(segment)) return 'contains a lone surrogate';
  return undefined;
}
