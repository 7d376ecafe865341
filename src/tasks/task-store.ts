/**
 * The embedded task table: one SQLite database (better-sqlite3) in the data
 * directory, owned by one service process.
 *
 * Durability: WAL journal with `synchronous = FULL`, so a transaction that
 * has returned survives a kill -9 of the process and a power cut. Every
 * method is synchronous (better-sqlite3 is), which is what makes "written
 * before the response is sent" simple: the route awaits nothing between the
 * insert and the answer.
 *
 * States: PENDING (waiting) → RUNNING (a worker has it) → SUCCESS | FAIL.
 * RUNNING is internal; the API shows it as PENDING. Each start of a task
 * increments `attempts`, and a finish names the attempt it finishes, so a
 * late answer from an earlier attempt (a worker that outlived a restart)
 * can never finish a task twice or overwrite a newer outcome: a task leaves
 * RUNNING exactly once per attempt, and reaches SUCCESS or FAIL once.
 * `crashes` counts attempts lost to a worker crash, which decides retries;
 * a restart of the service re-queues RUNNING tasks without counting them.
 * `owner` is the label of the API key that submitted the task, for the
 * per-key limit (`activeCount`); a version 1 table gets the column when
 * it is opened, its old tasks with no owner.
 */

import Database from 'better-sqlite3';

import type { Job, SnapshotResultItem } from './job.js';
import type { TaskCounts } from './queue.js';

export type TaskState = 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAIL';

export interface TaskRow {
  id: string;
  workspace: string;
  state: TaskState;
  job: Job;
  /** A spooled input file to delete once the task has finished. */
  inputFile: string | undefined;
  data: SnapshotResultItem[] | undefined;
  error: string | undefined;
  attempts: number;
  crashes: number;
  createdAt: number;
  finishedAt: number | undefined;
}

export interface NewTask {
  id: string;
  workspace: string;
  job: Job;
  inputFile?: string;
  /** The submitting key's label; counted by `activeCount`. */
  owner?: string;
  createdAt: number;
}

interface RawRow {
  id: string;
  workspace: string;
  state: TaskState;
  job: string;
  input_file: string | null;
  data: string | null;
  error: string | null;
  attempts: number;
  crashes: number;
  created_at: number;
  finished_at: number | null;
}

const schemaVersion = 2;

const schema = `
  CREATE TABLE IF NOT EXISTS tasks (
    id          TEXT PRIMARY KEY,
    workspace   TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('PENDING', 'RUNNING', 'SUCCESS', 'FAIL')),
    job         TEXT NOT NULL,
    input_file  TEXT,
    owner       TEXT,
    data        TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    crashes     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS tasks_unfinished ON tasks (state) WHERE state IN ('PENDING', 'RUNNING');
  CREATE INDEX IF NOT EXISTS tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
`;

/** Run after `schema`, when a version 1 table (no owner column) has been brought up to date. */
const ownerIndex = `
  CREATE INDEX IF NOT EXISTS tasks_owner ON tasks (owner) WHERE state IN ('PENDING', 'RUNNING');
`;

/**
 * better-sqlite3 builds or fetches its binary in an install script, which
 * npm skips under --ignore-scripts (and asks approval for): say so, and how
 * to get it, rather than the bindings package's list of paths.
 */
function openDatabase(file: string): Database.Database {
  try {
    return new Database(file);
  } catch (error) {
    if (error instanceof Error && /Could not locate the bindings file|better_sqlite3\.node/.test(error.message)) {
      throw new Error(
        "The embedded task store needs better-sqlite3's native binary, which is not installed: its install script " +
          'did not run (npm skips it under --ignore-scripts, and until it is approved). Run `npm rebuild better-sqlite3`, ' +
          'or run the service on Redis (--queue redis://HOST:PORT).',
        { cause: error },
      );
    }
    throw error;
  }
}

export class TaskStore {
  readonly #db: Database.Database;
  readonly #statements;

  /** Opens (creating if needed) the database at `file`; `:memory:` for a throwaway one. */
  constructor(file: string) {
    this.#db = openDatabase(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version > schemaVersion) {
      this.#db.close();
      throw new Error(`The task database ${file} has schema version ${version}, newer than this vsnap's ${schemaVersion}`);
    }
    this.#db.transaction(() => {
      this.#db.exec(schema);
      const columns = this.#db.pragma('table_info(tasks)') as { name: string }[];
      if (!columns.some((column) => column.name === 'owner')) this.#db.exec('ALTER TABLE tasks ADD COLUMN owner TEXT');
      this.#db.exec(ownerIndex);
      this.#db.pragma(`user_version = ${schemaVersion}`);
    })();
    const db = this.#db;
    this.#statements = {
      insert: db.prepare(
        `INSERT INTO tasks (id, workspace, state, job, input_file, owner, created_at)
         VALUES (@id, @workspace, 'PENDING', @job, @inputFile, @owner, @createdAt)`,
      ),
      get: db.prepare<[string, string], RawRow>('SELECT * FROM tasks WHERE id = ? AND workspace = ?'),
      // rowid order is arrival order: the oldest waiting task starts first.
      claim: db.prepare<[], RawRow>(
        `UPDATE tasks SET state = 'RUNNING', attempts = attempts + 1
         WHERE rowid = (SELECT rowid FROM tasks WHERE state = 'PENDING' ORDER BY rowid LIMIT 1)
         RETURNING *`,
      ),
      succeed: db.prepare(
        `UPDATE tasks SET state = 'SUCCESS', data = @data, finished_at = @now
         WHERE id = @id AND state = 'RUNNING' AND attempts = @attempt`,
      ),
      fail: db.prepare(
        `UPDATE tasks SET state = 'FAIL', error = @error, finished_at = @now
         WHERE id = @id AND state = 'RUNNING' AND attempts = @attempt`,
      ),
      requeue: db.prepare(
        `UPDATE tasks SET state = 'PENDING', crashes = crashes + @crashed
         WHERE id = @id AND state = 'RUNNING' AND attempts = @attempt`,
      ),
      requeueAll: db.prepare(`UPDATE tasks SET state = 'PENDING' WHERE state = 'RUNNING'`),
      counts: db.prepare<[], { state: TaskState; n: number }>('SELECT state, count(*) AS n FROM tasks GROUP BY state'),
      pending: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM tasks WHERE state = 'PENDING'`),
      active: db.prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM tasks WHERE owner = ? AND state IN ('PENDING', 'RUNNING')`,
      ),
      expire: db.prepare<[number]>(`DELETE FROM tasks WHERE state IN ('SUCCESS', 'FAIL') AND finished_at < ?`),
      inputFiles: db.prepare<[], { input_file: string }>(
        `SELECT input_file FROM tasks WHERE state IN ('PENDING', 'RUNNING') AND input_file IS NOT NULL`,
      ),
    };
  }

  insert(task: NewTask): void {
    this.#statements.insert.run({
      id: task.id,
      workspace: task.workspace,
      job: JSON.stringify(task.job),
      inputFile: task.inputFile ?? null,
      owner: task.owner ?? null,
      createdAt: task.createdAt,
    });
  }

  get(workspace: string, id: string): TaskRow | undefined {
    const raw = this.#statements.get.get(id, workspace);
    return raw === undefined ? undefined : toRow(raw);
  }

  /** Moves the oldest PENDING task to RUNNING and returns it, or undefined when none waits. */
  claimNext(): TaskRow | undefined {
    const raw = this.#statements.claim.get();
    return raw === undefined ? undefined : toRow(raw);
  }

  /** Finishes attempt `attempt` of a RUNNING task; false when that attempt is not running (already finished). */
  succeed(id: string, attempt: number, data: readonly SnapshotResultItem[], now = Date.now()): boolean {
    return this.#statements.succeed.run({ id, attempt, data: JSON.stringify(data), now }).changes === 1;
  }

  fail(id: string, attempt: number, error: string, now = Date.now()): boolean {
    return this.#statements.fail.run({ id, attempt, error, now }).changes === 1;
  }

  /** Puts attempt `attempt` back to PENDING; `crashed` counts it as lost to a worker crash. */
  requeue(id: string, attempt: number, crashed: boolean): boolean {
    return this.#statements.requeue.run({ id, attempt, crashed: crashed ? 1 : 0 }).changes === 1;
  }

  /** Every RUNNING task back to PENDING: at start, no worker of this process has any. */
  requeueAllRunning(): number {
    return this.#statements.requeueAll.run().changes;
  }

  counts(): TaskCounts {
    const counts: TaskCounts = { pending: 0, running: 0, success: 0, fail: 0 };
    for (const { state, n } of this.#statements.counts.all()) {
      counts[state.toLowerCase() as keyof TaskCounts] = n;
    }
    return counts;
  }

  pendingCount(): number {
    return this.#statements.pending.get()?.n ?? 0;
  }

  /** The unfinished (PENDING or RUNNING) tasks of `owner`. */
  activeCount(owner: string): number {
    return this.#statements.active.get(owner)?.n ?? 0;
  }

  /** Deletes the tasks that finished before `before` (ms since the epoch); returns how many. */
  deleteFinishedBefore(before: number): number {
    return this.#statements.expire.run(before).changes;
  }

  /** The spooled input files that unfinished tasks still need. */
  liveInputFiles(): Set<string> {
    return new Set(this.#statements.inputFiles.all().map((row) => row.input_file));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function toRow(raw: RawRow): TaskRow {
  return {
    id: raw.id,
    workspace: raw.workspace,
    state: raw.state,
    job: JSON.parse(raw.job) as Job,
    inputFile: raw.input_file ?? undefined,
    data: raw.data === null ? undefined : (JSON.parse(raw.data) as SnapshotResultItem[]),
    error: raw.error ?? undefined,
    attempts: raw.attempts,
    crashes: raw.crashes,
    createdAt: raw.created_at,
    finishedAt: raw.finished_at ?? undefined,
  };
}
