/**
 * The request body as JSON, parsed from the raw bytes express.raw collected
 * (size limit, Content-Encoding and Content-Length handled there).
 *
 * A sync or async call with `input.content` is megabytes of base64 inside
 * one JSON string. Decoding those bytes to a JavaScript string and running
 * JSON.parse over all of them costs more than anything else the service
 * does with the request, so there is one fast path, taken only when it must
 * give exactly what JSON.parse gives:
 * - the body has no backslash, so no string in it has an escape, and every
 *   `"` opens or closes a string: the bytes `"content"` followed by `:` are
 *   a key, and its string value runs to the next `"`;
 * - that value is cut out, the small rest (with a random placeholder in its
 *   place) goes through JSON.parse, and the fast path holds only if the
 *   placeholder came back at `input.content` (not another `content` key, not
 *   a duplicate key JSON.parse would let win); then the value is put back,
 *   read from the bytes directly.
 * Everything else, including every body JSON.parse refuses, takes the plain
 * path, so errors read the same either way. The one difference: a raw
 * control character inside the cut-out value, which JSON forbids, reaches
 * the data URI check instead of the JSON parser, and is refused there as
 * not base64: 400 InvalidParameter on either path.
 */

import { randomUUID } from 'node:crypto';

/** Below this size the plain path is as fast. */
const fastPathMinBytes = 64 * 1024;
const backslash = 0x5c;
const quote = 0x22;
const colon = 0x3a;
const contentKey = Buffer.from('"content"');
const utf8Bom = Buffer.from([0xef, 0xbb, 0xbf]);

/** Parses a JSON body; throws JSON.parse's SyntaxError for a body that is not JSON. */
export function parseJsonBody(raw: Buffer): unknown {
  const bytes = raw.subarray(0, utf8Bom.length).equals(utf8Bom) ? raw.subarray(utf8Bom.length) : raw;
  if (bytes.length >= fastPathMinBytes) {
    const fast = withLongContent(bytes);
    if (fast !== undefined) return fast;
  }
  return JSON.parse(bytes.toString('utf8'));
}

function withLongContent(bytes: Buffer): Record<string, unknown> | undefined {
  if (bytes.includes(backslash)) return undefined;
  const key = bytes.indexOf(contentKey);
  if (key === -1) return undefined;
  let at = skipSpace(bytes, key + contentKey.length);
  if (bytes[at] !== colon) return undefined;
  at = skipSpace(bytes, at + 1);
  if (bytes[at] !== quote) return undefined;
  const start = at + 1;
  const end = bytes.indexOf(quote, start);
  if (end === -1) return undefined;

  const placeholder = `vsnap-content-${randomUUID()}`;
  let body: unknown;
  try {
    body = JSON.parse(`${bytes.toString('utf8', 0, start)}${placeholder}${bytes.toString('utf8', end)}`);
  } catch {
    return undefined;
  }
  if (!isObject(body) || !isObject(body.input) || body.input.content !== placeholder) return undefined;
  // latin1 copies bytes one to one; for the ASCII of a data URI it equals UTF-8 decoding,
  // and anything else is no base64 and is refused by the data URI check.
  body.input.content = bytes.toString('latin1', start, end);
  return body;
}

function skipSpace(bytes: Buffer, from: number): number {
  let at = from;
  while (at < bytes.length && (bytes[at] === 0x20 || bytes[at] === 0x09 || bytes[at] === 0x0a || bytes[at] === 0x0d)) {
    at += 1;
  }
  return at;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
