/**
 * Which Store a process uses, as plain JSON data: the server hands it to
 * its worker processes (an environment variable), which build their own
 * Store from it, since a Store object cannot cross a process boundary.
 *
 * Two kinds: `{"type":"local","dataDir":"..."}` and
 * `{"type":"s3","endpoint":"...","region":"...","forcePathStyle":false}`.
 * Another backend is one more member of `StoreConfig`, one more case in
 * `parseStoreConfig` and in `createStore`.
 *
 * No credentials are part of it, because it travels in the environment and
 * may be logged: the S3 store's SDK reads AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY from the environment, which worker processes
 * inherit. For the same reason an endpoint carrying a user name or password
 * is refused, and `parseStoreConfig` never echoes such an endpoint or the
 * whole value: it names the field and describes what it holds.
 */

import { describeValue } from '../errors.js';
import { LocalStore } from './local-store.js';
import { S3Store } from './s3-store.js';
import type { Store } from './store.js';

export type StoreConfig = LocalStoreConfig | S3StoreConfig;

export interface LocalStoreConfig {
  type: 'local';
  /** The data directory; objects live under `dataDir/oss`. Relative to the working directory. */
  dataDir: string;
}

export interface S3StoreConfig {
  type: 's3';
  /** The S3-compatible endpoint, an http(s) URL; absent for AWS S3 itself. */
  endpoint?: string;
  /** The region requests are signed for. */
  region: string;
  /** Address buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT. */
  forcePathStyle: boolean;
}

/** The store settings of `vsnap serve` and `vsnap worker` (see http/config-settings.ts). */
export interface StoreSettings {
  storage: 'local' | 's3';
  dataDir: string;
  s3Endpoint?: string | undefined;
  s3Region: string;
  s3ForcePathStyle: boolean;
}

export function storeConfigOf(settings: StoreSettings): StoreConfig {
  switch (settings.storage) {
    case 'local':
      return { type: 'local', dataDir: settings.dataDir };
    case 's3':
      return {
        type: 's3',
        ...(settings.s3Endpoint === undefined ? {} : { endpoint: settings.s3Endpoint }),
        region: settings.s3Region,
        forcePathStyle: settings.s3ForcePathStyle,
      };
  }
}

const regionPattern = /^[a-z0-9-]{1,64}$/;

export function parseStoreConfig(value: unknown): StoreConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`Expected an object for the store configuration but received ${describeValue(value)}`);
  }
  const config = value as Record<string, unknown>;
  switch (config.type) {
    case 'local':
      if (typeof config.dataDir !== 'string' || config.dataDir === '') {
        throw new Error(`Expected a non-empty string for store.dataDir but received ${describeValue(config.dataDir)}`);
      }
      return { type: 'local', dataDir: config.dataDir };
    case 's3': {
      const endpoint = config.endpoint === undefined ? undefined : checkedEndpoint(config.endpoint);
      if (typeof config.region !== 'string' || !regionPattern.test(config.region)) {
        throw new Error(
          `Expected a region name such as us-east-1 for store.region but received ${describeValue(config.region)}`,
        );
      }
      if (typeof config.forcePathStyle !== 'boolean') {
        throw new Error(
          `Expected true or false for store.forcePathStyle but received ${describeValue(config.forcePathStyle)}`,
        );
      }
      return {
        type: 's3',
        ...(endpoint === undefined ? {} : { endpoint }),
        region: config.region,
        forcePathStyle: config.forcePathStyle,
      };
    }
    default:
      throw new Error(`Expected "local" or "s3" for store.type but received ${describeValue(config.type)}`);
  }
}

function checkedEndpoint(endpoint: unknown): string {
  const expected = 'Expected an http:// or https:// URL for store.endpoint';
  if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint) || !URL.canParse(endpoint)) {
    throw new Error(`${expected} but received ${describeValue(endpoint)}`);
  }
  const url = new URL(endpoint);
  if (url.username !== '' || url.password !== '') {
    throw new Error(`${expected} without a user name or password but received one with them (not shown)`);
  }
  return endpoint;
}

export function createStore(config: StoreConfig): Store {
  switch (config.type) {
    case 'local':
      return new LocalStore(config.dataDir);
    case 's3':
      return new S3Store(config);
  }
}
