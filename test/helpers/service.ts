/**
 * `vsnap serve` as an operator runs it: bin/vsnap in a child process on
 * 127.0.0.1 and a free port, its own data directory, stopped by pid. The
 * harness waits for the one `listening on http://HOST:PORT` line, keeps
 * every stdout line (JSON logs) for the test to read, and offers a small
 * JSON client for the API.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(root, 'bin', 'vsnap');

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

export class Service {
  readonly url: string;
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(url: string, child: ChildProcess, lines: string[], exited: Service['exited']) {
    this.url = url;
    this.process = child;
    this.lines = lines;
    this.exited = exited;
  }

  static async start(options: ServiceOptions): Promise<Service> {
    await mkdir(options.dataDir, { recursive: true });
    const args = [bin, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', options.dataDir];
    if (options.config !== undefined) {
      const configFile = path.join(options.dataDir, '..', `${path.basename(options.dataDir)}.config.json`);
      await writeFile(configFile, JSON.stringify(options.config));
      args.push('--config', configFile);
    }
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, VSNAP_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const url = await new Promise<string>((resolve, reject) => {
      let pending = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          const match = /^listening on (http:\/\/\S+)$/.exec(line);
          if (match?.[1] !== undefined) resolve(match[1]);
        }
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      void exited.then(({ code, signal }) =>
        reject(new Error(`vsnap serve exited (code ${code}, signal ${signal}) before listening: ${stderr}`)),
      );
    });
    return new Service(url, child, lines, exited);
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error('the service has no pid');
    return this.process.pid;
  }

  /** Graceful stop (SIGTERM); resolves with how the process ended. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    this.process.kill('SIGKILL');
    await this.exited;
  }

  /** The parsed JSON log lines. */
  logs(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
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
