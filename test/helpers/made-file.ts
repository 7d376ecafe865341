/**
 * Files the ffmpeg CLI makes at test time, into test/.fixtures/ (gitignored).
 * Each file's name carries a hash of everything that made it (arguments and
 * FFmpeg version), so a rerun finds it and a changed recipe makes a new one.
 */

import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpeg, ffmpegEncoders, ffmpegVersion } from './ffmpeg.js';

export const fixtureDir = fileURLToPath(new URL('../.fixtures/', import.meta.url));

/** A file the ffmpeg CLI makes, cached under test/.fixtures/ by a hash of its recipe. */
export interface MadeFile {
  /** Unique; the file stem. */
  name: string;
  /** File extension; it picks FFmpeg's muxer. */
  ext: string;
  /** The FFmpeg encoder the recipe needs; without it the file is not made and its tests are skipped. */
  encoder: string;
  /** ffmpeg arguments that make the file: inputs and output options, not the output path. */
  encode: readonly string[];
  /** A second pass with stream copy over the encoded file: options before and after its -i. */
  remux?: { input: readonly string[]; output: readonly string[] };
}

/** Whether this FFmpeg build can make the file. */
export async function canMake(file: MadeFile): Promise<boolean> {
  return (await ffmpegEncoders()).has(file.encoder);
}

/** The file's path, making it first unless a file with the same recipe exists. */
export async function fixturePath(file: MadeFile): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify([await ffmpegVersion(), file.ext, file.encode, file.remux ?? null]))
    .digest('hex')
    .slice(0, 12);
  const path = join(fixtureDir, `${file.name}-${key}.${file.ext}`);
  if (await exists(path)) return path;
  await mkdir(fixtureDir, { recursive: true });
  // Made under a private name, then renamed: a concurrent worker never sees half a file.
  const scratch = `${path}.${process.pid}.partial.${file.ext}`;
  const encoded = file.remux ? `${path}.${process.pid}.encoded.${file.ext}` : scratch;
  try {
    await ffmpeg(['-y', ...file.encode, encoded]);
    if (file.remux) {
      await ffmpeg(['-y', ...file.remux.input, '-i', encoded, '-map', '0', '-c', 'copy', ...file.remux.output, scratch]);
    }
    await rename(scratch, path);
  } finally {
    await rm(scratch, { force: true });
    await rm(encoded, { force: true });
  }
  return path;
}

/**
 * Makes every one of `files` this FFmpeg can make, and deletes the files of
 * older recipes; vitest's global setup runs it once per run.
 */
export async function makeAll(files: readonly MadeFile[]): Promise<void> {
  const made = new Set<string>();
  for (const file of files) {
    if (await canMake(file)) made.add(basename(await fixturePath(file)));
  }
  for (const entry of await readdir(fixtureDir)) {
    if (/-[0-9a-f]{12}\.\w+$/.test(entry) && !made.has(entry)) await rm(join(fixtureDir, entry));
  }
}

/** A path under test/.fixtures/scratch/ for what a test writes itself (outputs, damaged copies); kept for a look after a failure. */
export async function scratchPath(name: string): Promise<string> {
  const dir = join(fixtureDir, 'scratch');
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
