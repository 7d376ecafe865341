/**
 * Writes a run's snapshots to a directory as they arrive:
 * `<dir>/snapshot_<outputIndex>.<format>`, overwriting files of those names.
 * A sprite run writes its sheets instead, `<dir>/sprite_<J>.<format>`, and
 * once they are all written the thumbnail track `<dir>/thumbnails.vtt`
 * (sprites.ts); each output's path is then its cell,
 * `<dir>/sprite_<J>.<format>#xywh=x,y,w,h`. The directory is created (with
 * its parents) once the input has opened, so an input that fails to open
 * leaves nothing behind.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { DecodeStats, Snapshot, SnapshotRun } from './engine/snapshot.js';
import { cellReference, spriteVtt, type SpriteCell } from './engine/sprites.js';
import type { PlannedVideoInfo } from './engine/video-info.js';

/** The thumbnail track a sprite run writes beside its sheets. */
export const spriteTrackName = 'thumbnails.vtt';

export interface SnapshotFile {
  outputIndex: number;
  frameIndex: number;
  frameTime: number;
  /** The image's file; a sprite run's output: its cell, `sheet#xywh=x,y,w,h`. */
  path: string;
  width: number;
  height: number;
}

export interface SnapshotFilesResult {
  files: SnapshotFile[];
  /** Sprite sheets written (0 for a run without sprite). */
  sheets: number;
  stats: DecodeStats;
  info: PlannedVideoInfo;
}

/** The file name of a snapshot: its image, or its sprite sheet. */
export function snapshotFileName(snapshot: Pick<Snapshot, 'outputIndex' | 'format' | 'cells'>): string {
  const stem = snapshot.cells === undefined ? 'snapshot' : 'sprite';
  return `${stem}_${snapshot.outputIndex}.${snapshot.format}`;
}

export async function writeSnapshotFiles(
  run: SnapshotRun,
  dir: string,
  onFile?: (file: SnapshotFile) => void,
): Promise<SnapshotFilesResult> {
  const files: SnapshotFile[] = [];
  const cells: { name: string; cell: SpriteCell }[] = [];
  let sheets = 0;
  let dirReady = false;
  for await (const snapshot of run) {
    if (!dirReady) {
      await mkdir(dir, { recursive: true });
      dirReady = true;
    }
    const name = snapshotFileName(snapshot);
    const path = join(dir, name);
    await writeFile(path, snapshot.data);
    if (snapshot.cells === undefined) {
      const { outputIndex, frameIndex, frameTime, width, height } = snapshot;
      const file = { outputIndex, frameIndex, frameTime, path, width, height };
      files.push(file);
      onFile?.(file);
      continue;
    }
    sheets++;
    for (const cell of snapshot.cells) {
      const { outputIndex, frameIndex, frameTime, width, height } = cell;
      const file = { outputIndex, frameIndex, frameTime, path: cellReference(path, cell), width, height };
      cells.push({ name, cell });
      files.push(file);
      onFile?.(file);
    }
  }
  if (!dirReady) await mkdir(dir, { recursive: true });
  const { info, end } = await run.plan();
  if (sheets > 0) await writeFile(join(dir, spriteTrackName), spriteVtt(cells, end));
  return { files, sheets, stats: run.stats(), info };
}
