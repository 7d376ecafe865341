/**
 * The SQLite task table: arrival order, attempts that finish once, re-queues
 * after a crash or a restart, workspace scoping, durability across a
 * reopen of the same file, the per-owner count of unfinished tasks, and
 * the upgrade of a version 1 table.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Job } from '../../src/tasks/job.js';
import { TaskStore } from '../../src/tasks/task-store.js';

function jobOf(taskId: string): Job {
  return {
    taskId,
    source: { type: 'oss', url: 'oss://bucket/in.mp4', name: 'oss://bucket/in.mp4' },
    interval: 1,
    format: 'jpg',
    mode: 'exact',
    output: { type: 'oss', prefix: 'oss://bucket/out' },
  };
}

let dir: string;
let store: TaskStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vsnap-task-store-'));
  store = new TaskStore(path.join(dir, 'tasks.db'));
});

afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

function insert(id: string, workspace = 'default'): void {
  store.insert({ id, workspace, job: jobOf(id), createdAt: Date.now() });
}

describe('TaskStore', () => {
  it('starts tasks in arrival order, each once', () => {
    for (const id of ['t1', 't2', 't3']) insert(id);
    expect([store.claimNext()?.id, store.claimNext()?.id, store.claimNext()?.id]).toEqual(['t1', 't2', 't3']);
    expect(store.claimNext()).toBeUndefined();
    expect(store.counts()).toEqual({ pending: 0, running: 3, success: 0, fail: 0 });
  });

  it('keeps the job as given and counts attempts', () => {
    insert('t1');
    const claimed = store.claimNext();
    expect(claimed?.job).toEqual(jobOf('t1'));
    expect(claimed?.attempts).toBe(1);
    expect(claimed?.state).toBe('RUNNING');
  });

  it('finishes an attempt once: a late answer from an earlier attempt changes nothing', () => {
    insert('t1');
    const first = store.claimNext()!;
    expect(store.requeue('t1', first.attempts, true)).toBe(true);
    const second = store.claimNext()!;
    expect(second.attempts).toBe(2);
    expect(second.crashes).toBe(1);
    expect(store.succeed('t1', first.attempts, [])).toBe(false);
    const data = [{ frame_index: 0, frame_time: 0, path: 'oss://bucket/out/t1/snapshot_0.jpg' }];
    expect(store.succeed('t1', second.attempts, data)).toBe(true);
    expect(store.succeed('t1', second.attempts, [])).toBe(false);
    expect(store.fail('t1', second.attempts, 'late')).toBe(false);
    const done = store.get('default', 't1')!;
    expect(done.state).toBe('SUCCESS');
    expect(done.data).toEqual(data);
    expect(done.error).toBeUndefined();
    expect(done.finishedAt).toBeTypeOf('number');
  });

  it('records a failure with its message', () => {
    insert('t1');
    const row = store.claimNext()!;
    expect(store.fail('t1', row.attempts, 'input.content: not a video')).toBe(true);
    expect(store.get('default', 't1')).toMatchObject({ state: 'FAIL', error: 'input.content: not a video' });
  });

  it('shows a task only to its own workspace', () => {
    insert('t1', 'alpha');
    expect(store.get('alpha', 't1')?.id).toBe('t1');
    expect(store.get('beta', 't1')).toBeUndefined();
    expect(store.get('alpha', 'nope')).toBeUndefined();
  });

  it('refuses a second task with the same id', () => {
    insert('t1');
    expect(() => insert('t1')).toThrow(/UNIQUE/);
  });

  it('keeps every task across a reopen and re-queues the running ones without counting a crash', () => {
    for (const id of ['t1', 't2', 't3']) insert(id);
    store.claimNext();
    store.claimNext();
    store.close();
    store = new TaskStore(path.join(dir, 'tasks.db'));
    expect(store.counts()).toEqual({ pending: 1, running: 2, success: 0, fail: 0 });
    expect(store.requeueAllRunning()).toBe(2);
    expect(store.pendingCount()).toBe(3);
    const again = store.claimNext()!;
    expect(again.id).toBe('t1');
    expect(again.attempts).toBe(2);
    expect(again.crashes).toBe(0);
  });

  it('lists the spooled inputs of unfinished tasks only', () => {
    store.insert({ id: 't1', workspace: 'w', job: jobOf('t1'), inputFile: '/spool/t1', createdAt: 1 });
    store.insert({ id: 't2', workspace: 'w', job: jobOf('t2'), inputFile: '/spool/t2', createdAt: 2 });
    const row = store.claimNext()!;
    store.succeed(row.id, row.attempts, []);
    expect([...store.liveInputFiles()]).toEqual(['/spool/t2']);
  });

  it('deletes finished tasks past their retention and keeps everything else', () => {
    for (const id of ['old-success', 'old-fail', 'new-success', 'waiting', 'running']) insert(id);
    const finish = (id: string, at: number, ok: boolean) => {
      const row = store.claimNext()!;
      expect(row.id).toBe(id);
      if (ok) store.succeed(id, row.attempts, [], at);
      else store.fail(id, row.attempts, 'bad', at);
    };
    finish('old-success', 1_000, true);
    finish('old-fail', 2_000, false);
    finish('new-success', 10_000, true);
    expect(store.deleteFinishedBefore(5_000)).toBe(2);
    expect(store.get('default', 'old-success')).toBeUndefined();
    expect(store.get('default', 'old-fail')).toBeUndefined();
    expect(store.get('default', 'new-success')?.state).toBe('SUCCESS');
    store.claimNext();
    expect(store.deleteFinishedBefore(Number.MAX_SAFE_INTEGER)).toBe(1);
    expect(store.counts()).toEqual({ pending: 1, running: 1, success: 0, fail: 0 });
  });

  it('refuses a database written by a newer vsnap', () => {
    store.close();
    const file = path.join(dir, 'tasks.db');
    store = new TaskStore(file);
    store.close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => new TaskStore(file)).toThrow(/schema version 99/);
    store = new TaskStore(':memory:');
  });

  it('counts the unfinished tasks of each owner, RUNNING included, finished ones not', () => {
    for (const [id, owner] of [['a1', 'ci'], ['a2', 'ci'], ['a3', 'ci'], ['b1', 'batch']] as const) {
      store.insert({ id, workspace: 'default', job: jobOf(id), owner, createdAt: Date.now() });
    }
    insert('nobody');
    const running = store.claimNext()!;
    expect(running.id).toBe('a1');
    expect([store.activeCount('ci'), store.activeCount('batch'), store.activeCount('other')]).toEqual([3, 1, 0]);
    store.succeed('a1', running.attempts, []);
    const next = store.claimNext()!;
    store.fail(next.id, next.attempts, 'bad');
    expect(store.activeCount('ci')).toBe(1);
  });

  it('upgrades a version 1 table, keeping its tasks, which have no owner', () => {
    store.close();
    const file = path.join(dir, 'v1.db');
    const raw = new Database(file);
    raw.exec(`
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY, workspace TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('PENDING', 'RUNNING', 'SUCCESS', 'FAIL')),
        job TEXT NOT NULL, input_file TEXT, data TEXT, error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, crashes INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL, finished_at INTEGER
      );
    `);
    raw.prepare(`INSERT INTO tasks (id, workspace, state, job, created_at) VALUES ('old', 'default', 'PENDING', ?, 1)`).run(
      JSON.stringify(jobOf('old')),
    );
    raw.pragma('user_version = 1');
    raw.close();
    store = new TaskStore(file);
    expect(store.get('default', 'old')?.job).toEqual(jobOf('old'));
    store.insert({ id: 'new', workspace: 'default', job: jobOf('new'), owner: 'ci', createdAt: 2 });
    expect(store.activeCount('ci')).toBe(1);
    expect(store.pendingCount()).toBe(2);
    store.close();
    const reopened = new Database(file);
    expect(reopened.pragma('user_version', { simple: true })).toBe(2);
    reopened.close();
    store = new TaskStore(file);
  });
});
