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
 * an operator sets per deployment have a flag or an environment variable
 * (config-settings.ts, whose `serveSettings` table is re-exported here).
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

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

import { describeValue } from '../errors.js';
import {
  pathRule,
  type Rule,
  type ServeConfig,
  type ServeFlag,
  type Setting,
  type SettingName,
  serveDefaults,
  settingNames,
  settings,
} from './config-settings.js';

export { type ServeConfig, type ServeFlag, type SettingDoc, serveDefaults, serveSettings } from './config-settings.js';

export class ConfigError extends Error {
  readonly code = 'VSNAP_INVALID_CONFIG';
  /** The setting at fault (`port`), when one is. */
  readonly setting: string | undefined;

  constructor(message: string, setting?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

export interface LoadServeConfigOptions {
  /** String flag values as the command line gave them, by name without dashes. */
  flags: Readonly<Partial<Record<ServeFlag, string>>>;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

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
    const envName = [setting.env, setting.envFallback].find((name) => name !== undefined && nonEmpty(env[name]) !== undefined);
    const fromEnv = envName === undefined ? undefined : nonEmpty(env[envName]);
    const candidates = [
      flag === undefined ? undefined : checked(setting.rule, flag, `--${setting.flag}`, name, cwd),
      fromEnv === undefined ? undefined : checked(setting.rule, fromEnv, envName as string, name, cwd),
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
    maxTasksPerKey: given('maxTasksPerKey') ?? serveDefaults.maxTasksPerKey,
    workers,
    maxQueuedTasks: given('maxQueuedTasks') ?? serveDefaults.maxQueuedTasks,
    maxQueuedSync: given('maxQueuedSync') ?? serveDefaults.syncQueuePerWorker * workers,
    jobTimeoutMs: given('jobTimeoutMs') ?? serveDefaults.jobTimeoutMs,
    maxBodyBytes: given('maxBodyBytes') ?? serveDefaults.maxBodyBytes,
    shutdownGraceMs: given('shutdownGraceMs') ?? serveDefaults.shutdownGraceMs,
    logLevel: given('logLevel') ?? serveDefaults.logLevel,
    storage: given('storage') ?? serveDefaults.storage,
    queue: given('queue') ?? serveDefaults.queue,
    s3Endpoint: given('s3Endpoint'),
    s3Region: given('s3Region') ?? serveDefaults.s3Region,
    s3ForcePathStyle: given('s3ForcePathStyle') ?? serveDefaults.s3ForcePathStyle,
    taskRetentionSeconds: given('taskRetentionSeconds') ?? serveDefaults.taskRetentionSeconds,
    backend: given('backend') ?? serveDefaults.backend,
    maxDuration: given('maxDuration') ?? serveDefaults.maxDuration,
    maxPixels: given('maxPixels') ?? serveDefaults.maxPixels,
    maxTargets: given('maxTargets') ?? serveDefaults.maxTargets,
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
  return new ConfigError(`Expected ${rule.expects} for ${where} but received ${describeValue(received)}`, setting);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read the config file ${file}: ${(error as Error).message}`, 'config', error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`The config file ${file} is not valid JSON: ${(error as Error).message}`, 'config', error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      `Expected a JSON object in the config file ${file} but received ${describeValue(parsed)}`,
      'config',
    );
  }
  for (const key of Object.keys(parsed)) {
    if (!(settingNames as string[]).includes(key)) {
      throw new ConfigError(
        `Unknown setting ${JSON.stringify(key)} in ${file}; the settings are ${settingNames.join(', ')}`,
        key,
      );
    }
  }
  return parsed as Record<string, unknown>;
}
