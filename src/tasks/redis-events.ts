/**
 * FinishedJobs: an API node's reader of the queue's events stream
 * (P:tasks:events, written by BullMQ), telling the callers that wait for a
 * sync job when it completed or failed.
 *
 * It stands in for BullMQ's QueueEvents, for two reasons: QueueEvents
 * queues its commands while Redis is unreachable, so its `close` waits for
 * as long as Redis is away (ioredis never ends a connection that is between
 * two reconnect attempts), and `job.waitUntilFinished` leaves a promise
 * rejection unhandled when Redis is down at the wrong moment. This reader's
 * connection fails fast (redis-task.ts), so it closes at once in any state.
 *
 * Contract
 * - `wait(jobId)` is called before the job is added; its promise resolves
 *   with the job's finish as the stream records it.
 * - The stream is read from its last entry at `start`, then from the last
 *   entry read, across reconnects too, so nothing is skipped while the
 *   reader runs.
 * - When the connection drops, every pending wait rejects at once with
 *   VSNAP_QUEUE_UNAVAILABLE: the caller learns of the outage now instead of
 *   waiting it out, and may retry. The reader goes on once Redis is back.
 * - `close(reason)` rejects the pending waits with `reason` and stops.
 */

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { queueUnavailable, type TaskError } from './errors.js';
import { apiConnection, connectionErrorLog, untilReady } from './redis-task.js';

export type Finish = { event: 'completed'; returnvalue: string } | { event: 'failed'; failedReason: string };

export interface FinishWait {
  finished: Promise<Finish>;
  /** Stops waiting, when the job was not added after all. */
  cancel(): void;
}

interface Waiter {
  resolve: (finish: Finish) => void;
  reject: (error: TaskError) => void;
}

/** Long enough to cost nothing, short enough that a silent half-open connection is noticed. */
const blockMs = 5000;
/** The pause after a failure on a connection that is up, so a persistent error does not spin. */
const errorPauseMs = 1000;

export class FinishedJobs {
  readonly #client: Redis;
  readonly #streamKey: string;
  readonly #logger: Logger;
  readonly #waiters = new Map<string, Waiter>();
  #lastId: string;
  #closing = false;
  #wake: (() => void) | undefined;
  #reading: Promise<void> = Promise.resolve();

  private constructor(client: Redis, streamKey: string, lastId: string, logger: Logger) {
    this.#client = client;
    this.#streamKey = streamKey;
    this.#logger = logger;
    this.#lastId = lastId;
    client.on('close', () => this.#rejectAll(queueUnavailable(new Error('the connection to Redis closed'))));
    client.on('ready', () => this.#wake?.());
  }

  /** Connects, finds where the stream ends now and starts reading after it. */
  static async start(url: string, streamKey: string, timeoutMs: number, logger: Logger): Promise<FinishedJobs> {
    const client = apiConnection(url, { blocking: true });
    connectionErrorLog(client, logger, 'events');
    try {
      await untilReady(client, timeoutMs);
      const [last] = await client.xrevrange(streamKey, '+', '-', 'COUNT', 1);
      const reader = new FinishedJobs(client, streamKey, last?.[0] ?? '0-0', logger);
      reader.#reading = reader.#read();
      return reader;
    } catch (error) {
      client.disconnect();
      throw error;
    }
  }

  wait(jobId: string): FinishWait {
    const finished = new Promise<Finish>((resolve, reject) => {
      this.#waiters.set(jobId, { resolve, reject });
    });
    return { finished, cancel: () => this.#waiters.delete(jobId) };
  }

  async close(reason: TaskError): Promise<void> {
    this.#closing = true;
    this.#rejectAll(reason);
    this.#wake?.();
    // Not QUIT: Redis would answer it only after the blocking read in flight, seconds later.
    this.#client.disconnect();
    await this.#reading;
  }

  async #read(): Promise<void> {
    while (!this.#closing) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = await this.#client.xread('BLOCK', blockMs, 'STREAMS', this.#streamKey, this.#lastId);
      } catch (error) {
        // A connection that is down is logged by connectionErrorLog, and its 'close' has told the waiters.
        if (this.#client.status === 'ready') this.#logger.warn({ err: (error as Error).message }, 'reading the task events failed');
        await this.#pause();
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          this.#lastId = id;
          this.#dispatch(fields);
        }
      }
    }
  }

  #dispatch(fields: string[]): void {
    const entry = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) entry.set(fields[i] as string, fields[i + 1] as string);
    const event = entry.get('event');
    if (event !== 'completed' && event !== 'failed') return;
    const waiter = this.#waiters.get(entry.get('jobId') ?? '');
    if (waiter === undefined) return;
    this.#waiters.delete(entry.get('jobId') as string);
    waiter.resolve(
      event === 'completed'
        ? { event, returnvalue: entry.get('returnvalue') ?? 'null' }
        : { event, failedReason: entry.get('failedReason') ?? '' },
    );
  }

  /** Waits until the connection is ready again (or a moment, when it is up), or the reader closes. */
  #pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#client.status === 'ready' ? setTimeout(() => wake(), errorPauseMs) : undefined;
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = wake;
      if (this.#closing) wake();
    });
  }

  #rejectAll(error: TaskError): void {
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }
}
