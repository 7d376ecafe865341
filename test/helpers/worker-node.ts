/**
 * `vsnap worker` as an operator runs it (vsnap-process.ts): ready at its one
 * `worker ready (N processes) on redis://...` line.
 */

import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { launch, type Launched, VsnapProcess } from './vsnap-process.js';

export interface WorkerNodeOptions {
  queue: string;
  dataDir: string;
  /** Environment variables added to this process's (VSNAP_WORKERS, VSNAP_WORKER_LOCK_MS, ...). */
  env?: Record<string, string>;
  /** Settings written to a config file beside the data directory, passed with --config. */
  config?: Record<string, unknown>;
}

export class WorkerNode extends VsnapProcess {
  readonly readyLine: string;

  static async start(options: WorkerNodeOptions): Promise<WorkerNode> {
    const configFile = path.join(path.dirname(options.dataDir), `worker-${randomUUID()}.config.json`);
    const launched = await launch(['worker', '--queue', options.queue, '--data-dir', options.dataDir], { ...options, configFile }, (line) =>
      line.startsWith('worker ready') ? line : undefined,
    );
    return new WorkerNode(launched);
  }

  private constructor(launched: Launched) {
    super(launched);
    this.readyLine = launched.ready;
  }
}
