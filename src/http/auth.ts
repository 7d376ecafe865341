/**
 * API keys: who may call the service, and at what rate.
 *
 * Where keys come from (`loadKeyRing`), all of them valid at once:
 * - `VSNAP_API_KEYS`: comma-separated keys, each optionally `KEY:QPS`
 *   (`vs-abc…,vs-def…:20`). No spaces; an empty entry is an error.
 * - the keys file (`keysFile` in the configuration), JSON:
 *     { "keys": [ { "key": "vs-…", "name": "ci", "qps": 20, "maxTasks": 10 }, … ] }
 *   `key` is required, `name`, `qps` and `maxTasks` are optional, other
 *   fields are refused, and the list may not be empty. Keep the file mode
 *   0600.
 * - neither: a key generated on first start into `DATA_DIR/api-key` (mode
 *   0600) and reused on every later start, so `vsnap serve` works with no
 *   setup; the caller prints it once, when `created`. Once keys are
 *   configured the generated one is no longer accepted.
 *
 * A key is an RFC 6750 bearer token (A-Z a-z 0-9 - . _ ~ + /, then optional
 * `=`) of 16 to 256 characters: shorter keys are guessable, and any other
 * character could not be sent as `Bearer <key>`. A key's rate is its `qps`,
 * else the configured default; its limit of unfinished tasks is its
 * `maxTasks`, else the configured default. Keys are unique, and so are names.
 *
 * Keys never appear in logs or error messages: an authenticated key is known
 * by its `id`, its configured name, else `sha256:` and the first 12 hex
 * digits of its SHA-256 (names cannot contain `:`, so the two never clash).
 *
 * `authenticate` takes the Authorization header (scheme `Bearer`, any case)
 * and compares the SHA-256 digest of the token with every key's digest using
 * crypto.timingSafeEqual, without stopping at a match: the time taken does
 * not depend on which key matched, or on how many keys there are before it.
 * Configuration errors throw ConfigError naming where the key was given.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

import { invalidApiKey } from './api-error.js';
import { ConfigError, type ServeConfig } from './config.js';
import { maxTasksCeiling } from './config-settings.js';
import { maxQps } from './rate-limit.js';

export interface AuthenticatedKey {
  /** The key's label for logs and rate limiting; never the key. */
  readonly id: string;
  readonly qps: number;
  readonly maxTasks: number;
}

/** What a key without its own settings gets. */
export interface KeyDefaults {
  qps: number;
  maxTasks: number;
}

export interface ApiKeySpec {
  key: string;
  /** Requests per second; the ring's default when absent. */
  qps?: number;
  /** Unfinished tasks at once; the ring's default when absent. */
  maxTasks?: number;
  /** The key's id; derived from its digest when absent. */
  name?: string;
  /** Where the key was configured, for error messages (`entry 2 of VSNAP_API_KEYS`). */
  source: string;
}

export interface GeneratedKey {
  key: string;
  /** True on the start that made it: the one time it should be printed. */
  created: boolean;
  /** The file that holds it. */
  path: string;
}

export const minKeyLength = 16;
export const maxKeyLength = 256;
export const generatedKeyFileName = 'api-key';

const bearerToken = /^[A-Za-z0-9\-._~+/]+=*$/;
const bearerHeader = /^bearer +(\S+)$/i;
const keyName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const keyForm = `a key of ${minKeyLength} to ${maxKeyLength} characters from A-Z a-z 0-9 - . _ ~ + / (then optional =)`;

interface Entry {
  digest: Buffer;
  identity: AuthenticatedKey;
  source: string;
}

export class KeyRing {
  readonly #entries: readonly Entry[];

  private constructor(entries: readonly Entry[]) {
    this.#entries = entries;
  }

  /** Checks every spec; throws ConfigError for a bad key, qps or name, or a duplicate. */
  static of(specs: readonly ApiKeySpec[], defaults: KeyDefaults): KeyRing {
    const entries: Entry[] = [];
    for (const spec of specs) {
      const defect = keyDefect(spec.key);
      if (defect !== undefined) {
        throw new ConfigError(`Expected ${keyForm} for ${spec.source} but received ${defect}`, 'apiKeys');
      }
      if (spec.qps !== undefined && !(Number.isInteger(spec.qps) && spec.qps >= 1 && spec.qps <= maxQps)) {
        throw new ConfigError(
          `Expected an integer from 1 to ${maxQps} for the qps of ${spec.source} but received ${String(spec.qps)}`,
          'apiKeys',
        );
      }
      if (spec.maxTasks !== undefined && !(Number.isInteger(spec.maxTasks) && spec.maxTasks >= 1 && spec.maxTasks <= maxTasksCeiling)) {
        throw new ConfigError(
          `Expected an integer from 1 to ${maxTasksCeiling} for the maxTasks of ${spec.source} but received ${String(spec.maxTasks)}`,
          'apiKeys',
        );
      }
      if (spec.name !== undefined && !keyName.test(spec.name)) {
        throw new ConfigError(
          `Expected a name of 1 to 64 characters from A-Z a-z 0-9 . _ - (starting with a letter or digit) for the name of ${spec.source} but received ${JSON.stringify(spec.name)}`,
          'apiKeys',
        );
      }
      const digest = sha256(spec.key);
      const id = spec.name ?? `sha256:${digest.toString('hex').slice(0, 12)}`;
      const twin = entries.find((e) => e.digest.equals(digest) || e.identity.id === id);
      if (twin !== undefined) {
        const what = twin.digest.equals(digest) ? 'the same key' : `the same name ${JSON.stringify(id)}`;
        throw new ConfigError(`${spec.source} has ${what} as ${twin.source}; keys and names must be unique`, 'apiKeys');
      }
      const identity = Object.freeze({ id, qps: spec.qps ?? defaults.qps, maxTasks: spec.maxTasks ?? defaults.maxTasks });
      entries.push({ digest, identity, source: spec.source });
    }
    return new KeyRing(entries);
  }

  /** The ids of the keys, in configuration order, for the start-up log. */
  get ids(): readonly string[] {
    return this.#entries.map((e) => e.identity.id);
  }

  /** The key the header presents; throws invalidApiKey('missing' | 'malformed' | 'unknown'). */
  authenticate(authorization: string | undefined): AuthenticatedKey {
    if (authorization === undefined || authorization === '') throw invalidApiKey('missing');
    const token = bearerHeader.exec(authorization)?.[1];
    if (token === undefined || !bearerToken.test(token)) throw invalidApiKey('malformed');
    const digest = sha256(token);
    let found: AuthenticatedKey | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(digest, entry.digest)) found = entry.identity;
    }
    if (found === undefined) throw invalidApiKey('unknown');
    return found;
  }
}

/** The keys of a `VSNAP_API_KEYS` value: `KEY[:QPS]` entries separated by commas. */
export function parseApiKeysVariable(value: string, variable = 'VSNAP_API_KEYS'): ApiKeySpec[] {
  return value.split(',').map((entry, index) => {
    const source = `entry ${index + 1} of ${variable}`;
    const [key = '', qps, ...rest] = entry.split(':');
    if (qps === undefined) return { key, source };
    if (rest.length > 0 || !/^[0-9]+$/.test(qps)) {
      const received = rest.length > 0 ? 'more than one ":"' : `the QPS ${JSON.stringify(qps)}`;
      throw new ConfigError(
        `Expected KEY or KEY:QPS, QPS an integer, for ${source} but received ${received}`,
        'apiKeys',
      );
    }
    return { key, qps: Number(qps), source };
  });
}

/** The keys of a keys file (the format is in the module comment). */
export function readKeysFile(file: string): ApiKeySpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read the keys file ${file}: ${(error as Error).message}`, 'keysFile', error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // V8's message quotes the text near the fault, which may be a key: neither it nor the error is kept.
    throw new ConfigError(`The keys file ${file} is not valid JSON`, 'keysFile');
  }
  const keys =
    isPlainObject(parsed) && Object.keys(parsed).every((field) => field === 'keys') ? parsed.keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError(
      `Expected {"keys": [{"key": ..., "name"?: ..., "qps"?: ..., "maxTasks"?: ...}, ...]} with at least one key in the keys file ${file}`,
      'keysFile',
    );
  }
  return keys.map((item: unknown, index) => {
    const source = `keys[${index}] in ${file}`;
    if (!isPlainObject(item)) throw new ConfigError(`Expected an object for ${source}`, 'keysFile');
    const defect = keyEntryDefect(item);
    if (defect !== undefined) {
      throw new ConfigError(
        `Expected {"key": string, "name"?: string, "qps"?: number, "maxTasks"?: number} for ${source} but received ${defect}`,
        'keysFile',
      );
    }
    return {
      key: item.key as string,
      name: item.name as string | undefined,
      qps: item.qps as number | undefined,
      maxTasks: item.maxTasks as number | undefined,
      source,
    };
  });
}

/**
 * The key in `DATA_DIR/api-key`, made on the first call. The file appears
 * whole or not at all (written aside, then linked into place), so a start
 * killed half-way leaves nothing to trip over, and two starts racing agree
 * on one key.
 */
export function ensureGeneratedKey(dataDir: string): GeneratedKey {
  const file = path.join(dataDir, generatedKeyFileName);
  const stored = readGeneratedKey(file);
  if (stored !== undefined) return { key: stored, created: false, path: file };
  mkdirSync(dataDir, { recursive: true });
  const key = `vs-${randomBytes(32).toString('base64url')}`;
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(aside, 'wx', 0o600);
  try {
    writeSync(fd, `${key}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(aside, file);
    return { key, created: true, path: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another start linked its key first; that one is the key.
    return { key: readGeneratedKey(file) as string, created: false, path: file };
  } finally {
    rmSync(aside, { force: true });
  }
}

/** The key stored in `file`, or undefined when there is no file. */
function readGeneratedKey(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`Cannot read the generated key file ${file}: ${(error as Error).message}`, 'apiKeys', error);
  }
  const key = text.trim();
  if (keyDefect(key) !== undefined) {
    throw new ConfigError(
      `The generated key file ${file} does not hold a valid key; delete it to have a new one made`,
      'apiKeys',
    );
  }
  return key;
}

export interface LoadedKeyRing {
  keyRing: KeyRing;
  /** Set when no key is configured and the generated key is in use. */
  generated: GeneratedKey | undefined;
}

/** The service's keys from `VSNAP_API_KEYS` (empty counts as unset) and the keys file, else the generated key. */
export function loadKeyRing(
  config: Pick<ServeConfig, 'keysFile' | 'defaultQps' | 'maxTasksPerKey' | 'dataDir'>,
  env: Readonly<Record<string, string | undefined>>,
): LoadedKeyRing {
  const variable = env.VSNAP_API_KEYS;
  const specs = [
    ...(variable === undefined || variable === '' ? [] : parseApiKeysVariable(variable)),
    ...(config.keysFile === undefined ? [] : readKeysFile(config.keysFile)),
  ];
  const defaults = { qps: config.defaultQps, maxTasks: config.maxTasksPerKey };
  if (specs.length > 0) return { keyRing: KeyRing.of(specs, defaults), generated: undefined };
  const generated = ensureGeneratedKey(config.dataDir);
  const keyRing = KeyRing.of([{ key: generated.key, name: 'generated', source: generated.path }], defaults);
  return { keyRing, generated };
}

/** What is wrong with a key, described without showing it; undefined when it is a valid key. */
function keyDefect(key: string): string | undefined {
  if (key.length === 0) return 'an empty key';
  if (key.length < minKeyLength || key.length > maxKeyLength) return `a key of ${key.length} characters`;
  if (bearerToken.test(key)) return undefined;
  const offset = key.search(/[^A-Za-z0-9\-._~+/=]/);
  return offset === -1 ? 'a key with "=" before its end' : `a key with a character not allowed at offset ${offset}`;
}

/** What is wrong with one entry of a keys file's list, or undefined when its fields have the right types. */
function keyEntryDefect(item: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(item).find((field) => !['key', 'name', 'qps', 'maxTasks'].includes(field));
  if (unknown !== undefined) return `the unknown field ${JSON.stringify(unknown)}`;
  if (typeof item.key !== 'string') return 'no "key" string';
  if (item.name !== undefined && typeof item.name !== 'string') return 'a "name" that is not a string';
  if (item.qps !== undefined && typeof item.qps !== 'number') return 'a "qps" that is not a number';
  if (item.maxTasks !== undefined && typeof item.maxTasks !== 'number') return 'a "maxTasks" that is not a number';
  return undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
