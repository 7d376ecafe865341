/**
 * The entry of a worker process: the supervisor (supervisor.ts) forks this
 * file, and it runs jobs until its IPC channel closes. Decoding untrusted
 * video happens here, so that a crash takes down this process only.
 *
 * Start-up: it builds its Store from the JSON in $VSNAP_WORKER_STORE,
 * loads the decode backend and starts the encode pool, and only then says
 * `ready`, so a broken install fails at start (with `fatal` and exit code
 * 1), not on the first job. Then it runs `run` messages one at a time, in
 * the order they came, answering each with `result` or `error`
 * (worker-protocol.ts).
 *
 * A second after its last job, with none waiting, it returns the memory
 * that job freed to the system (trimMemory): the C allocator would keep it,
 * and the process's resident size would stay at its busiest.
 *
 * It exits at once when the channel disconnects: that is the supervisor
 * closing it or the server dying, and an orphan must not go on working.
 * A malformed message is a supervisor of another build or a bug; it exits
 * with code 2 rather than guess. It never writes to stdout, which belongs
 * to the server's logs; stderr gets a fatal start-up error only when there
 * is no channel to report it on.
 */

import { encodeFrame } from '../encode/pool.js';
import { loadBackend } from '../engine/loader.js';
import { trimMemory } from '../index.js';
import { createStore, parseStoreConfig } from '../storage/store-config.js';
import type { Store } from '../storage/store.js';
import { toTaskError } from './errors.js';
import { runJob } from './run-task.js';
import { parseToWorker, storeConfigEnv, toWireError, type FromWorker } from './worker-protocol.js';

const protocolViolationExitCode = 2;
/** How long the process is idle before it returns freed memory to the system. */
const idleTrimMs = 1000;

await main();

async function main(): Promise<void> {
  if (process.send === undefined) {
    process.stderr.write('vsnap worker: must be started by the vsnap server (no IPC channel)\n');
    process.exit(1);
  }
  process.on('disconnect', () => process.exit(0));
  let store: Store;
  try {
    store = createStore(parseStoreConfig(readStoreConfig()));
    await warmUp();
  } catch (error) {
    send({ type: 'fatal', message: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
    return;
  }
  let queue = Promise.resolve();
  let waiting = 0;
  let idleTrim: NodeJS.Timeout | undefined;
  process.on('message', (value: unknown) => {
    const message = parseToWorker(value);
    if (message === undefined) process.exit(protocolViolationExitCode);
    const { job } = message;
    waiting++;
    clearTimeout(idleTrim);
    queue = queue.then(async () => {
      try {
        send({ type: 'result', taskId: job.taskId, result: await runJob(job, store) });
      } catch (error) {
        send({ type: 'error', taskId: job.taskId, error: toWireError(toTaskError(error)) });
      }
      if (--waiting === 0) idleTrim = setTimeout(trimMemory, idleTrimMs).unref();
    });
  });
  send({ type: 'ready' });
}

function readStoreConfig(): unknown {
  const json = process.env[storeConfigEnv];
  if (json === undefined) throw new Error(`$${storeConfigEnv} is not set`);
  try {
    return JSON.parse(json);
  } catch {
    // JSON.parse quotes the text, and a remote store's configuration holds credentials.
    throw new Error(`$${storeConfigEnv} is not valid JSON`);
  }
}

/**
 * Loads the decode backend and has the encode pool encode one tiny frame,
 * which waits for a worker thread to load sharp: both are what a broken
 * install lacks, and both take long enough that the first job should not
 * pay for them.
 */
async function warmUp(): Promise<void> {
  loadBackend();
  const size = 8;
  await encodeFrame({
    frame: new ArrayBuffer(size * size * 3),
    width: size,
    height: size,
    rotation: 0,
    format: 'jpg',
    quality: 80,
    compression: 3,
  });
}

/**
 * Sends a message; an error means the channel is gone, and the
 * 'disconnect' handler ends the process, so there is no one to tell.
 */
function send(message: FromWorker, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}
