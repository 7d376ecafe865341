/**
 * parseJsonBody must give what JSON.parse gives, whichever path it takes:
 * a table of large bodies built to hit and to dodge the long-content fast
 * path, each compared with JSON.parse of the same bytes.
 */

import { describe, expect, it } from 'vitest';

import { parseJsonBody } from '../../src/http/json-body.js';

const base64 = Buffer.alloc(100_000, 7).toString('base64');
const content = `data:video/mp4;base64,${base64}`;

const bodies: [string, string][] = [
  ['the documented shape', JSON.stringify({ input: { content }, parameters: { interval: 2 }, output: { type: 'base64' } })],
  ['spaces around the colon', `{ "input" : { "content" :\n\t "${content}" }, "output": {"type": "base64"} }`],
  ['content after other input fields', JSON.stringify({ input: { file_name: 'видео клип.mp4', content }, output: { oss: 'oss://b/ü' } })],
  ['an escaped slash, as some encoders write', JSON.stringify({ input: { content } }).replaceAll('/', '\\/')],
  ['another content key first', JSON.stringify({ parameters: { content: 'x' }, input: { content } })],
  ['a nested content key inside input first', JSON.stringify({ input: { meta: { content: 'small' }, content } })],
  ['a duplicate content key, the later one wins', `{"input":{"content":"${content}","content":"data:video/mp4;base64,AAAA"}}`],
  ['content not a string', JSON.stringify({ input: { content: 12 }, padding: base64 })],
  ['content in an array element', JSON.stringify([{ input: { content } }])],
  ['"content" as a value, not a key', JSON.stringify({ input: { oss: 'oss://b/x.mp4', tag: 'content' }, padding: base64 })],
  ['non-ASCII elsewhere', JSON.stringify({ input: { content }, note: '日本語 ✓ \u2028' })],
  ['a byte order mark', `\ufeff${JSON.stringify({ input: { content } })}`],
];

const invalid: [string, string][] = [
  ['a missing brace', `{"input":{"content":"${content}"}`],
  ['a trailing comma', `{"input":{"content":"${content}",}}`],
  ['an unterminated content string', `{"input":{"content":"${content}`],
  ['garbage after the object', `{"input":{"content":"${content}"}} x`],
];

describe('parseJsonBody', () => {
  it.each(bodies)('%s: the same value as JSON.parse', (_name, text) => {
    const expected: unknown = JSON.parse(text.replace(/^\ufeff/, ''));
    expect(parseJsonBody(Buffer.from(text))).toEqual(expected);
  });

  it.each(invalid)('%s: the same SyntaxError as JSON.parse', (_name, text) => {
    let expected: unknown;
    try {
      JSON.parse(text);
    } catch (error) {
      expected = error;
    }
    expect(expected).toBeInstanceOf(SyntaxError);
    expect(() => parseJsonBody(Buffer.from(text))).toThrow((expected as Error).message);
  });

  it('parses small bodies too', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,2,{"content":"x"}]}'))).toEqual({ a: [1, 2, { content: 'x' }] });
    expect(parseJsonBody(Buffer.from('42'))).toBe(42);
  });
});
