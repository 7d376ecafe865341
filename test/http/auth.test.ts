import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ApiError } from '../../src/http/api-error.js';
import {
  type ApiKeySpec,
  ensureGeneratedKey,
  generatedKeyFileName,
  KeyRing,
  loadKeyRing,
  parseApiKeysVariable,
  readKeysFile,
} from '../../src/http/auth.js';
import { ConfigError } from '../../src/http/config.js';

const timingSafeEqual = vi.hoisted(() => ({ calls: 0 }));

vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      timingSafeEqual.calls += 1;
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const ciKey = 'vs-ci-0123456789abcdefABCDEF';
const batchKey = 'vs-batch_0123456789~+/abc==';
const plainKey = 'plain.key.0123456789';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vsnap-auth-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function ring(): KeyRing {
  return KeyRing.of(
    [
      { key: ciKey, name: 'ci', qps: 20, maxTasks: 3, source: 'test' },
      { key: batchKey, source: 'test' },
      { key: plainKey, name: 'plain', source: 'test' },
    ],
    { qps: 5, maxTasks: 100 },
  );
}

function errorOf<E extends Error>(type: new (...args: never[]) => E, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}`);
}

function writeKeysFile(content: unknown): string {
  const file = path.join(dir, 'keys.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('KeyRing.authenticate', () => {
  it('knows each key by its name or digest id, with its own qps or the default', () => {
    const keys = ring();
    expect(keys.authenticate(`Bearer ${ciKey}`)).toEqual({ id: 'ci', qps: 20, maxTasks: 3 });
    const batch = keys.authenticate(`Bearer ${batchKey}`);
    expect(batch.id).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(batch.qps).toBe(5);
    expect(keys.authenticate(`Bearer ${plainKey}`)).toEqual({ id: 'plain', qps: 5, maxTasks: 100 });
    expect(keys.ids).toEqual(['ci', batch.id, 'plain']);
  });

  it('answers the same identity every time, and never the key', () => {
    const keys = ring();
    expect(keys.authenticate(`Bearer ${batchKey}`)).toBe(keys.authenticate(`Bearer ${batchKey}`));
    const digest = createHash('sha256').update(batchKey).digest('hex');
    expect(keys.authenticate(`Bearer ${batchKey}`).id).toBe(`sha256:${digest.slice(0, 12)}`);
    for (const id of keys.ids) for (const key of [ciKey, batchKey, plainKey]) expect(id).not.toContain(key);
  });

  it.each([`Bearer ${ciKey}`, `bearer ${ciKey}`, `BEARER ${ciKey}`, `bEaReR ${ciKey}`, `Bearer   ${ciKey}`])(
    'reads the scheme in any case: %s',
    (header) => {
      expect(ring().authenticate(header).id).toBe('ci');
    },
  );

  it.each([
    ['no header', undefined, 'missing'],
    ['an empty header', '', 'missing'],
    ['another scheme', `Basic ${ciKey}`, 'malformed'],
    ['a token scheme', `Token ${ciKey}`, 'malformed'],
    ['the scheme alone', 'Bearer', 'malformed'],
    ['the scheme and a space', 'Bearer ', 'malformed'],
    ['no space after the scheme', `Bearer${ciKey}`, 'malformed'],
    ['a tab after the scheme', `Bearer\t${ciKey}`, 'malformed'],
    ['the key alone', ciKey, 'malformed'],
    ['two tokens', `Bearer ${ciKey} ${batchKey}`, 'malformed'],
    ['a comma-joined pair', `Bearer ${ciKey},${batchKey}`, 'malformed'],
    ['a quoted key', `Bearer "${ciKey}"`, 'malformed'],
    ['a non-ASCII key', 'Bearer vs-ключ-0123456789abcdef', 'malformed'],
    ['padding before the end', 'Bearer vs=ci-0123456789abcdef', 'malformed'],
    ['an unknown key', 'Bearer vs-unknown-0123456789abcdef', 'unknown'],
    ['a prefix of a key', `Bearer ${ciKey.slice(0, -1)}`, 'unknown'],
    ['a key with a character more', `Bearer ${ciKey}x`, 'unknown'],
    ['a key in another case', `Bearer ${ciKey.toUpperCase()}`, 'unknown'],
    ['a one-character token', 'Bearer x', 'unknown'],
  ])('refuses %s as %s', (_name, header, reason) => {
    const error = errorOf(ApiError, () => ring().authenticate(header));
    expect(error.code).toBe('InvalidApiKey');
    expect(error.httpCode).toBe(401);
    expect(error.message).toBe(
      {
        missing: 'The Authorization header is missing; expected "Bearer <API-KEY>"',
        malformed: 'The Authorization header is not of the form "Bearer <API-KEY>"',
        unknown: 'The API key is not valid',
      }[reason],
    );
  });

  it.each([
    ['the first key', `Bearer ${ciKey}`],
    ['the last key', `Bearer ${plainKey}`],
    ['an unknown key', 'Bearer vs-unknown-0123456789abcdef'],
  ])('compares %s with every key, without stopping at a match', (_name, header) => {
    const keys = ring();
    timingSafeEqual.calls = 0;
    try {
      keys.authenticate(header);
    } catch {
      // Only the comparisons matter here.
    }
    expect(timingSafeEqual.calls).toBe(3);
  });
});

type BadSpecRow = [name: string, specs: ApiKeySpec[], message: string];

const badSpecs: BadSpecRow[] = [
  ['an empty key', [{ key: '', source: 'entry 2 of VSNAP_API_KEYS' }], 'for entry 2 of VSNAP_API_KEYS but received an empty key'],
  ['a short key', [{ key: 'vs-short', source: 'here' }], 'Expected a key of 16 to 256 characters from A-Z a-z 0-9 - . _ ~ + / (then optional =) for here but received a key of 8 characters'],
  ['a long key', [{ key: 'k'.repeat(257), source: 'here' }], 'received a key of 257 characters'],
  ['a key with a space', [{ key: 'vs-0123456789 abcdef', source: 'here' }], 'received a key with a character not allowed at offset 13'],
  ['a key with a colon', [{ key: 'vs:0123456789abcdef', source: 'here' }], 'not allowed at offset 2'],
  ['a key with a newline', [{ key: 'vs-0123456789abcdef\n', source: 'here' }], 'not allowed at offset 19'],
  ['a key with "=" inside', [{ key: 'vs-0123=456789abcdef', source: 'here' }], 'received a key with "=" before its end'],
  ['a qps of zero', [{ key: ciKey, qps: 0, source: 'here' }], 'Expected an integer from 1 to 1000000 for the qps of here but received 0'],
  ['a fractional qps', [{ key: ciKey, qps: 2.5, source: 'here' }], 'for the qps of here but received 2.5'],
  ['a qps too high', [{ key: ciKey, qps: 1_000_001, source: 'here' }], 'but received 1000001'],
  ['a maxTasks of zero', [{ key: ciKey, maxTasks: 0, source: 'here' }], 'Expected an integer from 1 to 1000000000 for the maxTasks of here but received 0'],
  ['a fractional maxTasks', [{ key: ciKey, maxTasks: 1.5, source: 'here' }], 'for the maxTasks of here but received 1.5'],
  ['an empty name', [{ key: ciKey, name: '', source: 'here' }], 'for the name of here but received ""'],
  ['a name with a colon', [{ key: ciKey, name: 'sha256:abc', source: 'here' }], 'received "sha256:abc"'],
  ['a name with a space', [{ key: ciKey, name: 'my key', source: 'here' }], 'received "my key"'],
  ['a name of 65 characters', [{ key: ciKey, name: 'n'.repeat(65), source: 'here' }], 'Expected a name of 1 to 64 characters'],
  [
    'the same key twice',
    [
      { key: ciKey, name: 'a', source: 'entry 1 of VSNAP_API_KEYS' },
      { key: ciKey, name: 'b', source: 'keys[0] in keys.json' },
    ],
    'keys[0] in keys.json has the same key as entry 1 of VSNAP_API_KEYS; keys and names must be unique',
  ],
  [
    'the same name twice',
    [
      { key: ciKey, name: 'ci', source: 'keys[0]' },
      { key: batchKey, name: 'ci', source: 'keys[1]' },
    ],
    'keys[1] has the same name "ci" as keys[0]',
  ],
];

describe('KeyRing.of', () => {
  it.each(badSpecs)('refuses %s without showing the key', (_name, specs, message) => {
    const error = errorOf(ConfigError, () => KeyRing.of(specs, { qps: 5, maxTasks: 100 }));
    expect(error.code).toBe('VSNAP_INVALID_CONFIG');
    expect(error.message).toContain(message);
    for (const spec of specs) if (spec.key.length > 0) expect(error.message).not.toContain(spec.key);
  });
});

describe('parseApiKeysVariable', () => {
  it('reads KEY and KEY:QPS entries in order, naming each by position', () => {
    expect(parseApiKeysVariable(`${ciKey},${batchKey}:20`)).toEqual([
      { key: ciKey, source: 'entry 1 of VSNAP_API_KEYS' },
      { key: batchKey, qps: 20, source: 'entry 2 of VSNAP_API_KEYS' },
    ]);
  });

  it.each([
    ['a QPS that is not a number', `${ciKey}:fast`, 'for entry 1 of VSNAP_API_KEYS but received the QPS "fast"'],
    ['an empty QPS', `${batchKey},${ciKey}:`, 'for entry 2 of VSNAP_API_KEYS but received the QPS ""'],
    ['a negative QPS', `${ciKey}:-5`, 'received the QPS "-5"'],
    ['two colons', `${ciKey}:5:6`, 'received more than one ":"'],
  ])('refuses %s', (_name, value, message) => {
    const error = errorOf(ConfigError, () => parseApiKeysVariable(value));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(ciKey);
  });

  it('leaves key checks to the ring, which names the entry', () => {
    const error = errorOf(ConfigError, () => KeyRing.of(parseApiKeysVariable(`${ciKey},,${batchKey}`), { qps: 5, maxTasks: 100 }));
    expect(error.message).toContain('for entry 2 of VSNAP_API_KEYS but received an empty key');
    const spaced = errorOf(ConfigError, () => KeyRing.of(parseApiKeysVariable(`${ciKey}, ${batchKey}`), { qps: 5, maxTasks: 100 }));
    expect(spaced.message).toContain('for entry 2 of VSNAP_API_KEYS but received a key with a character not allowed at offset 0');
  });
});

describe('readKeysFile', () => {
  it('reads keys with optional name and qps, naming each by index and file', () => {
    const file = writeKeysFile({ keys: [{ key: ciKey, name: 'ci', qps: 20, maxTasks: 4 }, { key: batchKey }] });
    expect(readKeysFile(file)).toEqual([
      { key: ciKey, name: 'ci', qps: 20, maxTasks: 4, source: `keys[0] in ${file}` },
      { key: batchKey, name: undefined, qps: undefined, maxTasks: undefined, source: `keys[1] in ${file}` },
    ]);
  });

  it.each([
    ['a missing file', null, 'Cannot read the keys file '],
    ['text that is not JSON', `${ciKey}\n${batchKey}\n`, 'is not valid JSON'],
    ['JSON broken inside a key', `{"keys": [{"key": "${ciKey}\n"}]}`, 'is not valid JSON'],
    ['a bare array', [{ key: ciKey }], 'with at least one key in the keys file'],
    ['no keys field', { key: ciKey }, 'with at least one key in the keys file'],
    ['an extra top-level field', { keys: [{ key: ciKey }], defaultQps: 3 }, 'with at least one key in the keys file'],
    ['an empty list', { keys: [] }, 'with at least one key in the keys file'],
    ['a string entry', { keys: [ciKey] }, 'Expected an object for keys[0] in '],
    ['an unknown field', { keys: [{ key: ciKey, rate: 3 }] }, 'but received the unknown field "rate"'],
    ['no key', { keys: [{ name: 'ci' }] }, 'but received no "key" string'],
    ['a numeric key', { keys: [{ key: 1234567890123456 }] }, 'but received no "key" string'],
    ['a numeric name', { keys: [{ key: ciKey, name: 7 }] }, 'a "name" that is not a string'],
    ['a string qps', { keys: [{ key: ciKey, qps: '20' }] }, 'a "qps" that is not a number'],
    ['a string maxTasks', { keys: [{ key: ciKey, maxTasks: '20' }] }, 'a "maxTasks" that is not a number'],
  ])('refuses %s', (_name, content, message) => {
    const file = content === null ? path.join(dir, 'absent.json') : writeKeysFile(content);
    const error = errorOf(ConfigError, () => readKeysFile(file));
    expect(error.message).toContain(message);
    expect(error.message).toContain(file);
    expect(error.message).not.toContain(ciKey.slice(0, 8));
    expect(String((error.cause as Error | undefined)?.message)).not.toContain(ciKey.slice(0, 8));
  });
});

describe('ensureGeneratedKey', () => {
  it('makes a key once, in a file only its owner can read, and reuses it', () => {
    const dataDir = path.join(dir, 'data', 'nested');
    const first = ensureGeneratedKey(dataDir);
    const file = path.join(dataDir, generatedKeyFileName);
    expect(first).toEqual({ key: expect.stringMatching(/^vs-[A-Za-z0-9_-]{43}$/), created: true, path: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`${first.key}\n`);
    expect(ensureGeneratedKey(dataDir)).toEqual({ key: first.key, created: false, path: file });
    expect(readdirSync(dataDir)).toEqual([generatedKeyFileName]);
  });

  it('makes a different key in another data directory', () => {
    expect(ensureGeneratedKey(path.join(dir, 'a')).key).not.toBe(ensureGeneratedKey(path.join(dir, 'b')).key);
  });

  it('keeps a key an operator put in the file', () => {
    writeFileSync(path.join(dir, generatedKeyFileName), `${ciKey}\n`);
    expect(ensureGeneratedKey(dir)).toMatchObject({ key: ciKey, created: false });
  });

  it.each([
    ['empty', ''],
    ['too short', 'vs-short\n'],
    ['two keys', `${ciKey}\n${batchKey}\n`],
  ])('refuses a stored key that is %s, saying how to recover', (_name, content) => {
    writeFileSync(path.join(dir, generatedKeyFileName), content);
    const error = errorOf(ConfigError, () => ensureGeneratedKey(dir));
    expect(error.message).toBe(
      `The generated key file ${path.join(dir, generatedKeyFileName)} does not hold a valid key; delete it to have a new one made`,
    );
  });
});

describe('loadKeyRing', () => {
  const config = (keysFile?: string) => ({ keysFile, defaultQps: 7, maxTasksPerKey: 9, dataDir: path.join(dir, 'data') });

  it('takes the keys of VSNAP_API_KEYS and the keys file together', () => {
    const keysFile = writeKeysFile({ keys: [{ key: plainKey, name: 'plain', qps: 2 }] });
    const { keyRing, generated } = loadKeyRing(config(keysFile), { VSNAP_API_KEYS: `${ciKey}:20,${batchKey}` });
    expect(generated).toBeUndefined();
    expect(keyRing.ids).toHaveLength(3);
    expect(keyRing.authenticate(`Bearer ${ciKey}`).qps).toBe(20);
    expect(keyRing.authenticate(`Bearer ${batchKey}`).qps).toBe(7);
    expect(keyRing.authenticate(`Bearer ${plainKey}`)).toEqual({ id: 'plain', qps: 2, maxTasks: 9 });
  });

  it('refuses a key given in both places', () => {
    const keysFile = writeKeysFile({ keys: [{ key: ciKey }] });
    const error = errorOf(ConfigError, () => loadKeyRing(config(keysFile), { VSNAP_API_KEYS: ciKey }));
    expect(error.message).toBe(`keys[0] in ${keysFile} has the same key as entry 1 of VSNAP_API_KEYS; keys and names must be unique`);
  });

  it('generates a key when none is configured (an empty variable counts as none), and only then', () => {
    const first = loadKeyRing(config(), { VSNAP_API_KEYS: '' });
    expect(first.generated?.created).toBe(true);
    const key = first.generated?.key as string;
    expect(first.keyRing.authenticate(`Bearer ${key}`)).toEqual({ id: 'generated', qps: 7, maxTasks: 9 });

    const again = loadKeyRing(config(), {});
    expect(again.generated).toEqual({ ...first.generated, created: false });
    expect(again.keyRing.authenticate(`Bearer ${key}`).id).toBe('generated');

    const configured = loadKeyRing(config(), { VSNAP_API_KEYS: ciKey });
    expect(configured.generated).toBeUndefined();
    expect(errorOf(ApiError, () => configured.keyRing.authenticate(`Bearer ${key}`)).message).toBe('The API key is not valid');
  });
});
