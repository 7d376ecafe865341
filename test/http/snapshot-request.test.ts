import { describe, expect, it } from 'vitest';

import { ApiError, type ApiErrorCode } from '../../src/http/api-error.js';
import { parseSnapshotRequest, type SnapshotKind } from '../../src/http/snapshot-request.js';

/** `ftyp` box head of an mp4, 12 bytes. */
const mp4Base64 = 'AAAAIGZ0eXBtcDQy';
const mp4Bytes = Buffer.from([0, 0, 0, 0x20, ...Buffer.from('ftypmp42')]);
const inputOss = 'oss://my-bucket/test.mp4';
const outputOss = 'oss://my-bucket/result/path';

/** The body of the document's curl examples (sync and async), with only the bucket filled in. */
function documentBody(): Record<string, unknown> {
  return { input: { oss: inputOss }, parameters: {}, output: { type: 'oss', oss: outputOss } };
}

function withInput(input: unknown): Record<string, unknown> {
  return { ...documentBody(), input };
}

function withContent(content: unknown): Record<string, unknown> {
  return withInput({ content });
}

function withParameters(parameters: unknown): Record<string, unknown> {
  return { ...documentBody(), parameters };
}

function withOutput(output: unknown): Record<string, unknown> {
  return { ...documentBody(), output };
}

function apiErrorOf(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected an ApiError');
}

type BadRow = [name: string, kind: SnapshotKind, body: unknown, code: ApiErrorCode, http: number, field: string, fragment: string];

const badBodies: BadRow[] = [
  ['null body', 'sync', null, 'InvalidParameter', 400, 'body', 'a JSON object for body but received null'],
  ['array body', 'sync', [documentBody()], 'InvalidParameter', 400, 'body', 'for body but received an array of length 1'],
  ['string body', 'async', JSON.stringify(documentBody()), 'InvalidParameter', 400, 'body', 'for body but received "{'],
  ['number body', 'sync', 42, 'InvalidParameter', 400, 'body', 'for body but received 42'],
  ['class instance body', 'sync', new Date(0), 'InvalidParameter', 400, 'body', 'an instance of Date'],
  ['input missing', 'async', { output: { oss: outputOss } }, 'InvalidParameter', 400, 'input', 'a JSON object for input but received undefined'],
  ['input an array', 'sync', withInput([inputOss]), 'InvalidParameter', 400, 'input', 'for input but received an array'],
  ['input null', 'sync', withInput(null), 'InvalidParameter', 400, 'input', 'for input but received null'],
  ['input a string', 'sync', withInput(inputOss), 'InvalidParameter', 400, 'input', 'for input but received "oss://'],
  ['neither content nor oss', 'sync', withInput({ file_name: 'a.mp4' }), 'InvalidParameter', 400, 'input', 'exactly one of input.content or input.oss for input but received neither'],
  ['both content and oss', 'async', withInput({ content: `data:video/mp4;base64,${mp4Base64}`, oss: inputOss }), 'InvalidParameter', 400, 'input', 'received both'],
  ['content a number', 'sync', withContent(12), 'InvalidParameter', 400, 'input.content', 'a data URI of the form data:video/<format>;base64,<data> for input.content but received 12'],
  ['content null', 'sync', withContent(null), 'InvalidParameter', 400, 'input.content', 'for input.content but received null'],
  ['content bare base64', 'sync', withContent(mp4Base64), 'InvalidParameter', 400, 'input.content', `for input.content but received "${mp4Base64}"`],
  ['content without ;base64', 'sync', withContent(`data:video/mp4,${mp4Base64}`), 'InvalidParameter', 400, 'input.content', 'a data URI of the form'],
  ['content without comma', 'sync', withContent(`data:video/mp4;base64${mp4Base64}`), 'InvalidParameter', 400, 'input.content', 'a data URI of the form'],
  ['content with a media type parameter', 'sync', withContent(`data:video/mp4;codecs=avc1;base64,${mp4Base64}`), 'InvalidParameter', 400, 'input.content', 'a data URI of the form'],
  ['content an image', 'sync', withContent(`data:image/png;base64,${mp4Base64}`), 'InvalidParameter', 400, 'input.content', 'as the media type for input.content but received "image/png"'],
  ['content gif video', 'async', withContent(`data:video/gif;base64,${mp4Base64}`), 'InvalidParameter', 400, 'input.content', 'video/webm as the media type for input.content but received "video/gif"'],
  ['content ogg video', 'sync', withContent(`data:video/ogg;base64,${mp4Base64}`), 'InvalidParameter', 400, 'input.content', 'received "video/ogg"'],
  ['content empty media type', 'sync', withContent(`data:;base64,${mp4Base64}`), 'InvalidParameter', 400, 'input.content', 'as the media type for input.content but received ""'],
  ['base64 with "!"', 'sync', withContent('data:video/mp4;base64,AAAA!AAA'), 'InvalidParameter', 400, 'input.content', 'strict base64 video data for input.content but received the character "!" at offset 4'],
  ['base64 with a line break', 'sync', withContent('data:video/mp4;base64,AAAA\nAAAA'), 'InvalidParameter', 400, 'input.content', 'the character "\\n" at offset 4'],
  ['base64 with a space', 'sync', withContent('data:video/mp4;base64,AAAA AAAA'), 'InvalidParameter', 400, 'input.content', 'the character " " at offset 4'],
  ['base64url alphabet', 'sync', withContent('data:video/mp4;base64,AA-_'), 'InvalidParameter', 400, 'input.content', 'the character "-" at offset 2'],
  ['base64 length 5', 'sync', withContent('data:video/mp4;base64,AAAAA'), 'InvalidParameter', 400, 'input.content', 'data of 5 characters, not a multiple of 4'],
  ['base64 without padding', 'sync', withContent('data:video/mp4;base64,QQ'), 'InvalidParameter', 400, 'input.content', 'not a multiple of 4 (missing or extra padding)'],
  ['base64 with three "="', 'sync', withContent('data:video/mp4;base64,Q==='), 'InvalidParameter', 400, 'input.content', 'more than two "=" of padding'],
  ['base64 with "=" inside', 'sync', withContent('data:video/mp4;base64,QQ==QQ=='), 'InvalidParameter', 400, 'input.content', 'padding "=" before the end, at offset 2'],
  ['base64 with non-zero padding bits', 'sync', withContent('data:video/mp4;base64,QR=='), 'InvalidParameter', 400, 'input.content', 'non-zero padding bits'],
  ['empty video', 'sync', withContent('data:video/mp4;base64,'), 'InvalidParameter', 400, 'input.content', 'non-empty video data for input.content but received 0 bytes'],
  ['oss a number', 'sync', withInput({ oss: 1 }), 'InvalidParameter', 400, 'input.oss', 'a string of the form oss://<bucket>/<path> for input.oss but received 1'],
  ['oss over https', 'async', withInput({ oss: 'https://my-bucket/test.mp4' }), 'InvalidParameter', 400, 'input.oss', 'for input.oss but received "https://'],
  ['oss scheme only', 'sync', withInput({ oss: 'oss://' }), 'InvalidParameter', 400, 'input.oss', 'for input.oss but received "oss://"'],
  ['file_name with "/"', 'sync', withInput({ oss: inputOss, file_name: 'a/b.mp4' }), 'InvalidParameter', 400, 'input.file_name', 'without path separators or control characters for input.file_name but received "a/b.mp4"'],
  ['file_name with "\\"', 'sync', withInput({ oss: inputOss, file_name: 'a\\b.mp4' }), 'InvalidParameter', 400, 'input.file_name', 'for input.file_name'],
  ['file_name empty', 'sync', withInput({ oss: inputOss, file_name: '' }), 'InvalidParameter', 400, 'input.file_name', 'for input.file_name but received ""'],
  ['file_name ".."', 'sync', withInput({ oss: inputOss, file_name: '..' }), 'InvalidParameter', 400, 'input.file_name', 'received ".."'],
  ['file_name 256 bytes', 'sync', withInput({ oss: inputOss, file_name: 'a'.repeat(252) + '.mp4' }), 'InvalidParameter', 400, 'input.file_name', 'a file name of 1 to 255 bytes'],
  ['file_name 256 UTF-8 bytes in 128 characters', 'sync', withInput({ oss: inputOss, file_name: 'é'.repeat(128) }), 'InvalidParameter', 400, 'input.file_name', 'a file name of 1 to 255 bytes'],
  ['file_name with a control character', 'sync', withInput({ oss: inputOss, file_name: 'a\u0000.mp4' }), 'InvalidParameter', 400, 'input.file_name', 'control characters'],
  ['file_name a number', 'sync', withInput({ oss: inputOss, file_name: 7 }), 'InvalidParameter', 400, 'input.file_name', 'but received 7'],
  ['parameters an array', 'sync', withParameters([]), 'InvalidParameter', 400, 'parameters', 'a JSON object for parameters but received an array'],
  ['parameters null', 'async', withParameters(null), 'InvalidParameter', 400, 'parameters', 'for parameters but received null'],
  ['interval 0', 'sync', withParameters({ interval: 0 }), 'InvalidParameter', 400, 'parameters.interval', 'an integer number of seconds from 1 to 3600 for parameters.interval but received 0'],
  ['interval -1', 'sync', withParameters({ interval: -1 }), 'InvalidParameter', 400, 'parameters.interval', 'for parameters.interval but received -1'],
  ['interval 1.5', 'sync', withParameters({ interval: 1.5 }), 'InvalidParameter', 400, 'parameters.interval', 'for parameters.interval but received 1.5'],
  ['interval "1"', 'async', withParameters({ interval: '1' }), 'InvalidParameter', 400, 'parameters.interval', 'for parameters.interval but received "1"'],
  ['interval 99999', 'sync', withParameters({ interval: 99999 }), 'InvalidParameter', 400, 'parameters.interval', 'for parameters.interval but received 99999'],
  ['interval 3601', 'sync', withParameters({ interval: 3601 }), 'InvalidParameter', 400, 'parameters.interval', 'received 3601'],
  ['interval null', 'sync', withParameters({ interval: null }), 'InvalidParameter', 400, 'parameters.interval', 'received null'],
  ['format gif', 'sync', withParameters({ format: 'gif' }), 'InvalidParameter', 400, 'parameters.format', 'one of "jpg", "png", "webp" for parameters.format but received "gif"'],
  ['format in upper case', 'sync', withParameters({ format: 'JPG' }), 'InvalidParameter', 400, 'parameters.format', 'received "JPG"'],
  ['mode fast', 'async', withParameters({ mode: 'fast' }), 'InvalidParameter', 400, 'parameters.mode', 'one of "exact", "keyframe" for parameters.mode but received "fast"'],
  ['output missing', 'sync', { input: { oss: inputOss } }, 'InvalidParameter', 400, 'output', 'a JSON object for output but received undefined'],
  ['output null', 'async', withOutput(null), 'InvalidParameter', 400, 'output', 'for output but received null'],
  ['output.type ftp', 'sync', withOutput({ type: 'ftp', oss: outputOss }), 'InvalidParameter', 400, 'output.type', 'one of "base64", "oss" for output.type but received "ftp"'],
  ['base64 output on async', 'async', withOutput({ type: 'base64' }), 'InvalidParameter', 400, 'output.type', 'base64 output is available for sync calls only) for output.type but received "base64"'],
  ['type oss without output.oss', 'sync', withOutput({ type: 'oss' }), 'InvalidParameter', 400, 'output.oss', 'for output.oss but received undefined'],
  ['default type without output.oss', 'async', withOutput({}), 'InvalidParameter', 400, 'output.oss', 'a string of the form oss://<bucket>/<path> for output.oss'],
  ['output.oss not oss://', 'sync', withOutput({ oss: 's3://my-bucket/result' }), 'InvalidParameter', 400, 'output.oss', 'received "s3://my-bucket/result"'],
  ['output.oss with base64 output', 'sync', withOutput({ type: 'base64', oss: outputOss }), 'InvalidParameter', 400, 'output.oss', 'no value when output.type is "base64" for output.oss'],
];

describe('parseSnapshotRequest: malformed bodies', () => {
  it('has a table of at least 35 rows', () => {
    expect(badBodies.length).toBeGreaterThanOrEqual(35);
  });

  it.each(badBodies)('%s (%s)', (_name, kind, body, code, http, field, fragment) => {
    const error = apiErrorOf(() => parseSnapshotRequest(body, kind));
    expect(error.code).toBe(code);
    expect(error.httpCode).toBe(http);
    expect(error.parameter).toBe(field);
    expect(error.message).toMatch(/^Expected .+ for \S+ but received .+$/);
    expect(error.message).toContain(` for ${field} but received `);
    expect(error.message).toContain(fragment);
  });

  it('reports the first fault in body order: input, then parameters, then output', () => {
    const body = { input: {}, parameters: { interval: 0 }, output: null };
    expect(apiErrorOf(() => parseSnapshotRequest(body, 'sync')).parameter).toBe('input');
    expect(apiErrorOf(() => parseSnapshotRequest({ ...body, input: { oss: inputOss } }, 'sync')).parameter).toBe(
      'parameters.interval',
    );
  });

  it('never echoes more than the start of a long content string', () => {
    const error = apiErrorOf(() => parseSnapshotRequest(withContent('x'.repeat(100_000)), 'sync'));
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('parseSnapshotRequest: valid bodies', () => {
  const documentDefaults = {
    input: { type: 'oss', path: inputOss, fileName: 'test.mp4' },
    parameters: { interval: 1, format: 'jpg', mode: 'exact' },
    output: { type: 'oss', path: outputOss },
  };

  it("parses the document's async curl example to the documented defaults", () => {
    expect(parseSnapshotRequest(documentBody(), 'async')).toEqual({ kind: 'async', ...documentDefaults });
  });

  it("parses the document's sync curl example to the documented defaults", () => {
    expect(parseSnapshotRequest(documentBody(), 'sync')).toEqual({ kind: 'sync', ...documentDefaults });
  });

  it('parses the same body sent as JSON text and parsed', () => {
    const body: unknown = JSON.parse(JSON.stringify(documentBody()));
    expect(parseSnapshotRequest(body, 'async')).toEqual({ kind: 'async', ...documentDefaults });
  });

  it('defaults parameters when absent and output.type to oss', () => {
    const body = { input: { oss: inputOss }, output: { oss: outputOss } };
    expect(parseSnapshotRequest(body, 'async')).toEqual({ kind: 'async', ...documentDefaults });
  });

  it('keeps every parameter given, at the interval bounds', () => {
    for (const interval of [1, 3600]) {
      const request = parseSnapshotRequest(withParameters({ interval, format: 'png', mode: 'keyframe' }), 'sync');
      expect(request.parameters).toEqual({ interval, format: 'png', mode: 'keyframe' });
    }
  });

  it('decodes data URI content and names the file after the container', () => {
    const request = parseSnapshotRequest(withContent(`data:video/mp4;base64,${mp4Base64}`), 'sync');
    expect(request.input).toEqual({ type: 'content', data: mp4Bytes, container: 'mp4', fileName: 'video.mp4' });
    expect(Buffer.isBuffer(request.input.type === 'content' ? request.input.data : undefined)).toBe(true);
  });

  it.each([
    ['mp4', 'mp4'],
    ['avi', 'avi'],
    ['x-msvideo', 'avi'],
    ['mkv', 'mkv'],
    ['x-matroska', 'mkv'],
    ['mov', 'mov'],
    ['quicktime', 'mov'],
    ['flv', 'flv'],
    ['x-flv', 'flv'],
    ['webm', 'webm'],
  ])('accepts video/%s as %s', (subtype, container) => {
    const request = parseSnapshotRequest(withContent(`data:video/${subtype};base64,${mp4Base64}`), 'async');
    expect(request.input).toMatchObject({ type: 'content', container });
  });

  it('reads the scheme and media type case-insensitively', () => {
    const request = parseSnapshotRequest(withContent(`DATA:Video/QuickTime;BASE64,${mp4Base64}`), 'sync');
    expect(request.input).toMatchObject({ type: 'content', container: 'mov', data: mp4Bytes });
  });

  it.each([
    ['QQ==', [0x41]],
    ['QUI=', [0x41, 0x42]],
    ['QUJD', [0x41, 0x42, 0x43]],
    ['+/+/', [0xfb, 0xff, 0xbf]],
  ])('decodes strict base64 %s', (encoded, bytes) => {
    const request = parseSnapshotRequest(withContent(`data:video/webm;base64,${encoded}`), 'sync');
    expect(request.input).toMatchObject({ type: 'content', data: Buffer.from(bytes) });
  });

  it('keeps a given file_name, for content and for oss', () => {
    const content = withInput({ content: `data:video/mkv;base64,${mp4Base64}`, file_name: 'clip 01.mkv' });
    expect(parseSnapshotRequest(content, 'sync').input.fileName).toBe('clip 01.mkv');
    const oss = withInput({ oss: inputOss, file_name: 'é'.repeat(127) });
    expect(parseSnapshotRequest(oss, 'async').input.fileName).toBe('é'.repeat(127));
  });

  it('falls back to "video" when the oss path ends without a file name', () => {
    expect(parseSnapshotRequest(withInput({ oss: 'oss://my-bucket/dir/' }), 'sync').input.fileName).toBe('video');
  });

  it('returns base64 output for sync calls', () => {
    expect(parseSnapshotRequest(withOutput({ type: 'base64' }), 'sync').output).toEqual({ type: 'base64' });
  });

  it('ignores unknown keys at every level', () => {
    const body = {
      input: { oss: inputOss, region: 'cn-hangzhou' },
      parameters: { interval: 2, quality: 90 },
      output: { type: 'oss', oss: outputOss, acl: 'private' },
      trace: true,
    };
    expect(parseSnapshotRequest(body, 'async')).toEqual({
      ...documentDefaults,
      kind: 'async',
      parameters: { ...documentDefaults.parameters, interval: 2 },
    });
  });

  it('reads only own keys, never inherited ones', () => {
    const inherited = Object.assign(Object.create({ output: { oss: outputOss } }) as object, { input: { oss: inputOss } });
    expect(apiErrorOf(() => parseSnapshotRequest(inherited, 'sync')).parameter).toBe('body');
    const fromJson: unknown = JSON.parse(`{"input":{"oss":"${inputOss}"},"__proto__":{"output":{"oss":"${outputOss}"}}}`);
    expect(apiErrorOf(() => parseSnapshotRequest(fromJson, 'sync')).parameter).toBe('output');
  });

  it('accepts an object without a prototype', () => {
    const body = Object.assign(Object.create(null) as object, documentBody());
    expect(parseSnapshotRequest(body, 'sync')).toEqual({ kind: 'sync', ...documentDefaults });
  });
});

describe('strict base64, checked without re-encoding', () => {
  it('accepts exactly the strings that are the canonical base64 of their bytes', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n.';
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i += 1) {
      let text = '';
      const length = 4 + random(12);
      for (let j = 0; j < length; j += 1) text += alphabet[random(random(10) < 9 ? 64 : alphabet.length)];
      const bytes = Buffer.from(text, 'base64');
      const canonical = bytes.length > 0 && bytes.toString('base64') === text;
      const body = { input: { content: `data:video/mp4;base64,${text}` }, output: { type: 'base64' } };
      let accepted = true;
      try {
        parseSnapshotRequest(body, 'sync');
      } catch {
        accepted = false;
      }
      expect(accepted, JSON.stringify(text)).toBe(canonical);
    }
  });
});
