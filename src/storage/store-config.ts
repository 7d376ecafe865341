/**
 * Which Store a process uses, as plain JSON data: the server hands it to
 * its worker processes (an environment variable), which build their own
 * Store from it, since a Store object cannot cross a process boundary.
 *
 * Today there is one kind, `{"type":"local","dataDir":"..."}`. Another
 * backend (an S3-compatible store) is one more member of `StoreConfig`, one
 * more case in `parseStoreConfig` and in `createStore`.
 *
 * `parseStoreConfig` refuses anything else with an Error naming the field
 * and what it holds; it never echoes the whole value, which for a remote
 * store will carry credentials.
 */

import { describeValue } from '../errors.js';
import { LocalStore } from './local-store.js';
import type { Store } from './store.js';

export type StoreConfig = LocalStoreConfig;

export interface LocalStoreConfig {
  type: 'local';
  /** The data directory; objects live under `dataDir/oss`. Relative to the working directory. */
  dataDir: string;
}

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
    default:
      throw new Error(`Expected "local" for store.type but received ${describeValue(config.type)}`);
  }
}

export function createStore(config: StoreConfig): Store {
  switch (config.type) {
    case 'local':
      return new LocalStore(config.dataDir);
  }
}
