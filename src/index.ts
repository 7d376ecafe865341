/**
 * vsnap, the library: images of a video at the times asked (an interval, a
 * count over a window, chosen times), each with the index and time of the
 * frame it shows, encoded, raw, or laid into sprite sheets.
 *
 *   probe(input)                      metadata of a video
 *   snapshot(input, options)          an async iterable of snapshots
 *   snapshotToFiles(input, dir, opts) the same, written to dir/snapshot_K.EXT
 *                                     (dir/sprite_J.EXT and dir/thumbnails.vtt for sprites)
 *
 * Importing this module does nothing: the decode backend is loaded and the
 * encode pool started on first use. Options are checked when a call is made;
 * every error vsnap raises on purpose is a VsnapError with a stable code.
 */

import { shutdownEncodePool } from './encode/pool.js';
import { loadBackend, nativeModule } from './engine/loader.js';
import { shutdownWasmPool } from '../wasm/wasm-backend.js';
import { SnapshotRun } from './engine/snapshot.js';
import { toVideoInfo, type VideoInfo } from './engine/video-info.js';
import {
  resolveDirectory,
  resolveInput,
  resolveProbeOptions,
  resolveSnapshotOptions,
  type ProbeOptions,
  type SnapshotInput,
  type SnapshotOptions,
} from './options.js';
import { writeSnapshotFiles, type SnapshotFilesResult } from './snapshot-files.js';

export { VsnapError, errorCodes, type VsnapErrorCode } from './errors.js';
export { defaultSnapshotOptions } from './options.js';
export type { Fit, ImageFormat, ProbeOptions, SamplingMode, SnapshotInput, SnapshotOptions, Tonemap } from './options.js';
export type { SpriteCell } from './engine/sprites.js';
export type { DecodeStats, Snapshot, SnapshotPlan, SnapshotRun } from './engine/snapshot.js';
export type { PlannedVideoInfo, VideoInfo } from './engine/video-info.js';
export type { VideoColor } from './engine/binding.js';
export type { BackendChoice, BackendName } from './engine/backend.js';
export type { EncoderChoice, EncoderName } from './encode/encoders.js';
export { reportBackend, type BackendReport } from './engine/loader.js';
export { defaultLimits, limitEnv, type Limits } from './limits.js';
export type { SnapshotFile, SnapshotFilesResult } from './snapshot-files.js';

/** Reads the metadata of a video: a file path, an http(s) URL ({ url }) or the bytes of a whole file. */
export async function probe(input: SnapshotInput, options?: ProbeOptions): Promise<VideoInfo> {
  const source = resolveInput(input);
  const backend = loadBackend(resolveProbeOptions(options).backend);
  return toVideoInfo(await backend.probe(source), backend.name);
}

/**
 * Plans and extracts the snapshots of a video. Throws VSNAP_INVALID_OPTION at
 * once for a bad input or option; everything else (a missing file, a corrupt
 * stream, an abort) rejects from the iteration and from `plan()`.
 */
export function snapshot(input: SnapshotInput, options?: SnapshotOptions): SnapshotRun {
  return new SnapshotRun(resolveInput(input), resolveSnapshotOptions(options));
}

/** Writes every snapshot to `dir/snapshot_K.EXT` (K = outputIndex) as it arrives. */
export async function snapshotToFiles(
  input: SnapshotInput,
  dir: string,
  options?: SnapshotOptions,
): Promise<SnapshotFilesResult> {
  const target = resolveDirectory(dir, 'dir');
  return writeSnapshotFiles(snapshot(input, options), target);
}

/**
 * Returns to the system the memory that the C allocator holds free: glibc
 * keeps what decoders, encoders and worker threads freed, up to hundreds of
 * MiB after a burst of work, so that the process's resident size stays at
 * its peak. A long-lived process calls this when it goes idle (the service's
 * workers do, a second after their last task); calling it between busy runs
 * only makes their next allocations fault pages in again. Returns whether
 * any memory was returned: false where the native module does not load or
 * the C library is not glibc.
 */
export function trimMemory(): boolean {
  return nativeModule()?.trimMemory() ?? false;
}

/** Stops the encode workers (and the wasm backend's). Not needed for a process to exit; for servers and tests that want them gone now. */
export async function shutdown(): Promise<void> {
  await Promise.all([shutdownEncodePool(), shutdownWasmPool()]);
}
