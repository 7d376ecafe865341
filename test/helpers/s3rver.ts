/**
 * An S3-protocol server for the tests: s3rver in its own process
 * (s3rver-process.mjs) on 127.0.0.1 and a free port, with a fresh data
 * directory and the buckets asked for, stopped by pid. The child exits when
 * the test process ends however it ends, since it watches its stdin pipe.
 *
 * s3rver knows the access key S3RVER and checks no SigV4 signature, so any
 * secret key works; tests use that to look for a secret in error messages.
 * It writes objects in place, so unlike S3 it does not make a PUT atomic.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

import type { S3StoreConfig } from '../../src/storage/store-config.js';

const script = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
const startTimeoutMs = 15_000;

export const s3rverCredentials = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface S3rver {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly pid: number;
  /** The store configuration of this server, path-style as s3rver needs. */
  readonly storeConfig: S3StoreConfig;
  /** The environment that makes a vsnap process use this server as its store, credentials included. */
  readonly env: Readonly<Record<string, string>>;
  /** Creates an empty bucket, e.g. a fresh one for each test. */
  createBucket(name: string): Promise<void>;
  /** Stops the server (SIGTERM by pid) and deletes its data; safe to call twice. */
  stop(): Promise<void>;
}

export async function startS3rver(buckets: readonly string[]): Promise<S3rver> {
  const directory = await mkdtemp(path.join(tmpdir(), 'vsnap-s3rver-'));
  // s3rver makes list continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  const args = ['--openssl-legacy-provider', script, directory, ...buckets];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await listeningPort(child, exited);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  if (child.pid === undefined) throw new Error('s3rver has no pid');
  const pid = child.pid;
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  return {
    endpoint,
    pid,
    storeConfig: { type: 's3', endpoint, region, forcePathStyle: true },
    env: {
      VSNAP_STORAGE: 's3',
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: region,
      VSNAP_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey,
    },
    async createBucket(name) {
      const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { ...s3rverCredentials } });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Resolves with the port from the child's `listening on PORT` line. */
async function listeningPort(child: ChildProcess, exited: Promise<void>): Promise<number> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      let pending = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        const match = /^listening on (\d+)$/m.exec(pending);
        if (match?.[1] !== undefined) resolve(Number(match[1]));
      });
      void exited.then(() => reject(new Error(`s3rver exited before listening: ${stderr}`)));
      timer = setTimeout(() => reject(new Error(`s3rver did not listen within ${startTimeoutMs} ms: ${stderr}`)), startTimeoutMs);
    });
  } finally {
    clearTimeout(timer);
  }
}
