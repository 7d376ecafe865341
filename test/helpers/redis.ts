/**
 * A real redis-server (installed from apt by the setup) for the tests: its
 * own process on 127.0.0.1 and a free port, a temp directory, and the
 * durability the deployment asks for (AOF, fsync on every write, no RDB
 * snapshots). `stop` ends it as an outage would (SIGTERM, waited for);
 * `start` brings it back on the same port and directory, with what its AOF
 * kept; `kill` ends it by pid and removes the directory.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const readyTimeoutMs = 10_000;

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), await mkdtemp(path.join(tmpdir(), 'vsnap-redis-')));
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Starts redis-server (again) and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.#process !== undefined) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      [
        '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
        '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    this.#output = '';
    const collect = (chunk: Buffer): void => {
      this.#output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.#exited.then(() => {
      if (this.#process === child) this.#process = undefined;
    });
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await answersPing(this.port))) {
      if (this.#process !== child) throw new Error(`redis-server exited at start: ${this.#output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING within ${readyTimeoutMs} ms: ${this.#output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGTERM, as an operator stops it; resolves once the process is gone. */
  async stop(): Promise<void> {
    this.#process?.kill('SIGTERM');
    await this.#exited;
  }

  /** SIGKILL by pid, then the directory goes. */
  async kill(): Promise<void> {
    this.#process?.kill('SIGKILL');
    await this.#exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A port the system has just handed out as free. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a server on the port answers PING with PONG (not -LOADING while it reads its AOF). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
