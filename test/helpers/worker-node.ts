/**
 * `vsnap worker` as an operator runs it: bin/vsnap in a child process with
 * its own environment, stopped by pid. The harness waits for the one
 * `worker ready (N processes) on redis://...` line, keeps every stdout line
 * (JSON logs) and can wait for a log line that has not come yet.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(root, 'bin', 'vsnap');

export interface WorkerNodeOptions {
  queue: string;
  dataDir: string;
  /** Environment variables added to this process's (VSNAP_WORKERS, VSNAP_WORKER_LOCK_MS, ...). */
  env?: Record<string, string>;
  /** Settings written to a config file beside the data directory, passed with --config. */
  config?: Record<string, unknown>;
}

export type LogLine = Record<string, unknown>;

interface LogWaiter {
  match: (line: LogLine) => boolean;
  resolve: (line: LogLine) => void;
}

export class WorkerNode {
  readonly process: ChildProcess;
  readonly readyLine: string;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #waiters: LogWaiter[];

  private constructor(child: ChildProcess, readyLine: string, lines: string[], exited: WorkerNode['exited'], waiters: LogWaiter[]) {
    this.process = child;
    this.readyLine = readyLine;
    this.lines = lines;
    this.exited = exited;
    this.#waiters = waiters;
  }

  static async start(options: WorkerNodeOptions): Promise<WorkerNode> {
    const args = [bin, 'worker', '--queue', options.queue, '--data-dir', options.dataDir];
    if (options.config !== undefined) {
      const configFile = path.join(path.dirname(options.dataDir), `worker-${randomUUID()}.config.json`);
      await writeFile(configFile, JSON.stringify(options.config));
      args.push('--config', configFile);
    }
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, VSNAP_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waiters: LogWaiter[] = [];
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const readyLine = await new Promise<string>((resolve, reject) => {
      let pending = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          if (line.startsWith('worker ready')) resolve(line);
          if (!line.startsWith('{')) continue;
          const parsed = JSON.parse(line) as LogLine;
          for (const waiter of [...waiters]) {
            if (!waiter.match(parsed)) continue;
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(parsed);
          }
        }
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      void exited.then(({ code, signal }) =>
        reject(new Error(`vsnap worker exited (code ${code}, signal ${signal}) before it was ready: ${stderr}`)),
      );
    });
    return new WorkerNode(child, readyLine, lines, exited, waiters);
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error('the worker node has no pid');
    return this.process.pid;
  }

  /** The parsed JSON log lines so far. */
  logs(): LogLine[] {
    return this.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
  }

  /** The first log line, so far or to come, that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const seen = this.logs().find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Graceful stop (SIGTERM); resolves with how the process ended. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    await this.exited;
  }
}
