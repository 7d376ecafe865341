/**
 * The configuration of `vsnap serve`, merged once at start from, highest
 * precedence first:
 *   1. command-line flags (`--port`, `--host`, `--data-dir`, `--config`),
 *   2. environment variables (`VSNAP_*`; an empty variable counts as unset,
 *      as container tools often set unused ones to ""),
 *   3. a JSON config file named by `--config` or `VSNAP_CONFIG` (none is
 *      looked for otherwise: a file that silently applies is a surprise),
 *   4. the defaults (`serveDefaults`; `workers` is the CPU count and
 *      `maxQueuedSync` twice `workers`, so both follow the machine).
 *
 * Every setting has a key in the file (its name, camelCase); only the ones
 * an operator sets per deployment have a flag or an environment variable.
 * `serveSettings` is the table of all of them, for the README and help.
 *
 * Values are checked strictly: in the file a number must be a JSON number,
 * in flags and the environment it must be written in plain digits. Relative
 * paths are resolved against the working directory, or, in the file,
 * against the file's own directory, so a file means the same wherever the
 * service is started from. A bad value (even one a higher source
 * overrides) or an unknown file key throws one ConfigError (code
 * VSNAP_INVALID_CONFIG) whose message names the setting and its source.
 *
 * API keys are deliberately not part of ServeConfig (auth.ts reads
 * `VSNAP_API_KEYS` and the keys file), so the whole config can be logged.
 */

import { constants as bufferConstants } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';

import { describeValue } from '../errors.js';
import { type LogLevel, logLevels } from './logger.js';
import { maxQps } from './rate-limit.js';

export class ConfigError extends Error {
  readonly code = 'VSNAP_INVALID_CONFIG';
  /** The setting at fault (`port`), when one is. */
  readonly setting: string | undefined;

  constructor(message: string, details: { setting?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConfigError';
    this.setting = details.setting;
  }
}

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
  workers: number;
  maxQueuedTasks: number;
  maxQueuedSync: number;
  jobTimeoutMs: number;
  maxBodyBytes: number;
  shutdownGraceMs: number;
  logLevel: LogLevel;
}

export type ServeFlag = 'port' | 'host' | 'data-dir' | 'config';

export interface LoadServeConfigOptions {
  /** String flag values as the command line gave them, by name without dashes. */
  flags: Readonly<Partial<Record<ServeFlag, string>>>;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

type SettingName = Exclude<keyof ServeConfig, 'configFile'>;

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
  maxQueuedTasks: 10_000,
  syncQueuePerWorker: 2,
  jobTimeoutMs: 10 * 60_000,
  maxBodyBytes: 256 * 1024 * 1024,
  shutdownGraceMs: 30_000,
  logLevel: 'info' as LogLevel,
});

/** A check of one value: what it must be, and the value if it is (paths resolved against `base`). */
interface Rule<T> {
  expects: string;
  numeric: boolean;
  accept(value: unknown, base: string): T | undefined;
}

function integer(min: number, max: number): Rule<number> {
  return {
    expects: `an integer from ${min} to ${max}`,
    numeric: true,
    accept: (value) => (Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max ? (value as number) : undefined),
  };
}

const hostLabel = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

const hostRule: Rule<string> = {
  expects: 'an IP address or a host name',
  numeric: false,
  accept: (value) =>
    typeof value === 'string' && (isIP(value) !== 0 || (value.length <= 253 && value.split('.').every((l) => hostLabel.test(l))))
      ? value
      : undefined,
};

const pathRule: Rule<string> = {
  expects: 'a non-empty path',
  numeric: false,
  accept: (value, base) => (typeof value === 'string' && value !== '' && !value.includes('\0') ? path.resolve(base, value) : undefined),
};

const logLevelRule: Rule<LogLevel> = {
  expects: `one of ${logLevels.join(', ')}`,
  numeric: false,
  accept: (value) => ((logLevels as readonly unknown[]).includes(value) ? (value as LogLevel) : undefined),
};

interface Setting<T> {
  flag?: ServeFlag;
  env?: string;
  rule: Rule<T>;
  default: string;
  description: string;
}

// setTimeout fires at once for delays past 2^31-1 ms, so no timer setting may exceed it.
const maxTimerMs = 2 ** 31 - 1;

const settings: { readonly [K in SettingName]: Setting<NonNullable<ServeConfig[K]>> } = {
  host: { flag: 'host', env: 'VSNAP_HOST', rule: hostRule, default: serveDefaults.host, description: 'address to listen on' },
  port: { flag: 'port', env: 'VSNAP_PORT', rule: integer(0, 65535), default: String(serveDefaults.port), description: 'TCP port; 0 picks a free one' },
  dataDir: {
    flag: 'data-dir',
    env: 'VSNAP_DATA_DIR',
    rule: pathRule,
    default: `./${serveDefaults.dataDir}`,
    description: 'tasks database, spooled uploads, oss:// objects (DATA_DIR/oss/BUCKET/KEY), the generated API key',
  },
  keysFile: { env: 'VSNAP_KEYS_FILE', rule: pathRule, default: 'none', description: 'JSON file of API keys with optional per-key QPS and name' },
  defaultQps: { rule: integer(1, maxQps), default: String(serveDefaults.defaultQps), description: 'requests per second allowed to a key without its own qps' },
  workers: { env: 'VSNAP_WORKERS', rule: integer(1, 1024), default: 'CPU cores', description: 'worker processes decoding videos' },
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
  jobTimeoutMs: { rule: integer(1, maxTimerMs), default: String(serveDefaults.jobTimeoutMs), description: 'a job running longer is stopped and fails' },
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
  logLevel: { env: 'VSNAP_LOG_LEVEL', rule: logLevelRule, default: serveDefaults.logLevel, description: 'JSON log level on stdout' },
};

const settingNames = Object.keys(settings) as SettingName[];

/** Every setting: where it can be given, its default and what it does. */
export const serveSettings: readonly SettingDoc[] = Object.freeze([
  { name: 'config', flag: '--config', env: 'VSNAP_CONFIG', fileKey: undefined, default: 'none', description: 'JSON config file to read' },
  {
    name: 'apiKeys',
    flag: undefined,
    env: 'VSNAP_API_KEYS',
    fileKey: undefined,
    default: 'none (a key is generated)',
    description: 'comma-separated API keys, each optionally KEY:QPS; kept out of flags and the config file, which are easily seen',
  },
  ...settingNames.map((name) => {
    const setting: Setting<unknown> = settings[name];
    return {
      name,
      flag: setting.flag === undefined ? undefined : `--${setting.flag}`,
      env: setting.env,
      fileKey: name,
      default: setting.default,
      description: setting.description,
    };
  }),
]);

export function loadServeConfig(options: LoadServeConfigOptions): ServeConfig {
  const { flags, env, cwd } = options;
  const configValue = flags.config ?? nonEmpty(env.VSNAP_CONFIG);
  const configWhere = flags.config === undefined ? 'VSNAP_CONFIG' : '--config';
  const configFile = configValue === undefined ? undefined : checked(pathRule, configValue, configWhere, 'config', cwd);
  const file = configFile === undefined ? {} : readConfigFile(configFile);

  /**
   * The value of one setting from the first source that gives it. Every
   * source is checked, even one a higher source overrides: a bad value left
   * in a file or the environment would otherwise surface only on the day the
   * override is removed.
   */
  function given<K extends SettingName>(name: K): ServeConfig[K] | undefined {
    const setting: Setting<NonNullable<ServeConfig[K]>> = settings[name];
    const flag = setting.flag === undefined ? undefined : flags[setting.flag];
    const fromEnv = setting.env === undefined ? undefined : nonEmpty(env[setting.env]);
    const candidates = [
      flag === undefined ? undefined : checked(setting.rule, flag, `--${setting.flag}`, name, cwd),
      fromEnv === undefined ? undefined : checked(setting.rule, fromEnv, setting.env as string, name, cwd),
      configFile === undefined || !Object.hasOwn(file, name)
        ? undefined
        : checkedFileValue(setting.rule, file[name], name, configFile),
    ];
    return candidates.find((value) => value !== undefined);
  }

  const workers = given('workers') ?? availableParallelism();
  return {
    host: given('host') ?? serveDefaults.host,
    port: given('port') ?? serveDefaults.port,
    dataDir: given('dataDir') ?? path.resolve(cwd, serveDefaults.dataDir),
    keysFile: given('keysFile'),
    configFile,
    defaultQps: given('defaultQps') ?? serveDefaults.defaultQps,
    workers,
    maxQueuedTasks: given('maxQueuedTasks') ?? serveDefaults.maxQueuedTasks,
    maxQueuedSync: given('maxQueuedSync') ?? serveDefaults.syncQueuePerWorker * workers,
    jobTimeoutMs: given('jobTimeoutMs') ?? serveDefaults.jobTimeoutMs,
    maxBodyBytes: given('maxBodyBytes') ?? serveDefaults.maxBodyBytes,
    shutdownGraceMs: given('shutdownGraceMs') ?? serveDefaults.shutdownGraceMs,
    logLevel: given('logLevel') ?? serveDefaults.logLevel,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/** A flag or environment value: text, digits only for numbers. */
function checked<T>(rule: Rule<T>, text: string, where: string, setting: string, base: string): T {
  const value = rule.numeric && /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : text;
  const accepted = rule.numeric && typeof value === 'string' ? undefined : rule.accept(value, base);
  if (accepted === undefined) throw invalidSetting(rule, where, text, setting);
  return accepted;
}

function checkedFileValue<T>(rule: Rule<T>, value: unknown, setting: string, file: string): T {
  const accepted = rule.accept(value, path.dirname(file));
  if (accepted === undefined) throw invalidSetting(rule, `"${setting}" in ${file}`, value, setting);
  return accepted;
}

function invalidSetting(rule: Rule<unknown>, where: string, received: unknown, setting: string): ConfigError {
  return new ConfigError(`Expected ${rule.expects} for ${where} but received ${describeValue(received)}`, { setting });
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read the config file ${file}: ${(error as Error).message}`, { setting: 'config', cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`The config file ${file} is not valid JSON: ${(error as Error).message}`, { setting: 'config', cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`Expected a JSON object in the config file ${file} but received ${describeValue(parsed)}`, { setting: 'config' });
  }
  for (const key of Object.keys(parsed)) {
    if (!(settingNames as string[]).includes(key)) {
      throw new ConfigError(`Unknown setting ${JSON.stringify(key)} in ${file}; the settings are ${settingNames.join(', ')}`, {
        setting: key,
      });
    }
  }
  return parsed as Record<string, unknown>;
}
