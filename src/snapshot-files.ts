/**
 * Writes a run's snapshots to a directory as they arrive:
 * `<dir>/snapshot_<outputIndex>.<jpg|png>`, overwriting files of those names.
 * The directory is created (with its parents) once the input has opened, so
 * an input that fails to open leaves nothing behind.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { DecodeStats, SnapshotRun } from './engine/snapshot.js';
import type { PlannedVideoInfo } from './engine/video-info.js';

export interface SnapshotFile {
  outputIndex: number;
  frameIndex: number;
  frameTime: number;
  path: string;
}

export interface SnapshotFilesResult {
  files: SnapshotFile[];
  stats: DecodeStats;
  info: PlannedVideoInfo;
}

export async function writeSnapshotFiles(
  run: SnapshotRun,
  dir: string,
  onFile?: (file: SnapshotFile) => void,
): Promise<SnapshotFilesResult> {
  const files: SnapshotFile[] = [];
  let dirReady = false;
  for await (const snapshot of run) {
    if (!dirReady) {
      await mkdir(dir, { recursive: true });
      dirReady = true;
    }
    const path = join(dir, `snapshot_${snapshot.outputIndex}.${snapshot.format}`);
    await writeFile(path, snapshot.data);
    const file = {
      outputIndex: snapshot.outputIndex,
      frameIndex: snapshot.frameIndex,
      frameTime: snapshot.frameTime,
      path,
    };
    files.push(file);
    onFile?.(file);
  }
  if (!dirReady) await mkdir(dir, { recursive: true });
  const { info } = await run.plan();
  return { files, stats: run.stats(), info };
}
