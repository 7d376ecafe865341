import { describe, expect, it } from 'vitest';

import { StorageError } from '../../src/storage/errors.js';
import { formatOssUrl, joinOssKey, parseOssObjectUrl, parseOssPrefixUrl } from '../../src/storage/oss-url.js';

function invalid(fragment: string): unknown {
  return expect.objectContaining({
    name: 'StorageError',
    code: 'VSNAP_INVALID_STORAGE_PATH',
    message: expect.stringContaining(fragment),
  });
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const badObjectUrls: ReadonlyArray<readonly [string, unknown, string]> = [
  ['not a string', 42, 'expected a string'],
  ['another scheme', 'https://bucket/x.mp4', 'the scheme must be oss://'],
  ['an uppercase scheme', 'OSS://bucket/x.mp4', 'the scheme must be oss://'],
  ['one slash', 'oss:/bucket/x.mp4', 'the scheme must be oss://'],
  ['no bucket', 'oss:///x.mp4', 'the bucket is empty'],
  ['a 2-character bucket', 'oss://ab/x.mp4', 'the bucket must be 3 to 63'],
  ['a 64-character bucket', `oss://${'a'.repeat(64)}/x.mp4`, 'the bucket must be 3 to 63'],
  ['an uppercase bucket', 'oss://My-Bucket/x.mp4', 'the bucket must be 3 to 63'],
  ['a bucket starting with -', 'oss://-bucket/x.mp4', 'starting and ending with a letter or digit'],
  ['a bucket ending with -', 'oss://bucket-/x.mp4', 'starting and ending with a letter or digit'],
  ['a dotted bucket', 'oss://my.bucket/x.mp4', 'the bucket must be 3 to 63'],
  ['an underscore in the bucket', 'oss://my_bucket/x.mp4', 'the bucket must be 3 to 63'],
  ['no key', 'oss://bucket', 'the object key is empty'],
  ['an empty key', 'oss://bucket/', 'the object key is empty'],
  ['a trailing slash', 'oss://bucket/dir/', "ends with '/', which names a prefix"],
  ['an absolute key', 'oss://bucket//etc/passwd', "the key is absolute (starts with '/')"],
  ['an encoded absolute key', 'oss://bucket/%2Fetc/passwd', "the key is absolute (starts with '/')"],
  ['a drive letter', 'oss://bucket/C:/x.mp4', 'starts with a drive letter'],
  ['a .. segment', 'oss://bucket/a/../x.mp4', "the key has a '..' segment"],
  ['a leading .. segment', 'oss://bucket/../x.mp4', "the key has a '..' segment"],
  ['a trailing .. segment', 'oss://bucket/a/..', "the key has a '..' segment"],
  ['a . segment', 'oss://bucket/a/./x.mp4', "the key has a '.' segment"],
  ['an encoded .. segment', 'oss://bucket/%2e%2e/x.mp4', "the key has a '..' segment"],
  ['an uppercase encoded .. segment', 'oss://bucket/a/%2E%2E/x.mp4', "the key has a '..' segment"],
  ['a half-encoded .. segment', 'oss://bucket/.%2e/x.mp4', "the key has a '..' segment"],
  ['an empty segment', 'oss://bucket/a//b.mp4', "the key has an empty segment ('//')"],
  ['an encoded empty segment', 'oss://bucket/a%2F%2Fb.mp4', "the key has an empty segment ('//')"],
  ['a backslash', 'oss://bucket/a\\b.mp4', 'the key contains a backslash'],
  ['an encoded backslash', 'oss://bucket/a%5C..%5Cb.mp4', 'the key contains a backslash'],
  ['a NUL', 'oss://bucket/a\u0000b.mp4', 'the key contains a control character'],
  ['an encoded NUL', 'oss://bucket/a.mp4%00.jpg', 'the key contains a control character'],
  ['a newline', 'oss://bucket/a\nb.mp4', 'the key contains a control character'],
  ['an encoded DEL', 'oss://bucket/a%7Fb.mp4', 'the key contains a control character'],
  ['a C1 control', 'oss://bucket/a%C2%85b.mp4', 'the key contains a control character'],
  ['a lone surrogate', 'oss://bucket/a\ud800b.mp4', 'the key contains a lone surrogate'],
  ['a bare %', 'oss://bucket/100%.mp4', "has a '%' that is not followed by two hex digits"],
  ['a bad escape', 'oss://bucket/a%zz.mp4', "has a '%' that is not followed by two hex digits"],
  ['a truncated UTF-8 escape', 'oss://bucket/a%C3.mp4', 'the percent-encoded key is not valid UTF-8'],
  ['an encoded surrogate', 'oss://bucket/a%ED%A0%80.mp4', 'the percent-encoded key is not valid UTF-8'],
  ['a raw ?', 'oss://bucket/a.mp4?versionId=1', "'?' must be percent-encoded as %3F"],
  ['a raw #', 'oss://bucket/a#1.mp4', "'#' must be percent-encoded as %23"],
  ['a 1024-byte key', `oss://bucket/${'a'.repeat(1024)}`, 'the key is longer than 1023 bytes'],
  ['a 1024-byte UTF-8 key', `oss://bucket/${'é'.repeat(512)}`, 'the key is longer than 1023 bytes'],
];

describe('parseOssObjectUrl', () => {
  it.each(badObjectUrls)('refuses %s', (_name, url, fragment) => {
    const error = errorOf(() => parseOssObjectUrl(url));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toEqual(invalid(fragment));
  });

  it('names the URL in the message', () => {
    expect(() => parseOssObjectUrl('oss://bucket/a/../b')).toThrow(
      `Invalid storage path "oss://bucket/a/../b": the key has a '..' segment`,
    );
  });

  it.each([
    ['oss://bucket-name/test.mp4', 'bucket-name', 'test.mp4'],
    ['oss://abc/x', 'abc', 'x'],
    [`oss://${'a'.repeat(63)}/x`, 'a'.repeat(63), 'x'],
    ['oss://123/videos/2024/a.mp4', '123', 'videos/2024/a.mp4'],
    ['oss://bucket/my clip (1).mp4', 'bucket', 'my clip (1).mp4'],
    ['oss://bucket/%E4%B8%AD%E6%96%87.mp4', 'bucket', '中文.mp4'],
    ['oss://bucket/中文.mp4', 'bucket', '中文.mp4'],
    ['oss://bucket/50%25.mp4', 'bucket', '50%.mp4'],
    ['oss://bucket/a%2Fb.mp4', 'bucket', 'a/b.mp4'],
    ['oss://bucket/a%3Fb%23c.mp4', 'bucket', 'a?b#c.mp4'],
    ['oss://bucket/.hidden/..x/x..', 'bucket', '.hidden/..x/x..'],
    [`oss://bucket/${'a'.repeat(1023)}`, 'bucket', 'a'.repeat(1023)],
  ])('parses %s', (url, bucket, key) => {
    expect(parseOssObjectUrl(url)).toEqual({ bucket, key });
  });
});

describe('parseOssPrefixUrl', () => {
  it.each([
    ['oss://bucket', ''],
    ['oss://bucket/', ''],
    ['oss://bucket/result/path', 'result/path'],
    ['oss://bucket/result/path/', 'result/path'],
    ['oss://bucket/result%20files/', 'result files'],
  ])('parses %s', (url, key) => {
    expect(parseOssPrefixUrl(url)).toEqual({ bucket: 'bucket', key });
  });

  it.each([
    ['oss://bucket//', "the key is absolute (starts with '/')"],
    ['oss://bucket/a//', "the key has an empty segment ('//')"],
    ['oss://bucket/..', "the key has a '..' segment"],
    ['oss://bucket/a/%2e/', "the key has a '.' segment"],
    ['oss://b/out', 'the bucket must be 3 to 63'],
  ])('refuses %s', (url, fragment) => {
    expect(errorOf(() => parseOssPrefixUrl(url))).toEqual(invalid(fragment));
  });
});

describe('formatOssUrl', () => {
  it('percent-encodes each segment and keeps the slashes, like the reported path', () => {
    expect(formatOssUrl('bucket-name', 'result/path/task 1/snapshot_0.jpg')).toBe(
      'oss://bucket-name/result/path/task%201/snapshot_0.jpg',
    );
    expect(formatOssUrl('bucket', '100%/中.jpg')).toBe('oss://bucket/100%25/%E4%B8%AD.jpg');
    expect(formatOssUrl('bucket', 'a?b#c&d=e+f.jpg')).toBe('oss://bucket/a%3Fb%23c%26d%3De%2Bf.jpg');
  });

  it('gives the bucket root for an empty key', () => {
    expect(formatOssUrl('bucket', '')).toBe('oss://bucket');
    expect(parseOssPrefixUrl(formatOssUrl('bucket', ''))).toEqual({ bucket: 'bucket', key: '' });
  });

  it.each([
    'a b/c d.jpg',
    '中文/视频 1.mp4',
    '100%/50%25.jpg',
    'emoji/😀.png',
    'q?/h#/x&y=z+w.jpg',
    "a'b(c)!*~.jpg",
    '%2e%2e/literal.jpg',
    'tab-free/ü/é/ñ.jpg',
  ])('round-trips the key %s', (key) => {
    const url = formatOssUrl('bucket', key);
    expect(url).not.toMatch(/[ ?#]/u);
    expect(parseOssObjectUrl(url)).toEqual({ bucket: 'bucket', key });
  });

  it.each([
    ['BUCKET', 'a.jpg', 'the bucket must be 3 to 63'],
    ['bucket', '/a.jpg', "the key is absolute (starts with '/')"],
    ['bucket', 'a/../b.jpg', "the key has a '..' segment"],
    ['bucket', 'a//b.jpg', "the key has an empty segment ('//')"],
    ['bucket', 'a\u0000.jpg', 'the key contains a control character'],
  ])('refuses bucket %j with key %j', (bucket, key, fragment) => {
    expect(errorOf(() => formatOssUrl(bucket, key))).toEqual(invalid(fragment));
  });
});

describe('joinOssKey', () => {
  it('appends literal segments', () => {
    expect(joinOssKey('result/path', 'task-1', 'snapshot_0.jpg')).toBe('result/path/task-1/snapshot_0.jpg');
    expect(joinOssKey('', 'task-1', 'snapshot 0%.jpg')).toBe('task-1/snapshot 0%.jpg');
  });

  it.each(['', '.', '..', 'a/b', 'a\\b', 'a\nb'])('refuses the segment %j', (segment) => {
    expect(errorOf(() => joinOssKey('result', segment))).toEqual(invalid('not one key segment'));
  });

  it('refuses a key that grows past 1023 bytes', () => {
    expect(errorOf(() => joinOssKey('a'.repeat(1000), 'b'.repeat(30)))).toEqual(
      invalid('the key is longer than 1023 bytes'),
    );
  });
});
