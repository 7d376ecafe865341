/**
 * A whole vsnap deployment for the service tests, in one of its shapes:
 *
 *   embedded   vsnap serve alone: SQLite tasks, its own worker processes,
 *              oss:// paths in DATA_DIR/oss
 *   s3         vsnap serve alone, oss:// paths in an S3-protocol server
 *              (s3rver, its own process)
 *   redis      the scaled-out shape: a stateless vsnap serve --queue
 *              redis://, one vsnap worker node (2 processes), redis-server
 *              and s3rver, each its own process
 *
 * The tests talk to `service` over HTTP and reach the objects through the
 * same Store implementation the deployment uses, so one test suite checks
 * every shape.
 */

import { readFile, rm } from 'node:fs/promises';

import { createStore } from '../../src/storage/store-config.js';
import type { Store } from '../../src/storage/store.js';
import { keysConfig } from './service-keys.js';
import { Service, tempDataDir } from './service.js';
import { RedisServer } from './redis.js';
import { type S3rver, startS3rver } from './s3rver.js';
import { WorkerNode } from './worker-node.js';

export const deploymentModes = ['embedded', 's3', 'redis'] as const;

export type DeploymentMode = (typeof deploymentModes)[number];

export interface Deployment {
  readonly mode: DeploymentMode;
  readonly service: Service;
  readonly dataDir: string;
  /** The store the deployment keeps oss:// objects in, seen from the test. */
  readonly store: Store;
  /** Uploads a local file as `oss://bucket/key`; returns that URL. */
  putObject(bucket: string, key: string, file: string): Promise<string>;
  /** The bytes behind an oss:// path the API reported (URL-encoded). */
  readObject(ossPath: string): Promise<Buffer>;
  stop(): Promise<void>;
}

export interface DeploymentOptions {
  label: string;
  /** Buckets the tests use; created up front where the store needs it. */
  buckets: readonly string[];
  /** Extra settings for the config file. */
  config?: Record<string, unknown>;
}

export async function startDeployment(mode: DeploymentMode, options: DeploymentOptions): Promise<Deployment> {
  const dataDir = await tempDataDir(`${options.label}-${mode}`);
  const { config, env } = await keysConfig(dataDir);
  let s3: S3rver | undefined;
  let redis: RedisServer | undefined;
  let worker: WorkerNode | undefined;
  let service: Service | undefined;
  try {
    s3 = mode === 'embedded' ? undefined : await startS3rver(options.buckets);
    if (s3 !== undefined) Object.assign(process.env, credentialsOf(s3));
    const store = createStore(s3 === undefined ? { type: 'local', dataDir } : s3.storeConfig);
    const serviceEnv: Record<string, string> = { ...env, ...s3?.env };
    if (mode === 'redis') {
      redis = await RedisServer.start();
      serviceEnv.VSNAP_QUEUE = redis.url;
      worker = await WorkerNode.start({
        queue: redis.url,
        dataDir,
        env: { ...s3?.env, VSNAP_WORKERS: String(options.config?.workers ?? 2) },
      });
    }
    service = await Service.start({ dataDir, env: serviceEnv, config: { ...config, ...options.config } });
    const started = service;
    const server = s3;
    const queueServer = redis;
    const node = worker;
    return {
      mode,
      service: started,
      dataDir,
      store,
      async putObject(bucket, key, file) {
        const url = `oss://${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
        await store.write(url, await readFile(file));
        return url;
      },
      readObject: (ossPath) => store.readFile(ossPath),
      async stop() {
        await started.stop();
        await node?.stop();
        await queueServer?.kill();
        await server?.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await service?.stop();
    await worker?.stop();
    await redis?.kill();
    await s3?.stop();
    throw error;
  }
}

/** The S3 store in this process reads its credentials where the SDK looks: the environment. */
function credentialsOf(s3: S3rver): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID ?? '', AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY ?? '' };
}
