/**
 * The per-key task limit of the Redis queue, shared by every API node: one
 * sorted set per owner (redis-task.ts's `P:owner:<owner>`) holding the ids
 * of its tasks that may be unfinished, each scored by when it was admitted.
 *
 * `admit` runs one Lua script, so it is atomic across API nodes: it walks
 * the owner's set, drops every id whose task is over, counts the rest, and
 * adds the new id only when fewer than the limit remain. A task is over
 * when its BullMQ job hash has `finishedOn` (set only on the final SUCCESS
 * or FAIL, not between retries) or sits in the completed or failed set, or
 * when it has no job hash and was admitted more than `admitGraceMs` ago:
 * a sync job (removed as it finishes), a job past its retention, or an id
 * whose API node died before adding its job. Within the grace an id with
 * no job yet counts: its API node is still writing the input and the job.
 *
 * `release` removes an id at once; the API node calls it when a sync call
 * ends or a submit fails, so those places free without waiting for the
 * grace. An async task's id goes on the first `admit` after it finished.
 * The set holds at most the limit plus the ids finished since the owner's
 * last admit, so the walk is short.
 */

import type { Redis } from 'ioredis';

import { ownerKey } from './redis-task.js';

/** Longer than an API node takes to write a large `input.content` video and add its job. */
export const admitGraceMs = 120_000;

const admitScript = `
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local now = tonumber(ARGV[4])
local grace = tonumber(ARGV[5])
local active = 0
for i = 1, #entries, 2 do
  local id = entries[i]
  local jobKey = ARGV[1] .. id
  local over
  if redis.call('EXISTS', jobKey) == 1 then
    over = redis.call('HEXISTS', jobKey, 'finishedOn') == 1
      or redis.call('ZSCORE', KEYS[2], id) ~= false
      or redis.call('ZSCORE', KEYS[3], id) ~= false
  else
    over = now - tonumber(entries[i + 1]) > grace
  end
  if over then
    redis.call('ZREM', KEYS[1], id)
  else
    active = active + 1
  end
end
if active >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
return 1
`;

type AdmitCommand = (
  owners: string,
  completed: string,
  failed: string,
  jobKeyPrefix: string,
  limit: number,
  taskId: string,
  now: number,
  graceMs: number,
) => Promise<number>;

export interface QueueKeys {
  /** BullMQ's key of a job is this prefix and its id. */
  jobPrefix: string;
  completed: string;
  failed: string;
}

export class OwnerTasks {
  readonly #redis: Redis & { vsnapAdmitTask?: AdmitCommand };
  readonly #prefix: string;
  readonly #keys: QueueKeys;

  constructor(redis: Redis, prefix: string, keys: QueueKeys) {
    redis.defineCommand('vsnapAdmitTask', { numberOfKeys: 3, lua: admitScript });
    this.#redis = redis;
    this.#prefix = prefix;
    this.#keys = keys;
  }

  /** Adds `taskId` to `owner`'s unfinished tasks; false, adding nothing, when it already has `limit`. */
  async admit(owner: string, limit: number, taskId: string, now = Date.now()): Promise<boolean> {
    const { jobPrefix, completed, failed } = this.#keys;
    const admit = this.#redis.vsnapAdmitTask as AdmitCommand;
    const admitted = await admit.call(this.#redis, ownerKey(this.#prefix, owner), completed, failed, jobPrefix, limit, taskId, now, admitGraceMs);
    return admitted === 1;
  }

  async release(owner: string, taskId: string): Promise<void> {
    await this.#redis.zrem(ownerKey(this.#prefix, owner), taskId);
  }
}
