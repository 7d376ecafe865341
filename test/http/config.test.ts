import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  ConfigError,
  type LoadServeConfigOptions,
  loadServeConfig,
  serveDefaults,
  serveSettings,
} from '../../src/http/config.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vsnap-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(content: unknown, name = 'vsnap.json'): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function load(options: Partial<LoadServeConfigOptions> = {}) {
  return loadServeConfig({ flags: {}, env: {}, cwd: dir, ...options });
}

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadServeConfig defaults', () => {
  it('needs nothing: loopback, port 8080, ./data, one worker per core', () => {
    const workers = availableParallelism();
    expect(load()).toEqual({
      host: '127.0.0.1',
      port: 8080,
      dataDir: path.join(dir, 'data'),
      keysFile: undefined,
      configFile: undefined,
      defaultQps: 5,
      maxTasksPerKey: 100,
      workers,
      maxQueuedTasks: 10_000,
      maxQueuedSync: 2 * workers,
      jobTimeoutMs: 600_000,
      maxBodyBytes: 256 * 1024 * 1024,
      shutdownGraceMs: 30_000,
      logLevel: 'info',
      storage: 'local',
      queue: 'embedded',
      s3Endpoint: undefined,
      s3Region: 'us-east-1',
      s3ForcePathStyle: false,
      taskRetentionSeconds: 7 * 24 * 3600,
      backend: 'auto',
      maxDuration: 43200,
      maxPixels: 8192 * 8192,
      maxTargets: 100_000,
    });
  });

  it('derives the sync queue from the configured workers', () => {
    expect(load({ env: { VSNAP_WORKERS: '3' } })).toMatchObject({ workers: 3, maxQueuedSync: 6 });
    const file = writeConfig({ workers: 3, maxQueuedSync: 0 });
    expect(load({ flags: { config: file } })).toMatchObject({ workers: 3, maxQueuedSync: 0 });
  });

  it('keeps its defaults frozen', () => {
    expect(Object.isFrozen(serveDefaults)).toBe(true);
    expect(() => {
      (serveDefaults as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('loadServeConfig precedence', () => {
  it('takes a flag over the environment over the file over the default', () => {
    const config = writeConfig({ port: 9001, host: '10.0.0.1', logLevel: 'warn' });
    const env = { VSNAP_CONFIG: config, VSNAP_PORT: '9002', VSNAP_HOST: '10.0.0.2' };
    expect(load({ env, flags: { port: '9003' } })).toMatchObject({ port: 9003, host: '10.0.0.2', logLevel: 'warn' });
    expect(load({ env })).toMatchObject({ port: 9002, host: '10.0.0.2', configFile: config });
    expect(load({ env: { VSNAP_CONFIG: config } })).toMatchObject({ port: 9001, host: '10.0.0.1' });
    expect(load()).toMatchObject({ port: 8080, host: '127.0.0.1', logLevel: 'info' });
  });

  it('takes --config over VSNAP_CONFIG', () => {
    const fromFlag = writeConfig({ port: 9100 }, 'flag.json');
    const fromEnv = writeConfig({ port: 9200 }, 'env.json');
    expect(load({ flags: { config: fromFlag }, env: { VSNAP_CONFIG: fromEnv } })).toMatchObject({ port: 9100, configFile: fromFlag });
  });

  it('treats an empty environment variable as unset', () => {
    const config = writeConfig({ port: 9001 });
    expect(load({ flags: { config }, env: { VSNAP_PORT: '', VSNAP_HOST: '', VSNAP_CONFIG: '' } })).toMatchObject({
      port: 9001,
      host: '127.0.0.1',
    });
  });

  it('resolves paths in flags and the environment against cwd, in the file against the file', () => {
    const config = writeConfig({ dataDir: 'state', keysFile: '../secrets/keys.json' }, 'etc/vsnap.json');
    expect(load({ flags: { config: 'etc/vsnap.json' } })).toMatchObject({
      configFile: path.join(dir, 'etc', 'vsnap.json'),
      dataDir: path.join(dir, 'etc', 'state'),
      keysFile: path.join(dir, 'secrets', 'keys.json'),
    });
    expect(load({ flags: { config, 'data-dir': 'flagged' }, env: { VSNAP_KEYS_FILE: 'k.json' } })).toMatchObject({
      dataDir: path.join(dir, 'flagged'),
      keysFile: path.join(dir, 'k.json'),
    });
    expect(load({ env: { VSNAP_DATA_DIR: '/srv/vsnap' } }).dataDir).toBe('/srv/vsnap');
  });

  it('reads every setting from the file', () => {
    const settings = {
      host: '::',
      port: 0,
      dataDir: '/var/lib/vsnap',
      keysFile: '/etc/vsnap/keys.json',
      defaultQps: 20,
      maxTasksPerKey: 8,
      workers: 4,
      maxQueuedTasks: 50,
      maxQueuedSync: 1,
      jobTimeoutMs: 1000,
      maxBodyBytes: 1024,
      shutdownGraceMs: 0,
      logLevel: 'silent',
      storage: 's3',
      queue: 'redis://127.0.0.1:6379/2',
      s3Endpoint: 'http://127.0.0.1:9000',
      s3Region: 'oss-cn-hangzhou',
      s3ForcePathStyle: true,
      taskRetentionSeconds: 3600,
      backend: 'wasm',
      maxDuration: 600,
      maxPixels: 1920 * 1080,
      maxTargets: 500,
    };
    const config = writeConfig(settings);
    expect(load({ flags: { config } })).toEqual({ ...settings, configFile: config });
  });

  it.each(['0.0.0.0', '::', '::1', '127.0.0.1', 'localhost', 'vsnap-1.internal.example.com'])('accepts the host %s', (host) => {
    expect(load({ flags: { host } }).host).toBe(host);
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['65535', 65535],
  ])('accepts the port %s', (port, expected) => {
    expect(load({ flags: { port } }).port).toBe(expected);
  });
});

type BadRow = [name: string, options: () => Partial<LoadServeConfigOptions>, setting: string, message: string];

const badValues: BadRow[] = [
  ['storage unknown', () => ({ flags: { storage: 'gcs' } }), 'storage', 'Expected one of local, s3 for --storage but received "gcs"'],
  ['queue not a redis URL', () => ({ flags: { queue: 'amqp://x' } }), 'queue', 'Expected embedded or a redis:// or rediss:// URL for --queue but received "amqp://x"'],
  ['endpoint not http', () => ({ env: { AWS_ENDPOINT_URL: 'ftp://x' } }), 's3Endpoint', 'Expected an http:// or https:// URL for AWS_ENDPOINT_URL but received "ftp://x"'],
  ['path style not a boolean', () => ({ env: { VSNAP_S3_FORCE_PATH_STYLE: 'yes' } }), 's3ForcePathStyle', 'Expected true or false for VSNAP_S3_FORCE_PATH_STYLE but received "yes"'],
  ['retention under a minute', () => ({ flags: { config: writeConfig({ taskRetentionSeconds: 5 }) } }), 'taskRetentionSeconds', 'for "taskRetentionSeconds" in'],
  ['port not a number', () => ({ flags: { port: 'http' } }), 'port', 'Expected an integer from 0 to 65535 for --port but received "http"'],
  ['port negative', () => ({ flags: { port: '-1' } }), 'port', 'for --port but received "-1"'],
  ['port past 65535', () => ({ env: { VSNAP_PORT: '65536' } }), 'port', 'Expected an integer from 0 to 65535 for VSNAP_PORT but received "65536"'],
  ['port with a fraction', () => ({ flags: { port: '80.5' } }), 'port', 'for --port but received "80.5"'],
  ['port with spaces', () => ({ env: { VSNAP_PORT: ' 8080' } }), 'port', 'for VSNAP_PORT but received " 8080"'],
  ['port in hex', () => ({ flags: { port: '0x50' } }), 'port', 'for --port but received "0x50"'],
  ['port with a leading zero', () => ({ flags: { port: '08080' } }), 'port', 'for --port but received "08080"'],
  ['port a string in the file', () => ({ flags: { config: writeConfig({ port: '8080' }) } }), 'port', 'for "port" in '],
  ['port past 65535 in the file', () => ({ flags: { config: writeConfig({ port: 70000 }) } }), 'port', 'but received 70000'],
  ['host empty', () => ({ flags: { host: '' } }), 'host', 'Expected an IP address or a host name for --host but received ""'],
  ['host with a scheme', () => ({ flags: { host: 'http://localhost' } }), 'host', 'for --host but received "http://localhost"'],
  ['host with a port', () => ({ env: { VSNAP_HOST: 'localhost:8080' } }), 'host', 'for VSNAP_HOST but received "localhost:8080"'],
  ['host in brackets', () => ({ flags: { host: '[::1]' } }), 'host', 'received "[::1]"'],
  ['host with a space', () => ({ flags: { host: 'my host' } }), 'host', 'received "my host"'],
  ['host label ending in a dash', () => ({ flags: { host: 'bad-.example' } }), 'host', 'received "bad-.example"'],
  ['host a number in the file', () => ({ flags: { config: writeConfig({ host: 127 }) } }), 'host', 'but received 127'],
  ['data dir empty', () => ({ flags: { 'data-dir': '' } }), 'dataDir', 'Expected a non-empty path for --data-dir but received ""'],
  ['data dir null in the file', () => ({ flags: { config: writeConfig({ dataDir: null }) } }), 'dataDir', 'for "dataDir" in '],
  ['keys file a number', () => ({ flags: { config: writeConfig({ keysFile: 1 }) } }), 'keysFile', 'Expected a non-empty path for "keysFile"'],
  ['default qps zero', () => ({ flags: { config: writeConfig({ defaultQps: 0 }) } }), 'defaultQps', 'Expected an integer from 1 to 1000000 for "defaultQps"'],
  ['default qps a fraction', () => ({ flags: { config: writeConfig({ defaultQps: 2.5 }) } }), 'defaultQps', 'but received 2.5'],
  ['max tasks per key zero', () => ({ flags: { config: writeConfig({ maxTasksPerKey: 0 }) } }), 'maxTasksPerKey', 'Expected an integer from 1 to 1000000000 for "maxTasksPerKey"'],
  ['workers zero', () => ({ env: { VSNAP_WORKERS: '0' } }), 'workers', 'Expected an integer from 1 to 1024 for VSNAP_WORKERS but received "0"'],
  ['workers a word', () => ({ env: { VSNAP_WORKERS: 'auto' } }), 'workers', 'received "auto"'],
  ['max queued tasks zero', () => ({ flags: { config: writeConfig({ maxQueuedTasks: 0 }) } }), 'maxQueuedTasks', 'for "maxQueuedTasks" in '],
  ['max queued sync negative', () => ({ flags: { config: writeConfig({ maxQueuedSync: -1 }) } }), 'maxQueuedSync', 'Expected an integer from 0 to 10000'],
  ['job timeout past the timer limit', () => ({ flags: { config: writeConfig({ jobTimeoutMs: 2 ** 31 }) } }), 'jobTimeoutMs', 'from 1 to 2147483647'],
  ['job timeout a string', () => ({ flags: { config: writeConfig({ jobTimeoutMs: '10m' }) } }), 'jobTimeoutMs', 'but received "10m"'],
  ['body limit zero', () => ({ flags: { config: writeConfig({ maxBodyBytes: 0 }) } }), 'maxBodyBytes', 'Expected an integer from 1 to 536870888'],
  ['body limit past the longest string', () => ({ flags: { config: writeConfig({ maxBodyBytes: 2 ** 30 }) } }), 'maxBodyBytes', 'but received 1073741824'],
  ['grace negative', () => ({ flags: { config: writeConfig({ shutdownGraceMs: -5 }) } }), 'shutdownGraceMs', 'but received -5'],
  ['log level unknown', () => ({ env: { VSNAP_LOG_LEVEL: 'verbose' } }), 'logLevel', 'Expected one of fatal, error, warn, info, debug, trace, silent for VSNAP_LOG_LEVEL but received "verbose"'],
  ['log level in capitals', () => ({ env: { VSNAP_LOG_LEVEL: 'INFO' } }), 'logLevel', 'received "INFO"'],
  ['a bad file value a flag overrides', () => ({ flags: { port: '9000', config: writeConfig({ port: -1 }) } }), 'port', 'for "port" in '],
  ['a bad environment value a flag overrides', () => ({ flags: { port: '9000' }, env: { VSNAP_PORT: 'x' } }), 'port', 'for VSNAP_PORT'],
  ['config flag empty', () => ({ flags: { config: '' } }), 'config', 'Expected a non-empty path for --config but received ""'],
  ['config file missing', () => ({ flags: { config: 'absent.json' } }), 'config', 'Cannot read the config file '],
  ['config file not JSON', () => ({ env: { VSNAP_CONFIG: writeConfig('{ port: 80 }') } }), 'config', 'is not valid JSON: '],
  ['config file an array', () => ({ flags: { config: writeConfig([{ port: 80 }]) } }), 'config', 'Expected a JSON object in the config file'],
  ['config file null', () => ({ flags: { config: writeConfig('null') } }), 'config', 'but received null'],
  ['unknown key', () => ({ flags: { config: writeConfig({ prot: 80 }) } }), 'prot', 'Unknown setting "prot" in '],
  ['a key spelled as its flag', () => ({ flags: { config: writeConfig({ 'data-dir': 'x' }) } }), 'data-dir', 'Unknown setting "data-dir"'],
  ['API keys in the file', () => ({ flags: { config: writeConfig({ apiKeys: 'vs-abc' }) } }), 'apiKeys', 'Unknown setting "apiKeys"'],
  ['a __proto__ key', () => ({ flags: { config: writeConfig('{"__proto__": {"port": 1}}') } }), '__proto__', 'Unknown setting "__proto__"'],
];

describe('loadServeConfig refuses', () => {
  it.each(badValues)('%s', (_name, options, setting, message) => {
    const error = configErrorOf(() => load(options()));
    expect(error.code).toBe('VSNAP_INVALID_CONFIG');
    expect(error.name).toBe('ConfigError');
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
  });

  it('names the file in the message for file errors', () => {
    const config = writeConfig({ workers: 'many' });
    expect(configErrorOf(() => load({ flags: { config } })).message).toBe(
      `Expected an integer from 1 to 1024 for "workers" in ${config} but received "many"`,
    );
    const unknown = writeConfig({ port: 80, colour: 'blue' }, 'other.json');
    expect(configErrorOf(() => load({ flags: { config: unknown } })).message).toMatch(
      new RegExp(`^Unknown setting "colour" in ${unknown}; the settings are host, port, dataDir, keysFile, `),
    );
  });
});

describe('serveSettings', () => {
  it('documents every setting once, with the seven serve flags', () => {
    const names = serveSettings.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const configKeys = Object.keys(load()).filter((k) => k !== 'configFile');
    expect(names.sort()).toEqual([...configKeys, 'apiKeys', 'config'].sort());
    expect(serveSettings.flatMap((s) => (s.flag === undefined ? [] : [s.flag])).sort()).toEqual(
      ['--config', '--data-dir', '--host', '--port', '--storage', '--queue', '--backend'].sort(),
    );
  });

  it('names only VSNAP_ variables, and the AWS SDK\'s own for S3, and keeps API keys out of flags and the file', () => {
    for (const setting of serveSettings) {
      if (setting.env !== undefined) expect(setting.env).toMatch(/^(VSNAP_[A-Z0-9_]+|AWS_REGION|AWS_ENDPOINT_URL_S3 \(or AWS_ENDPOINT_URL\))$/);
      expect(setting.description.length).toBeGreaterThan(0);
    }
    expect(serveSettings.find((s) => s.name === 'apiKeys')).toMatchObject({ env: 'VSNAP_API_KEYS', flag: undefined, fileKey: undefined });
  });

  it('gives each file key and environment variable the effect it documents', () => {
    for (const setting of serveSettings) {
      if (setting.fileKey === undefined || setting.name === 'keysFile') continue;
      const value = load()[setting.name as keyof ReturnType<typeof load>];
      if (setting.env !== undefined && typeof value === 'number') {
        expect(load({ env: { [setting.env]: String(value + 1) } })).toMatchObject({ [setting.name]: value + 1 });
      }
      const config = writeConfig({ [setting.fileKey]: value });
      expect(load({ flags: { config } })).toMatchObject({ [setting.name]: value });
    }
  });

  it('quotes the defaults that loadServeConfig applies', () => {
    const loaded = load();
    for (const setting of serveSettings) {
      if (['config', 'apiKeys', 'keysFile', 'workers', 'maxQueuedSync', 's3Endpoint'].includes(setting.name)) continue;
      const value = loaded[setting.name as keyof typeof loaded];
      const shown = setting.name === 'dataDir' ? `./${path.relative(dir, value as string)}` : String(value);
      expect(setting.default).toBe(shown);
    }
  });
});
