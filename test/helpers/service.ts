/**
 * `vsnap serve` as an operator runs it (vsnap-process.ts), on 127.0.0.1 and
 * a free port with its own data directory, ready at its one
 * `listening on http://HOST:PORT` line; and a small JSON client for the API.
 */

import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { launch, type Launched, VsnapProcess } from './vsnap-process.js';

export const serviceId = 'ops-video-snapshot-001';

export interface ServiceOptions {
  dataDir: string;
  /** Written to a config file passed with --config. */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export class Service extends VsnapProcess {
  readonly url: string;

  private constructor(launched: Launched) {
    super(launched);
    this.url = launched.ready;
  }

  static async start(options: ServiceOptions): Promise<Service> {
    await mkdir(options.dataDir, { recursive: true });
    const configFile = path.join(options.dataDir, '..', `${path.basename(options.dataDir)}.config.json`);
    const args = ['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', options.dataDir];
    const launched = await launch(args, { ...options, configFile }, (line) => /^listening on (http:\/\/\S+)$/.exec(line)?.[1]);
    return new Service(launched);
  }

  /** Pids of this service's worker processes (its children), from /proc. */
  workerPids(): number[] {
    return childPids(this.pid);
  }

  apiPath(action: 'sync' | 'async' | 'async/task-status', workspace = 'default', service = serviceId): string {
    return `/v3/openapi/workspaces/${workspace}/video-snapshot/${service}/${action}`;
  }

  async request(
    method: string,
    pathAndQuery: string,
    options: { key?: string | undefined; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${this.url}${pathAndQuery}`, body === undefined ? { method, headers } : { method, headers, body });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = {};
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /** Polls task-status until the task leaves PENDING. */
  async waitForTask(taskId: string, key: string, workspace = 'default', timeoutMs = 120_000): Promise<ApiResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.request('GET', `${this.apiPath('async/task-status', workspace)}?task_id=${taskId}`, { key });
      const result = response.body.result as { status?: string } | undefined;
      if (response.status !== 200 || result?.status !== 'PENDING') return response;
      if (Date.now() > deadline) throw new Error(`task ${taskId} still PENDING after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export function childPids(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return tasks === '' ? [] : tasks.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** CPU ticks a process has used (user + system), from /proc; -1 once it is gone. */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return -1;
  }
}

export async function tempDataDir(label: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `vsnap-${label}-`));
}

/** Puts a file into the local store as `oss://bucket/key`. */
export async function putObject(dataDir: string, bucket: string, key: string, file: string): Promise<string> {
  const target = path.join(dataDir, 'oss', bucket, ...key.split('/'));
  await mkdir(path.dirname(target), { recursive: true });
  await copyFile(file, target);
  return `oss://${bucket}/${key}`;
}

export function dataUri(bytes: Uint8Array, format = 'mp4'): string {
  return `data:video/${format};base64,${Buffer.from(bytes).toString('base64')}`;
}
