/**
 * `vsnap worker --queue redis://HOST:PORT [--storage local|s3] [--data-dir DIR] [--config FILE]`:
 * a worker node of the Redis queue (src/tasks/queue-worker.ts). It reads
 * the settings as `vsnap serve` does (flags, VSNAP_* variables, the config
 * file; `workers`, `jobTimeoutMs`, `shutdownGraceMs`, `logLevel` and the
 * storage settings apply), and the queue must be a Redis URL. It prints one
 * line, `worker ready (N processes) on redis://HOST:PORT`, once it takes
 * tasks, then JSON logs; SIGTERM or SIGINT stops it gracefully (running
 * tasks finish within the grace period or go back to the queue) and it
 * exits 0; a second signal exits at once.
 *
 * Two timings of stall detection are read from the environment only, as
 * they are for tests and for operators who know why they change them:
 * VSNAP_WORKER_LOCK_MS and VSNAP_WORKER_STALLED_INTERVAL_MS.
 */

import { invalidOption } from '../errors.js';
import type { ServeFlag } from '../http/config.js';
import { TaskError } from '../tasks/errors.js';
import type { QueueWorker } from '../tasks/queue-worker.js';
import { maxTimerMs } from '../tasks/option-checks.js';
import { defaultLockDurationMs, defaultStalledIntervalMs } from '../tasks/worker-timings.js';
import type { ParsedArgs } from './args.js';
import { backendFlag, helpFlag, type CliIo, type Command } from './command.js';

const workerFlags: readonly ServeFlag[] = ['queue', 'storage', 'data-dir', 'config', 'backend'];

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run a worker node of a Redis task queue',
  synopsis: 'worker --queue redis://HOST:PORT [--storage local|s3] [--data-dir DIR] [--config FILE]',
  description:
    'Takes the tasks that `vsnap serve --queue redis://...` nodes accept and runs them in supervised worker processes ' +
    '(VSNAP_WORKERS of them), any number of nodes on any number of machines. Every node and the API nodes must use the same ' +
    'Redis and the same storage. Prints "worker ready (N processes) on redis://HOST:PORT" once it takes tasks; SIGTERM or ' +
    'SIGINT stops it gracefully (running tasks finish or go back to the queue). A task whose node dies is taken over by ' +
    `another node once its lock expires: VSNAP_WORKER_LOCK_MS (default ${defaultLockDurationMs}) and ` +
    `VSNAP_WORKER_STALLED_INTERVAL_MS (default ${defaultStalledIntervalMs}) set how soon.`,
  flags: {
    queue: { type: 'string', placeholder: 'URL', expects: 'a redis:// URL', description: 'the Redis of the task queue (required)' },
    storage: { type: 'string', placeholder: 'KIND', expects: 'local or s3', description: 'where oss:// paths live: local (default) or s3' },
    'data-dir': { type: 'string', placeholder: 'DIR', expects: 'a directory', description: 'the local store (default ./data)' },
    config: { type: 'string', placeholder: 'FILE', expects: 'a file', description: 'a JSON configuration file' },
    ...backendFlag,
    ...helpFlag,
  },
  run: runWorker,
};

async function runWorker({ values, positionals }: ParsedArgs, io: CliIo): Promise<void> {
  if (positionals.length > 0) throw invalidOption('worker', 'no arguments', positionals.join(' '));
  const flags: Partial<Record<ServeFlag, string>> = {};
  for (const flag of workerFlags) {
    const value = values[flag];
    if (typeof value === 'string') flags[flag] = value;
  }
  // Loaded here, not at import: BullMQ, the S3 client and pino would slow every other command's start.
  const [{ loadServeConfig }, { createLogger }, { applyEngineSettings }, { storeConfigOf }, { QueueWorker }] = await Promise.all([
    import('../http/config.js'),
    import('../http/logger.js'),
    import('../http/decode-backend.js'),
    import('../storage/store-config.js'),
    import('../tasks/queue-worker.js'),
  ]);
  const config = loadServeConfig({ flags, env: process.env, cwd: process.cwd() });
  if (config.queue === 'embedded') throw invalidOption('--queue', 'a redis:// or rediss:// URL', config.queue);
  const logger = createLogger({ level: config.logLevel });
  applyEngineSettings(config, logger);
  let node: QueueWorker;
  try {
    node = await QueueWorker.start({
      url: config.queue,
      storeConfig: storeConfigOf(config),
      workers: config.workers,
      jobTimeoutMs: config.jobTimeoutMs,
      logger,
      lockDurationMs: timingFromEnv('VSNAP_WORKER_LOCK_MS', defaultLockDurationMs),
      stalledIntervalMs: timingFromEnv('VSNAP_WORKER_STALLED_INTERVAL_MS', defaultStalledIntervalMs),
    });
  } catch (error) {
    throw startFailure(error);
  }
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      stopping = true;
      void node.close(config.shutdownGraceMs).then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        logger.flush();
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  io.stdout.write(`worker ready (${node.processes} processes) on ${redisLocation(config.queue)}\n`);
  await stopped;
}

/** Milliseconds from an environment variable, in plain digits. */
function timingFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > maxTimerMs) {
    throw invalidOption(`$${name}`, `milliseconds from 1 to ${maxTimerMs}`, text);
  }
  return Number(text);
}

/**
 * A queue that cannot be reached says where and why at start, which the
 * caller-safe message of VSNAP_QUEUE_UNAVAILABLE leaves to its cause.
 */
function startFailure(error: unknown): unknown {
  if (error instanceof TaskError && error.code === 'VSNAP_QUEUE_UNAVAILABLE' && error.cause instanceof Error) {
    return new TaskError(error.code, error.cause.message, error.cause);
  }
  return error;
}

/** The Redis URL without its user name and password, which must not reach a log. */
function redisLocation(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}
