/**
 * The WorkerSupervisor with real worker processes (dist/src/tasks/worker-main.js:
 * run `npm run build:ts` first), real FFmpeg fixtures and a LocalStore in a
 * temp dir: results equal the engine's, admission control, crash isolation,
 * timeouts, closing, and start-up failures.
 */

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { shutdown } from '../../src/index.js';
import { packageRoot } from '../../src/package-root.js';
import { LocalStore } from '../../src/storage/local-store.js';
import type { TaskError } from '../../src/tasks/errors.js';
import type { Job, JobOutput, JobSource } from '../../src/tasks/job.js';
import { WorkerSupervisor, type SupervisorEvent, type SupervisorOptions } from '../../src/tasks/supervisor.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

afterAll(shutdown);

const small = fixtureNamed('mkv-h264');
// 12 s sampled every 10 ms as PNG: 1200 images, a couple of seconds of work.
const long = fixtureNamed('mp4-long-gop');
const workerMain = path.join(packageRoot(), 'dist', 'src', 'tasks', 'worker-main.js');

let root: string;
let dataDir: string;
let running: WorkerSupervisor[] = [];

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'vsnap-supervisor-'));
  dataDir = path.join(root, 'data');
});

afterEach(async () => {
  await Promise.all(running.map((supervisor) => supervisor.close(0)));
  running = [];
  await fs.rm(root, { recursive: true, force: true });
});

/** The events a supervisor reported, and a way to wait for one. */
class EventLog {
  readonly events: SupervisorEvent[] = [];
  readonly #waiters: { match: (event: SupervisorEvent) => boolean; resolve: (event: SupervisorEvent) => void }[] = [];

  readonly record = (event: SupervisorEvent): void => {
    this.events.push(event);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(event)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  /** The first event from now on that matches. */
  next<T extends SupervisorEvent['type']>(type: T, match: (event: Extract<SupervisorEvent, { type: T }>) => boolean = () => true): Promise<Extract<SupervisorEvent, { type: T }>> {
    return new Promise((resolve) => {
      this.#waiters.push({
        match: (event) => event.type === type && match(event as Extract<SupervisorEvent, { type: T }>),
        resolve: (event) => resolve(event as Extract<SupervisorEvent, { type: T }>),
      });
    });
  }

  of<T extends SupervisorEvent['type']>(type: T): Extract<SupervisorEvent, { type: T }>[] {
    return this.events.filter((event): event is Extract<SupervisorEvent, { type: T }> => event.type === type);
  }
}

async function startSupervisor(options: Partial<SupervisorOptions> = {}): Promise<{ supervisor: WorkerSupervisor; log: EventLog }> {
  const log = new EventLog();
  const supervisor = await WorkerSupervisor.start({
    storeConfig: { type: 'local', dataDir },
    workers: 1,
    onEvent: log.record,
    ...options,
  });
  running.push(supervisor);
  return { supervisor, log };
}

async function bytesOf(fixture = small): Promise<Buffer> {
  return fs.readFile(await fixturePath(fixture));
}

function smallJob(taskId: string, data: Uint8Array, output: JobOutput = { type: 'base64' }): Job {
  return { taskId, source: { type: 'bytes', data, name: 'input.content' }, interval: 1, format: 'jpg', mode: 'exact', output };
}

async function longJob(taskId: string): Promise<Job> {
  const source: JobSource = { type: 'file', path: await fixturePath(long), name: 'input.content' };
  // 1200 PNG images of its 12 s, a target every 0.01 s: a job's parameters are the API's, whose interval is whole seconds.
  return { taskId, source, interval: 1, format: 'png', mode: 'exact', extensions: { count: 1200 }, output: { type: 'base64' } };
}

/**
 * Whether the process exists and is not a zombie. An orphan that exited
 * stays a zombie until init reaps it, which some container inits do only
 * now and then; a zombie runs nothing. /proc is Linux's, the platform the
 * service targets.
 */
function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  // "pid (comm) state ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function codeOf(error: unknown): string {
  return (error as TaskError).code;
}

describe('WorkerSupervisor runs jobs in worker processes', () => {
  it('starts its workers and gives the engine’s snapshots, as bytes and in the store', async () => {
    const { supervisor, log } = await startSupervisor({ workers: 2 });
    const pids = supervisor.workers().map((w) => w.pid);
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    expect(pids.every(isAlive)).toBe(true);
    expect(pids).not.toContain(process.pid);
    expect(log.of('worker-ready').map((e) => e.pid).sort()).toEqual([...pids].sort());

    const bytes = await bytesOf();
    const engine = await collect(bytes, { interval: 1, format: 'jpg', mode: 'exact' });
    const inline = await supervisor.run(smallJob('inline', bytes));
    expect(inline.data.map((item) => [item.frame_index, item.frame_time])).toEqual(
      engine.outputs.map((o) => [o.frameIndex, o.frameTime]),
    );
    expect(inline.data.map((item) => item.content)).toEqual(engine.outputs.map((o) => o.data.toString('base64')));
    expect(inline.framesDecoded).toBe(engine.stats.framesDecoded);

    const store = new LocalStore(dataDir);
    await store.write('oss://videos/clip.mkv', bytes);
    const stored = await supervisor.run({
      ...smallJob('stored', bytes, { type: 'oss', prefix: 'oss://results' }),
      source: { type: 'oss', url: 'oss://videos/clip.mkv', name: 'oss://videos/clip.mkv' },
    });
    expect(stored.data.map((item) => item.path)).toEqual(engine.outputs.map((_, k) => `oss://results/stored/snapshot_${k}.jpg`));
    for (const [k, item] of stored.data.entries()) {
      expect((await store.readFile(item.path as string)).equals(engine.outputs[k].data)).toBe(true);
    }
    expect(log.of('job-finished').map((e) => [e.taskId, e.error])).toEqual([
      ['inline', undefined],
      ['stored', undefined],
    ]);
  });

  it('passes a bad video’s VSNAP_TASK_INPUT through, and the worker goes on', async () => {
    const { supervisor } = await startSupervisor();
    const [pid] = supervisor.workers().map((w) => w.pid);
    const error = await failureOf(() => supervisor.run(smallJob('text', Buffer.from('not a video'.repeat(100)))));
    expect(codeOf(error)).toBe('VSNAP_TASK_INPUT');
    expect((error as Error).message).toMatch(/^input\.content: not a video container/);
    expect((await supervisor.run(smallJob('next', await bytesOf()))).data).toHaveLength(4);
    expect(supervisor.workers().map((w) => w.pid)).toEqual([pid]);
  });

  it('runs as many jobs at once as it has workers and queues the rest in order', async () => {
    const { supervisor, log } = await startSupervisor({ workers: 2 });
    const bytes = await bytesOf();
    expect(supervisor.idle).toBe(true);
    const runs = ['a', 'b', 'c'].map((id) => supervisor.run(smallJob(id, bytes)));
    expect(supervisor.load()).toEqual({ running: 2, queued: 1, capacity: 2 });
    expect(supervisor.idle).toBe(false);
    const busy = supervisor.workers();
    expect(busy.map((w) => w.taskId).sort()).toEqual(['a', 'b']);
    expect(busy.every((w) => w.state === 'busy')).toBe(true);

    await Promise.all(runs);
    const order = log.events.filter((e) => e.type === 'job-started' || e.type === 'job-finished').map((e) => `${e.type}:${(e as { taskId: string }).taskId}`);
    // Both workers took a job before either finished; c waited for one of them.
    expect(order.slice(0, 2)).toEqual(['job-started:a', 'job-started:b']);
    expect(order.indexOf('job-started:c')).toBeGreaterThan(2);
    expect(supervisor.load()).toEqual({ running: 0, queued: 0, capacity: 2 });
    expect(supervisor.idle).toBe(true);
  });

  it('refuses a job at once with VSNAP_RUNNER_BUSY when the queue is full', async () => {
    const { supervisor } = await startSupervisor({ maxQueued: 1 });
    const bytes = await bytesOf();
    let firstSettled = false;
    const first = supervisor.run(smallJob('first', bytes)).finally(() => (firstSettled = true));
    const second = supervisor.run(smallJob('second', bytes));
    const error = await failureOf(() => supervisor.run(smallJob('third', bytes)));
    expect(codeOf(error)).toBe('VSNAP_RUNNER_BUSY');
    expect(firstSettled).toBe(false);
    await expect(first).resolves.toHaveProperty('data');
    await expect(second).resolves.toHaveProperty('data');
  });

  it('calls onSettled listeners as jobs settle', async () => {
    const { supervisor } = await startSupervisor();
    let calls = 0;
    supervisor.onSettled(() => calls++);
    const bytes = await bytesOf();
    await supervisor.run(smallJob('one', bytes));
    await failureOf(() => supervisor.run(smallJob('two', Buffer.from('x'.repeat(500)))));
    expect(calls).toBe(2);
  });
});

describe('WorkerSupervisor isolates failures', () => {
  it('fails a job whose worker is killed with VSNAP_WORKER_CRASHED, replaces the worker and runs the next job', async () => {
    const { supervisor, log } = await startSupervisor();
    let settledCalls = 0;
    supervisor.onSettled(() => settledCalls++);
    const started = log.next('job-started');
    const crashing = supervisor.run(await longJob('doomed'));
    const { pid } = await started;
    expect(supervisor.workers()).toEqual([{ pid, state: 'busy', taskId: 'doomed' }]);
    const replaced = log.next('worker-ready', (e) => e.replaces === pid);
    process.kill(pid, 'SIGKILL');

    const error = await failureOf(() => crashing);
    expect(codeOf(error)).toBe('VSNAP_WORKER_CRASHED');
    expect((error as Error).message).toContain('signal SIGKILL');
    expect(isAlive(pid)).toBe(false);
    const { pid: newPid } = await replaced;
    expect(newPid).not.toBe(pid);
    expect(supervisor.workers()).toEqual([{ pid: newPid, state: 'idle' }]);
    // The job's settling and the new worker's readiness both free a worker.
    expect(settledCalls).toBe(2);
    expect(log.of('worker-exited')).toEqual([{ type: 'worker-exited', pid, how: 'signal SIGKILL', expected: false }]);

    expect((await supervisor.run(smallJob('after', await bytesOf()))).data).toHaveLength(4);
  });

  it('keeps the jobs queued behind a crash and runs them on the new worker', async () => {
    const { supervisor, log } = await startSupervisor();
    const started = log.next('job-started');
    const crashing = supervisor.run(await longJob('doomed'));
    const queued = supervisor.run(smallJob('queued', await bytesOf()));
    process.kill((await started).pid, 'SIGKILL');
    expect(codeOf(await failureOf(() => crashing))).toBe('VSNAP_WORKER_CRASHED');
    expect((await queued).data).toHaveLength(4);
  });

  it('stops a job past its time limit with VSNAP_JOB_TIMEOUT and goes on with a new worker', async () => {
    const { supervisor, log } = await startSupervisor({ jobTimeoutMs: 800 });
    const [pid] = supervisor.workers().map((w) => w.pid);
    const replaced = log.next('worker-ready', (e) => e.replaces === pid);
    const error = await failureOf(async () => supervisor.run(await longJob('slow')));
    expect(codeOf(error)).toBe('VSNAP_JOB_TIMEOUT');
    expect((error as Error).message).toContain('limit of 1 s');
    expect(isAlive(pid)).toBe(false);
    expect(log.of('worker-exited')).toEqual([{ type: 'worker-exited', pid, how: 'signal SIGKILL', expected: true }]);
    // A job sent before the replacement is ready waits for it only as long as
    // a job may run (800 ms here), which a loaded machine can take to start a
    // worker: the test below covers that wait.
    const { pid: newPid } = await replaced;
    expect(newPid).not.toBe(pid);
    expect((await supervisor.run(smallJob('quick', await bytesOf()))).data).toHaveLength(4);
    expect(supervisor.workers().map((w) => w.pid)).toEqual([newPid]);
  });

  it('gives up on a job that waited for a worker as long as a job may run, with VSNAP_RUNNER_BUSY', async () => {
    const { supervisor, log } = await startSupervisor({ jobTimeoutMs: 800 });
    const started = log.next('job-started');
    const slow = supervisor.run(await longJob('slow'));
    await started;
    const waiting = supervisor.run(smallJob('waiting', await bytesOf()));
    expect(supervisor.load().queued).toBe(1);
    // The slow job is stopped at its limit, and its replacement is not ready before the waiting job's limit.
    expect(codeOf(await failureOf(() => waiting))).toBe('VSNAP_RUNNER_BUSY');
    expect(codeOf(await failureOf(() => slow))).toBe('VSNAP_JOB_TIMEOUT');
    expect(supervisor.load().queued).toBe(0);
  });

  it('restarts a worker that keeps failing to start with growing pauses, not in a tight loop', async () => {
    // A stand-in for an install that broke under a running server: the
    // first start succeeds, every later start exits at once.
    const marker = path.join(root, 'started-once');
    const module = path.join(root, 'breaks-after-first-start.mjs');
    await fs.writeFile(
      module,
      [
        "import { existsSync, writeFileSync } from 'node:fs';",
        'if (existsSync(process.env.MARKER)) process.exit(3);',
        "writeFileSync(process.env.MARKER, '');",
        "process.on('disconnect', () => process.exit(0));",
        "process.on('message', () => process.kill(process.pid, 'SIGKILL'));",
        "process.send({ type: 'ready' });",
      ].join('\n'),
    );
    const { supervisor, log } = await startSupervisor({ workerModule: module, env: { MARKER: marker } });
    const error = await failureOf(() => supervisor.run(smallJob('any', Buffer.from('x'))));
    expect(codeOf(error)).toBe('VSNAP_WORKER_CRASHED');
    await new Promise((resolve) => setTimeout(resolve, 1600));
    // Pauses of 0.1, 0.2, 0.4, 0.8 s: at most five starts in 1.6 s.
    const failures = log.of('worker-start-failed');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.length).toBeLessThanOrEqual(5);
    expect(failures[0].reason).toContain('exit code 3');
    expect(supervisor.idle).toBe(false);
  });
});

describe('WorkerSupervisor.close', () => {
  it('rejects queued jobs at once, stops a running job after the grace period, and leaves no worker alive', async () => {
    const { supervisor, log } = await startSupervisor({ workers: 2, maxQueued: 4 });
    const pids = supervisor.workers().map((w) => w.pid);
    const started = log.next('job-started', (e) => e.taskId === 'long-2');
    // Their failures, taken as they come, so that none waits unhandled while the test waits for close.
    const jobs = [supervisor.run(await longJob('long-1')), supervisor.run(await longJob('long-2'))].map((job) =>
      failureOf(() => job),
    );
    const queued = supervisor.run(smallJob('queued', await bytesOf()));
    await started;

    let queuedRejectedAt = Number.NaN;
    queued.catch(() => (queuedRejectedAt = performance.now()));
    const closing = supervisor.close(300);
    expect(supervisor.close()).toBe(closing);
    expect(codeOf(await failureOf(() => queued))).toBe('VSNAP_RUNNER_CLOSED');
    expect(codeOf(await failureOf(() => supervisor.run(smallJob('late', Buffer.from('x')))))).toBe('VSNAP_RUNNER_CLOSED');
    await closing;
    const closedAt = performance.now();
    expect(queuedRejectedAt).toBeLessThan(closedAt);
    expect((await Promise.all(jobs)).map(codeOf)).toEqual(['VSNAP_RUNNER_CLOSED', 'VSNAP_RUNNER_CLOSED']);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(supervisor.workers()).toEqual([]);
    expect(log.of('worker-exited').every((e) => e.expected)).toBe(true);
  });

  it('lets a running job finish within the grace period', async () => {
    const { supervisor } = await startSupervisor();
    const [pid] = supervisor.workers().map((w) => w.pid);
    const job = supervisor.run(smallJob('finishing', await bytesOf()));
    await supervisor.close(30_000);
    expect((await job).data).toHaveLength(4);
    expect(isAlive(pid)).toBe(false);
  });
});

describe('WorkerSupervisor.start', () => {
  it('rejects with the reason when a worker cannot start, leaving none behind', async () => {
    const missing = path.join(root, 'no-such-worker.js');
    const error = await failureOf(() =>
      WorkerSupervisor.start({ storeConfig: { type: 'local', dataDir }, workers: 2, workerModule: missing }),
    );
    expect((error as Error).message).toContain(`A vsnap worker process (${missing}) could not start`);
    expect((error as Error).message).toContain('exited before it was ready (exit code 1)');
  });

  it.each([
    [{ workers: 0 }, 'workers'],
    [{ workers: 1.5 }, 'workers'],
    [{ maxQueued: -1 }, 'maxQueued'],
    [{ jobTimeoutMs: 0 }, 'jobTimeoutMs'],
    [{ jobTimeoutMs: 2 ** 31 }, 'jobTimeoutMs'],
    [{ execArgv: '--inspect' }, 'execArgv'],
    [{ env: { A: 1 } }, 'env'],
  ])('throws at once on %o, naming %s', (options, name) => {
    let thrown: unknown;
    try {
      void WorkerSupervisor.start({ storeConfig: { type: 'local', dataDir }, ...(options as Partial<SupervisorOptions>) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option: name });
  });

  it('throws at once on a store configuration it does not know', () => {
    expect(() => WorkerSupervisor.start({ storeConfig: { type: 'ftp' } as never })).toThrow(/store\.type/);
  });
});

describe('worker-main', () => {
  function forkWorker(env: NodeJS.ProcessEnv) {
    return fork(workerMain, [], { env, execArgv: [], serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  }

  it('says why it cannot start and exits 1, writing nothing to stdout', async () => {
    const env = { ...process.env };
    delete env.VSNAP_WORKER_STORE;
    const child = forkWorker(env);
    const output: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    const [message] = await once(child, 'message');
    expect(message).toEqual({ type: 'fatal', message: '$VSNAP_WORKER_STORE is not set' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(Buffer.concat(output).length).toBe(0);
  });

  it('runs a job sent over IPC, then exits at once when the channel closes', async () => {
    const child = forkWorker({ ...process.env, VSNAP_WORKER_STORE: JSON.stringify({ type: 'local', dataDir }) });
    const output: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    expect((await once(child, 'message'))[0]).toEqual({ type: 'ready' });
    child.send({ type: 'run', job: smallJob('direct', await bytesOf()) });
    const [answer] = await once(child, 'message');
    expect(answer).toMatchObject({ type: 'result', taskId: 'direct' });
    expect(answer.result.data).toHaveLength(4);
    const exited = once(child, 'exit');
    child.disconnect();
    expect(await exited).toEqual([0, null]);
    expect(Buffer.concat(output).length).toBe(0);
  });

  it('does not outlive a server killed with SIGKILL, even mid-job', async () => {
    // A server in a process of its own: it starts a supervisor, gives its worker a long job and reports the pid.
    const server = path.join(root, 'server.mjs');
    const supervisorUrl = new URL(`file://${path.join(packageRoot(), 'dist', 'src', 'tasks', 'supervisor.js')}`).href;
    await fs.writeFile(
      server,
      [
        `import { WorkerSupervisor } from ${JSON.stringify(supervisorUrl)};`,
        `const supervisor = await WorkerSupervisor.start({ workers: 1, storeConfig: { type: 'local', dataDir: ${JSON.stringify(dataDir)} },`,
        "  onEvent: (event) => { if (event.type === 'job-started') process.send(event.pid); } });",
        `supervisor.run(${JSON.stringify(await longJob('orphaned'))}).catch(() => {});`,
      ].join('\n'),
    );
    const child = fork(server, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const [workerPid] = (await once(child, 'message')) as [number];
    expect(isAlive(workerPid)).toBe(true);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const deadline = Date.now() + 5000;
    while (isAlive(workerPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isAlive(workerPid)).toBe(false);
  });

  it('exits with code 2 on a message that is not a job', async () => {
    const child = forkWorker({ ...process.env, VSNAP_WORKER_STORE: JSON.stringify({ type: 'local', dataDir }) });
    expect((await once(child, 'message'))[0]).toEqual({ type: 'ready' });
    const exited = once(child, 'exit');
    child.send({ type: 'run', job: { taskId: 'x' } });
    expect(await exited).toEqual([2, null]);
  });
});
