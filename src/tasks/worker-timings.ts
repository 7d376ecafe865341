/**
 * How soon a Redis worker node's task is taken over when the node dies: its
 * lock on a running task lasts this long unless renewed, and stalled tasks
 * are looked for this often. Their own module, so that `vsnap --help` can
 * quote them without loading BullMQ.
 */

export const defaultLockDurationMs = 10_000;
export const defaultStalledIntervalMs = 5_000;
