/**
 * Runs the engine the way a caller does, for the tests: whole runs collected
 * with their stats, and the error an action ends with.
 */

import { snapshot, type DecodeStats, type Snapshot, type SnapshotInput, type SnapshotOptions } from '../../src/index.js';

export interface CollectedRun {
  outputs: Snapshot[];
  stats: DecodeStats;
}

/** Iterates a whole run and keeps every snapshot and the final stats. */
export async function collect(input: SnapshotInput, options?: SnapshotOptions): Promise<CollectedRun> {
  const run = snapshot(input, options);
  const outputs: Snapshot[] = [];
  for await (const output of run) outputs.push(output);
  return { outputs, stats: run.stats() };
}

/**
 * What `action` throws or rejects with, whether at once or later; fails when
 * it succeeds, so that a test of an error cannot pass without one.
 */
export async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('Expected the action to fail, but it succeeded');
}
