import { describe, expect, it } from 'vitest';

import { VsnapError } from '../../src/errors.js';
import { defaultLimits } from '../../src/limits.js';
import { defaultSnapshotOptions, resolveDirectory, resolveInput, resolveSnapshotOptions } from '../../src/options.js';

function invalidOptionOf(run: () => unknown): VsnapError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VsnapError);
    expect((error as VsnapError).code).toBe('VSNAP_INVALID_OPTION');
    return error as VsnapError;
  }
  throw new Error('expected a VSNAP_INVALID_OPTION error');
}

describe('resolveSnapshotOptions', () => {
  it('fills every default when no options are given', () => {
    const { interval, fit, ...rest } = defaultSnapshotOptions;
    const defaults = {
      ...rest,
      sampling: { kind: 'interval', interval, start: 0, end: undefined },
      size: { width: undefined, height: undefined, fit },
      sprite: undefined,
      signal: undefined,
      backend: undefined,
      limits: defaultLimits,
      nameOf: expect.any(Function),
    };
    expect(defaultSnapshotOptions).toEqual({ interval: 1, format: 'jpg', mode: 'exact', quality: 80, compression: 3, fit: 'cover', tonemap: 'auto', encoder: 'auto' });
    expect(resolveSnapshotOptions(undefined)).toStrictEqual(defaults);
    expect(resolveSnapshotOptions({})).toStrictEqual(defaults);
  });

  it('keeps valid values', () => {
    const signal = new AbortController().signal;
    const limits = { maxDuration: 60.5, maxPixels: 1000, maxTargets: 10 };
    const options = { interval: 0.25, format: 'png', mode: 'keyframe', quality: 1, compression: 9, tonemap: 'off', signal, backend: 'wasm', limits, encoder: 'inline' };
    const { interval, ...rest } = options;
    expect(resolveSnapshotOptions(options)).toStrictEqual({
      ...rest,
      sampling: { kind: 'interval', interval, start: 0, end: undefined },
      size: { width: undefined, height: undefined, fit: 'cover' },
      sprite: undefined,
      nameOf: expect.any(Function),
    });
    expect(resolveSnapshotOptions({ limits: { maxTargets: 10 } }).limits).toEqual({ ...defaultLimits, maxTargets: 10 });
    expect(resolveSnapshotOptions({ quality: 100, compression: 0 })).toMatchObject({ quality: 100, compression: 0 });
  });

  it.each([
    ['interval', 0, 'Expected a number of seconds from 0.001 to 1000000000 for interval but received 0'],
    ['interval', -1, 'Expected a number of seconds from 0.001 to 1000000000 for interval but received -1'],
    ['interval', Number.NaN, 'Expected a number of seconds from 0.001 to 1000000000 for interval but received NaN'],
    [
      'interval',
      Number.POSITIVE_INFINITY,
      'Expected a number of seconds from 0.001 to 1000000000 for interval but received Infinity',
    ],
    ['interval', '1', 'Expected a number of seconds from 0.001 to 1000000000 for interval but received "1"'],
    ['interval', null, 'Expected a number of seconds from 0.001 to 1000000000 for interval but received null'],
    // Finer than frame times are kept, and so fine that FFmpeg's rational of it would be 0 and the plan endless.
    ['interval', 0.0009, 'Expected a number of seconds from 0.001 to 1000000000 for interval but received 0.0009'],
    ['interval', 1e-12, 'Expected a number of seconds from 0.001 to 1000000000 for interval but received 1e-12'],
    ['interval', 1e10, 'Expected a number of seconds from 0.001 to 1000000000 for interval but received 10000000000'],
    ['format', 'gif', 'Expected one of jpg, png, webp, raw for format but received "gif"'],
    ['format', 'JPG', 'Expected one of jpg, png, webp, raw for format but received "JPG"'],
    ['format', 1, 'Expected one of jpg, png, webp, raw for format but received 1'],
    ['mode', 'fast', 'Expected one of exact, keyframe for mode but received "fast"'],
    ['quality', 0, 'Expected an integer between 1 and 100 for quality but received 0'],
    ['quality', 101, 'Expected an integer between 1 and 100 for quality but received 101'],
    ['quality', 50.5, 'Expected an integer between 1 and 100 for quality but received 50.5'],
    ['quality', '80', 'Expected an integer between 1 and 100 for quality but received "80"'],
    ['compression', -1, 'Expected an integer between 0 and 9 for compression but received -1'],
    ['compression', 10, 'Expected an integer between 0 and 9 for compression but received 10'],
    ['compression', true, 'Expected an integer between 0 and 9 for compression but received true'],
    ['signal', {}, 'Expected an AbortSignal for signal but received an object'],
    ['encoder', 'threads', 'Expected one of auto, native, workers, inline for encoder but received "threads"'],
    ['encoder', null, 'Expected one of auto, native, workers, inline for encoder but received null'],
    ['signal', new AbortController(), 'Expected an AbortSignal for signal but received an instance of AbortController'],
  ])('rejects %s = %o', (option, value, message) => {
    const error = invalidOptionOf(() => resolveSnapshotOptions({ [option]: value }));
    expect(error.option).toBe(option);
    expect(error.message).toBe(message);
  });

  it("rejects encoder 'native' with format 'png', which it does not write", () => {
    const error = invalidOptionOf(() => resolveSnapshotOptions({ format: 'png', encoder: 'native' }));
    expect(error.option).toBe('encoder');
    expect(error.message).toBe(
      "Expected 'auto', 'workers' or 'inline' with format 'png' (the native encoder writes JPEG only) for encoder but received \"native\"",
    );
    expect(resolveSnapshotOptions({ format: 'jpg', encoder: 'native' }).encoder).toBe('native');
  });

  it('rejects an unknown key, naming it', () => {
    const error = invalidOptionOf(() => resolveSnapshotOptions({ interval: 1, fps: 2 }));
    expect(error.option).toBe('fps');
    expect(error.message).toBe(
      'Expected one of interval, start, end, count, times, mode, format, quality, compression, width, height, fit, tonemap, sprite, ' +
        'signal, backend, limits, encoder for option name but received "fps"',
    );
  });

  it.each([null, 1, 'jpg', [], new Map()])('rejects options that are not a plain object: %o', (options) => {
    expect(invalidOptionOf(() => resolveSnapshotOptions(options)).option).toBe('options');
  });

  it('names options the way the caller spells them', () => {
    const nameOf = (key: string): string => `--${key}`;
    expect(invalidOptionOf(() => resolveSnapshotOptions({ interval: 'abc' }, nameOf)).message).toBe(
      'Expected a number of seconds from 0.001 to 1000000000 for --interval but received "abc"',
    );
    expect(invalidOptionOf(() => resolveSnapshotOptions({ size: 1 }, nameOf)).option).toBe('--size');
  });
});

describe('resolveInput', () => {
  it('takes a path, an http(s) URL or bytes', () => {
    expect(resolveInput('video.mp4')).toEqual({ path: 'video.mp4' });
    const bytes = Buffer.from([1, 2, 3]);
    expect(resolveInput(bytes)).toEqual({ data: bytes });
    const view = new Uint8Array([4]);
    expect(resolveInput(view)).toEqual({ data: view });
    const presigned = 'https://bucket.s3.example.com/v.mp4?X-Amz-Signature=abc&X-Amz-Expires=300';
    expect(resolveInput({ url: presigned })).toEqual({ url: presigned });
    expect(resolveInput({ url: 'http://127.0.0.1:9000/b/v.mp4' })).toEqual({ url: 'http://127.0.0.1:9000/b/v.mp4' });
  });

  it.each([
    [undefined, 'undefined'],
    ['', '""'],
    [new Uint8Array(0), 'a Uint8Array of 0 bytes'],
    [42, '42'],
    [new ArrayBuffer(4), 'an instance of ArrayBuffer'],
    [{ path: 'video.mp4' }, 'an object'],
    [{ url: 'https://h/v.mp4', path: 'v.mp4' }, 'an object'],
  ])('rejects %o', (input, received) => {
    const error = invalidOptionOf(() => resolveInput(input));
    expect(error.option).toBe('input');
    expect(error.message).toBe(
      `Expected a non-empty file path string, { url } or a non-empty Uint8Array for input but received ${received}`,
    );
  });

  it.each([
    ['file:///etc/passwd', '"file:///etc/passwd"'],
    ['ftp://h/v.mp4', '"ftp://h/v.mp4"'],
    ['s3://bucket/v.mp4', '"s3://bucket/v.mp4"'],
    ['/videos/v.mp4', '"/videos/v.mp4"'],
    ['https://user:secret@h/v.mp4?X-Amz-Signature=abc', '"https://h/v.mp4"'],
    ['', '""'],
    [42, '42'],
  ])('rejects the url %o', (url, received) => {
    const error = invalidOptionOf(() => resolveInput({ url }));
    expect(error.option).toBe('input.url');
    expect(error.message).toBe(`Expected an http or https URL without user:password for input.url but received ${received}`);
  });
});

describe('resolveDirectory', () => {
  it('takes a non-empty path and rejects anything else', () => {
    expect(resolveDirectory('out', 'dir')).toBe('out');
    expect(invalidOptionOf(() => resolveDirectory('', 'dir')).option).toBe('dir');
    expect(invalidOptionOf(() => resolveDirectory(undefined, '--out')).option).toBe('--out');
  });
});
