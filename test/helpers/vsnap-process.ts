/**
 * bin/vsnap run as an operator runs it, in a child process with its own
 * environment, stopped by pid: what the `serve` and `worker` harnesses
 * share. `launch` waits for the command's one ready line, keeps every
 * stdout line (JSON logs), and a process can wait for a log line that has
 * not come yet.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(root, 'bin', 'vsnap');

export type Exit = { code: number | null; signal: NodeJS.Signals | null };
export type LogLine = Record<string, unknown>;

interface LogWaiter {
  match: (line: LogLine) => boolean;
  resolve: (line: LogLine) => void;
}

export interface LaunchOptions {
  /** Settings written to `configFile` and passed with --config. */
  config?: Record<string, unknown>;
  configFile: string;
  /** Environment variables added to this process's. */
  env?: Record<string, string>;
}

export interface Launched {
  child: ChildProcess;
  lines: string[];
  exited: Promise<Exit>;
  waiters: LogWaiter[];
  /** What `readyValue` found in the ready line. */
  ready: string;
}

/** Runs `bin/vsnap ...args` and resolves once a stdout line gives `readyValue` a value. */
export async function launch(args: readonly string[], options: LaunchOptions, readyValue: (line: string) => string | undefined): Promise<Launched> {
  const argv = [bin, ...args];
  if (options.config !== undefined) {
    await writeFile(options.configFile, JSON.stringify(options.config));
    argv.push('--config', options.configFile);
  }
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, VSNAP_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: LogWaiter[] = [];
  let stderr = '';
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = await new Promise<string>((resolve, reject) => {
    let pending = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const value = readyValue(line);
        if (value !== undefined) resolve(value);
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
      reject(new Error(`vsnap ${args[0]} exited (code ${code}, signal ${signal}) before it was ready: ${stderr}`)),
    );
  });
  return { child, lines, exited, waiters, ready };
}

export class VsnapProcess {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<Exit>;
  readonly #waiters: LogWaiter[];

  protected constructor(launched: Launched) {
    this.process = launched.child;
    this.lines = launched.lines;
    this.exited = launched.exited;
    this.#waiters = launched.waiters;
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error('the vsnap process has no pid');
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
  async stop(): Promise<Exit> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    await this.exited;
  }
}
