import { describe, expect, it } from 'vitest';

import {
  backendUnavailable,
  describeValue,
  errorCodes,
  fromNative,
  invalidOption,
  VsnapError,
} from '../../src/errors.js';

describe('VsnapError', () => {
  it('is an Error with a stable code and, for options, the option', () => {
    const error = invalidOption('interval', 'a finite number greater than 0', -1);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('VsnapError');
    expect(error.code).toBe('VSNAP_INVALID_OPTION');
    expect(error.option).toBe('interval');
    expect(error.message).toBe('Expected a finite number greater than 0 for interval but received -1');
  });

  it('lists every code', () => {
    expect(errorCodes).toEqual([
      'VSNAP_INVALID_OPTION',
      'VSNAP_BACKEND_UNAVAILABLE',
      'VSNAP_INPUT_NOT_FOUND',
      'VSNAP_INPUT_CHANGED',
      'VSNAP_INPUT_TOO_LARGE',
      'VSNAP_UNSUPPORTED_INPUT',
      'VSNAP_NO_VIDEO_STREAM',
      'VSNAP_CORRUPT_INPUT',
      'VSNAP_LIMIT_EXCEEDED',
      'VSNAP_ABORTED',
      'VSNAP_INTERNAL',
    ]);
  });
});

describe('fromNative', () => {
  it.each([
    'VSNAP_INPUT_NOT_FOUND',
    'VSNAP_INPUT_CHANGED',
    'VSNAP_UNSUPPORTED_INPUT',
    'VSNAP_NO_VIDEO_STREAM',
    'VSNAP_CORRUPT_INPUT',
    'VSNAP_ABORTED',
    'VSNAP_INTERNAL',
  ])('keeps code and message of a native %s', (code) => {
    const native = Object.assign(new Error('avformat_open_input(x.mp4): No such file'), { code });
    const error = fromNative(native);
    expect(error).toBeInstanceOf(VsnapError);
    expect(error.code).toBe(code);
    expect(error.message).toBe('avformat_open_input(x.mp4): No such file');
    expect(error.cause).toBe(native);
    expect(error.option).toBeUndefined();
  });

  it('turns an error without a known code into VSNAP_INTERNAL', () => {
    const unknown = Object.assign(new Error('boom'), { code: 'EWHAT' });
    expect(fromNative(unknown)).toMatchObject({ code: 'VSNAP_INTERNAL', cause: unknown });
    expect(fromNative(new TypeError('bad')).code).toBe('VSNAP_INTERNAL');
    expect(fromNative('a string').message).toContain('a string');
  });

  it('passes a VsnapError through unchanged', () => {
    const error = invalidOption('mode', 'one of exact, keyframe', 'x');
    expect(fromNative(error)).toBe(error);
  });

  it('keeps messages on one line', () => {
    const native = Object.assign(new Error('first\n  second'), { code: 'VSNAP_CORRUPT_INPUT' });
    expect(fromNative(native).message).toBe('first second');
  });
});

describe('backendUnavailable', () => {
  it('lists every attempt on one line and ends with the hint', () => {
    const error = backendUnavailable(
      'The decode backend',
      [
        { candidate: '/a/vsnap.node', reason: 'no such file' },
        { candidate: '/b/vsnap.node', reason: 'invalid ELF header\nsecond line' },
      ],
      'Run `npm run build:native`',
    );
    expect(error.code).toBe('VSNAP_BACKEND_UNAVAILABLE');
    expect(error.message).toBe(
      'The decode backend could not be loaded (tried /a/vsnap.node: no such file; ' +
        '/b/vsnap.node: invalid ELF header second line). Run `npm run build:native`',
    );
  });
});

describe('describeValue', () => {
  it.each([
    ['abc', '"abc"'],
    ['a\nb', '"a\\nb"'],
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    [undefined, 'undefined'],
    [null, 'null'],
    [false, 'false'],
    [() => 1, 'a function'],
    [[1, 2], 'an array of length 2'],
    [Buffer.alloc(3), 'a Buffer of 3 bytes'],
    [{ a: 1 }, 'an object'],
    [new Date(0), 'an instance of Date'],
  ])('renders %o as %s', (value, shown) => {
    expect(describeValue(value)).toBe(shown);
  });

  it('shortens long strings', () => {
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(57)}..."`);
  });
});
