/**
 * The settings of `vsnap serve`, one table: for each, its flag and
 * environment variable (only the ones an operator sets per deployment have
 * them), its key in the config file (its own name, camelCase), the check of
 * its value, its default and what it does. config.ts merges the sources;
 * `serveSettings` is the table as docs/configuration.md and help quote it.
 *
 * The upper bounds keep values Node can honour (timers, string lengths) or
 * catch a value typed in the wrong unit; they are not tuning advice.
 */

import { constants as bufferConstants } from 'node:buffer';
import { isIP } from 'node:net';
import path from 'node:path';

import { backendChoices, type BackendChoice } from '../engine/backend.js';
import { defaultLimits, limitEnv } from '../limits.js';
import { type LogLevel, logLevels } from './logger.js';
import { maxTimerMs } from '../tasks/option-checks.js';
import { maxQps } from './rate-limit.js';

export interface ServeConfig {
  host: string;
  port: number;
  /** Absolute. */
  dataDir: string;
  /** Absolute; the JSON keys file auth.ts reads, when configured. */
  keysFile: string | undefined;
  /** Absolute; the config file that was read, when one was. */
  configFile: string | undefined;
  defaultQps: number;
  /** Unfinished tasks a key without its own `maxTasks` may have at once. */
  maxTasksPerKey: number;
  workers: number;
  maxQueuedTasks: number;
  maxQueuedSync: number;
  jobTimeoutMs: number;
  maxBodyBytes: number;
  shutdownGraceMs: number;
  logLevel: LogLevel;
  /** Where oss:// paths live: the data directory, or an S3-compatible store. */
  storage: StorageKind;
  /** 'embedded' (SQLite + this process's workers) or a redis:// URL (BullMQ; `vsnap worker` processes). */
  queue: string;
  /** The S3 endpoint URL; undefined for AWS's own. */
  s3Endpoint: string | undefined;
  s3Region: string;
  s3ForcePathStyle: boolean;
  /** Seconds a finished task stays readable. */
  taskRetentionSeconds: number;
  /** The decode backend the workers use. */
  backend: BackendChoice;
  /** The limits of each job (limits.ts). */
  maxDuration: number;
  maxPixels: number;
  maxTargets: number;
}

/** The highest `maxTasks` a key or the default may be given; it only catches a mistyped setting. */
export const maxTasksCeiling = 1_000_000_000;

export type StorageKind = 'local' | 's3';

export type ServeFlag = 'port' | 'host' | 'data-dir' | 'config' | 'storage' | 'queue' | 'backend';

export type SettingName = Exclude<keyof ServeConfig, 'configFile'>;

/** One row of the settings table. */
export interface SettingDoc {
  name: string;
  flag: string | undefined;
  env: string | undefined;
  fileKey: string | undefined;
  default: string;
  description: string;
}

export const serveDefaults = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  dataDir: 'data',
  defaultQps: 5,
  maxTasksPerKey: 100,
  maxQueuedTasks: 10_000,
  syncQueuePerWorker: 2,
  jobTimeoutMs: 10 * 60_000,
  maxBodyBytes: 256 * 1024 * 1024,
  shutdownGraceMs: 30_000,
  logLevel: 'info' as LogLevel,
  storage: 'local' as StorageKind,
  queue: 'embedded',
  s3Region: 'us-east-1',
  s3ForcePathStyle: false,
  taskRetentionSeconds: 7 * 24 * 3600,
  backend: 'auto' as BackendChoice,
  ...defaultLimits,
});

/** A check of one value: what it must be, and the value if it is (paths resolved against `base`). */
export interface Rule<T> {
  expects: string;
  numeric: boolean;
  accept(value: unknown, base: string): T | undefined;
}

function integer(min: number, max: number): Rule<number> {
  return {
    expects: `an integer from ${min} to ${max}`,
    numeric: true,
    accept: (value) =>
      Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
        ? (value as number)
        : undefined,
  };
}

const hostLabel = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

const hostRule: Rule<string> = {
  expects: 'an IP address or a host name',
  numeric: false,
  accept: (value) =>
    typeof value === 'string' &&
    (isIP(value) !== 0 || (value.length <= 253 && value.split('.').every((l) => hostLabel.test(l))))
      ? value
      : undefined,
};

export const pathRule: Rule<string> = {
  expects: 'a non-empty path',
  numeric: false,
  accept: (value, base) =>
    typeof value === 'string' && value !== '' && !value.includes('\0') ? path.resolve(base, value) : undefined,
};

function choice<T extends string>(choices: readonly T[]): Rule<T> {
  return {
    expects: `one of ${choices.join(', ')}`,
    numeric: false,
    accept: (value) => ((choices as readonly unknown[]).includes(value) ? (value as T) : undefined),
  };
}

const booleanRule: Rule<boolean> = {
  expects: 'true or false',
  numeric: false,
  accept: (value) => {
    if (value === true || value === 'true' || value === '1') return true;
    if (value === false || value === 'false' || value === '0') return false;
    return undefined;
  },
};

/** `embedded`, or a Redis URL as ioredis reads it. */
const queueRule: Rule<string> = {
  expects: 'embedded or a redis:// or rediss:// URL',
  numeric: false,
  accept: (value) => {
    if (value === 'embedded') return value;
    if (typeof value !== 'string' || !/^rediss?:\/\//.test(value)) return undefined;
    return URL.canParse(value) ? value : undefined;
  },
};

const httpUrlRule: Rule<string> = {
  expects: 'an http:// or https:// URL',
  numeric: false,
  accept: (value) =>
    typeof value === 'string' && /^https?:\/\//.test(value) && URL.canParse(value) ? value : undefined,
};

const regionRule: Rule<string> = {
  expects: 'a region name such as us-east-1',
  numeric: false,
  accept: (value) => (typeof value === 'string' && /^[a-z0-9-]{1,64}$/.test(value) ? value : undefined),
};

const logLevelRule: Rule<LogLevel> = {
  expects: `one of ${logLevels.join(', ')}`,
  numeric: false,
  accept: (value) => ((logLevels as readonly unknown[]).includes(value) ? (value as LogLevel) : undefined),
};

export interface Setting<T> {
  flag?: ServeFlag;
  env?: string;
  /** Read when `env` is unset: AWS's general endpoint variable behind its S3-specific one. */
  envFallback?: string;
  rule: Rule<T>;
  default: string;
  description: string;
}


export const settings: { readonly [K in SettingName]: Setting<NonNullable<ServeConfig[K]>> } = {
  host: {
    flag: 'host',
    env: 'VSNAP_HOST',
    rule: hostRule,
    default: serveDefaults.host,
    description: 'address to listen on',
  },
  port: {
    flag: 'port',
    env: 'VSNAP_PORT',
    rule: integer(0, 65535),
    default: String(serveDefaults.port),
    description: 'TCP port; 0 picks a free one',
  },
  dataDir: {
    flag: 'data-dir',
    env: 'VSNAP_DATA_DIR',
    rule: pathRule,
    default: `./${serveDefaults.dataDir}`,
    description: 'tasks database, spooled uploads, oss:// objects (DATA_DIR/oss/BUCKET/KEY), the generated API key',
  },
  keysFile: {
    env: 'VSNAP_KEYS_FILE',
    rule: pathRule,
    default: 'none',
    description: 'JSON file of API keys with optional per-key QPS and name',
  },
  defaultQps: {
    rule: integer(1, maxQps),
    default: String(serveDefaults.defaultQps),
    description: 'requests per second allowed to a key without its own qps',
  },
  maxTasksPerKey: {
    rule: integer(1, maxTasksCeiling),
    default: String(serveDefaults.maxTasksPerKey),
    description: 'unfinished tasks (async PENDING, sync running) a key without its own maxTasks may have; one more answers 429 Throttling',
  },
  workers: {
    env: 'VSNAP_WORKERS',
    rule: integer(1, 1024),
    default: 'CPU cores',
    description: 'worker processes decoding videos',
  },
  maxQueuedTasks: {
    rule: integer(1, 1_000_000_000),
    default: String(serveDefaults.maxQueuedTasks),
    description: 'PENDING async tasks accepted before POST .../async answers 503',
  },
  maxQueuedSync: {
    // Each waiting sync call holds its whole body in memory, hence the low ceiling.
    rule: integer(0, 10_000),
    default: `${serveDefaults.syncQueuePerWorker} × workers`,
    description: 'sync calls waiting for a worker before POST .../sync answers 503',
  },
  jobTimeoutMs: {
    rule: integer(1, maxTimerMs),
    default: String(serveDefaults.jobTimeoutMs),
    description: 'a job running longer is stopped and fails',
  },
  maxBodyBytes: {
    // The JSON body is parsed as one string, and V8 strings cannot be longer.
    rule: integer(1, bufferConstants.MAX_STRING_LENGTH),
    default: String(serveDefaults.maxBodyBytes),
    description: 'largest request body (base64 video travels in it); larger is 400 InvalidParameter',
  },
  shutdownGraceMs: {
    rule: integer(0, maxTimerMs),
    default: String(serveDefaults.shutdownGraceMs),
    description: 'on SIGTERM, how long running tasks may finish before they go back to PENDING',
  },
  logLevel: {
    env: 'VSNAP_LOG_LEVEL',
    rule: logLevelRule,
    default: serveDefaults.logLevel,
    description: 'JSON log level on stdout',
  },
  storage: {
    flag: 'storage',
    env: 'VSNAP_STORAGE',
    rule: choice(['local', 's3'] as const),
    default: serveDefaults.storage,
    description: 'where oss://BUCKET/KEY lives: local is DATA_DIR/oss/BUCKET/KEY, s3 the bucket BUCKET of the S3-compatible store',
  },
  queue: {
    flag: 'queue',
    env: 'VSNAP_QUEUE',
    rule: queueRule,
    default: serveDefaults.queue,
    description: 'embedded (SQLite and this process\'s workers) or redis://HOST:PORT (BullMQ; run `vsnap worker` processes)',
  },
  s3Endpoint: {
    env: 'AWS_ENDPOINT_URL_S3',
    envFallback: 'AWS_ENDPOINT_URL',
    rule: httpUrlRule,
    default: "AWS's",
    description: 'the S3-compatible endpoint (MinIO, OSS, Ceph); credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  },
  s3Region: {
    env: 'AWS_REGION',
    rule: regionRule,
    default: serveDefaults.s3Region,
    description: 'the region requests are signed for',
  },
  s3ForcePathStyle: {
    env: 'VSNAP_S3_FORCE_PATH_STYLE',
    rule: booleanRule,
    default: String(serveDefaults.s3ForcePathStyle),
    description: 'address buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT (MinIO and most self-hosted stores need true)',
  },
  taskRetentionSeconds: {
    rule: integer(60, 10 * 365 * 24 * 3600),
    default: String(serveDefaults.taskRetentionSeconds),
    description: 'how long a finished task stays readable through task-status',
  },
  backend: {
    flag: 'backend',
    env: 'VSNAP_BACKEND',
    rule: choice(backendChoices),
    default: serveDefaults.backend,
    description: 'decode backend: native (the FFmpeg addon), wasm (FFmpeg in WebAssembly, slower), auto (native when it loads)',
  },
  maxDuration: {
    env: limitEnv.maxDuration,
    rule: integer(1, 10 * 365 * 24 * 3600),
    default: String(serveDefaults.maxDuration),
    description: 'longest video a job decodes, in seconds; longer fails with InvalidParameter before decoding',
  },
  maxPixels: {
    env: limitEnv.maxPixels,
    rule: integer(1, Number.MAX_SAFE_INTEGER),
    default: String(serveDefaults.maxPixels),
    description: 'largest frame (width x height) a job decodes; larger fails with InvalidParameter before decoding',
  },
  maxTargets: {
    env: limitEnv.maxTargets,
    rule: integer(1, Number.MAX_SAFE_INTEGER),
    default: String(serveDefaults.maxTargets),
    description: 'most targets (duration / interval) a job plans; more fails with InvalidParameter before planning',
  },
};

export const settingNames = Object.keys(settings) as SettingName[];

/** Every setting: where it can be given, its default and what it does. */
export const serveSettings: readonly SettingDoc[] = Object.freeze([
  {
    name: 'config',
    flag: '--config',
    env: 'VSNAP_CONFIG',
    fileKey: undefined,
    default: 'none',
    description: 'JSON config file to read',
  },
  {
    name: 'apiKeys',
    flag: undefined,
    env: 'VSNAP_API_KEYS',
    fileKey: undefined,
    default: 'none (a key is generated)',
    description:
      'comma-separated API keys, each optionally KEY:QPS; kept out of flags and the config file, which are easily seen',
  },
  ...settingNames.map((name) => {
    const setting: Setting<unknown> = settings[name];
    return {
      name,
      flag: setting.flag === undefined ? undefined : `--${setting.flag}`,
      env: setting.envFallback === undefined ? setting.env : `${setting.env} (or ${setting.envFallback})`,
      fileKey: name,
      default: setting.default,
      description: setting.description,
    };
  }),
]);
