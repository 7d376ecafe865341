/**
 * runJob: one job in, its images out. It runs the library's snapshot run
 * like any embedder, with the job's parameters checked by the library's
 * rules under the API's names (`parameters.start`), so the service runs
 * exactly the engine the library ships.
 *
 * Contract
 * - The input: a `file` source is opened where it is, `bytes` are decoded
 *   from memory, an `oss` source is opened in place when the store keeps
 *   it as a local file, read by range from a presigned URL when the store
 *   makes one (an S3-compatible store: keyframe mode then fetches only the
 *   index and the keyframes it needs), and read into memory otherwise.
 * - oss output: each image is written as soon as it is encoded, to
 *   `{prefix}/{taskId}/snapshot_{K}.{ext}` (K = output index), with at most
 *   `maxWritesInFlight` writes pending, so a slow store holds back decoding
 *   instead of letting images pile up in memory. `path` is the image's
 *   URL-encoded oss:// URL. A sprite run writes its sheets,
 *   `{prefix}/{taskId}/sprite_{J}.{ext}`, and then `thumbnails.vtt`; each
 *   output's `path` is its cell, `sprite_{J}.{ext}#xywh=x,y,w,h`. base64
 *   output: `content` is the image.
 * - `data` is in output order; `frame_time` is the engine's, in seconds.
 * - Idempotent: the same job writes the same bytes under the same keys, so
 *   running it again after a crash simply replaces what the first run left.
 * - Errors are TaskErrors. A video the engine cannot read, a missing input
 *   object and an unusable storage location are VSNAP_TASK_INPUT, with a
 *   message that starts with the input's `source.name` and says why; the
 *   local path the engine opened (a spool file, a file in the data
 *   directory) is replaced by that name, so no server path reaches the
 *   caller. Parameters the video cannot answer (a `start` past its end) are
 *   VSNAP_TASK_INPUT too, with the engine's message, which names the
 *   parameter as the API does (`parameters.start`). Anything else is
 *   VSNAP_TASK_INTERNAL with a generic message and the original error as
 *   cause.
 */

import { SnapshotRun } from '../engine/snapshot.js';
import { cellReference, spriteVtt, type SpriteCell } from '../engine/sprites.js';
import { VsnapError, type VsnapErrorCode } from '../errors.js';
import { apiParameterName } from '../option-schema.js';
import { resolveInput, resolveSnapshotOptions, type SnapshotInput } from '../options.js';
import { snapshotFileName, spriteTrackName } from '../snapshot-files.js';
import { StorageError } from '../storage/errors.js';
import { formatOssUrl, joinOssKey, parseOssPrefixUrl, type OssLocation } from '../storage/oss-url.js';
import type { Store } from '../storage/store.js';
import { taskInputError, toTaskError, type TaskError } from './errors.js';
import type { Job, JobResult, JobSource, SnapshotResultItem } from './job.js';

/**
 * Writes pending at once for oss output. A few overlap the store's latency
 * with decoding; more would only hold more encoded images in memory.
 */
const maxWritesInFlight = 4;

/** The engine's errors that are about the video itself, not about vsnap. */
const inputErrorCodes: ReadonlySet<VsnapErrorCode> = new Set([
  'VSNAP_INPUT_NOT_FOUND',
  'VSNAP_INPUT_CHANGED',
  'VSNAP_INPUT_TOO_LARGE',
  'VSNAP_UNSUPPORTED_INPUT',
  'VSNAP_NO_VIDEO_STREAM',
  'VSNAP_CORRUPT_INPUT',
  'VSNAP_LIMIT_EXCEEDED',
]);

/** What the engine calls a memory input in its messages (Input::describe). */
const engineBufferName = '<buffer>';

/**
 * How long a presigned input URL stays valid. The engine opens it again for
 * every decode lane and every seek, so it must outlive the longest job.
 */
const rangeUrlTtlSeconds = 6 * 3600;

export async function runJob(job: Job, store: Store): Promise<JobResult> {
  const started = performance.now();
  const opened: OpenedSource = { enginePath: undefined };
  try {
    const output = job.output.type === 'oss' ? parseOutputPrefix(job.output.prefix) : undefined;
    const input = await openSource(job.source, store, opened);
    const run = new SnapshotRun(resolveInput(input), resolveSnapshotOptions(optionsOf(job), apiParameterName, 'api'));
    const writes = new BoundedWrites(maxWritesInFlight);
    const data: SnapshotResultItem[] = [];
    const cells: { name: string; cell: SpriteCell }[] = [];
    try {
      for await (const image of run) {
        if (image.cells !== undefined && output !== undefined) {
          // A sprite's sheet: one file, an item per cell.
          const name = snapshotFileName(image);
          const url = imageUrl(output, job.taskId, name);
          await writes.add(store.write(url, image.data).catch(rethrowAsOutputError));
          for (const cell of image.cells) {
            cells.push({ name, cell });
            data.push({ frame_index: cell.frameIndex, frame_time: cell.frameTime, path: cellReference(url, cell) });
          }
          continue;
        }
        const item: SnapshotResultItem = { frame_index: image.frameIndex, frame_time: image.frameTime };
        if (output === undefined) {
          item.content = image.data.toString('base64');
        } else {
          item.path = imageUrl(output, job.taskId, snapshotFileName(image));
          await writes.add(store.write(item.path, image.data).catch(rethrowAsOutputError));
        }
        data.push(item);
      }
      if (cells.length > 0 && output !== undefined) {
        const track = Buffer.from(spriteVtt(cells, (await run.plan()).end));
        await writes.add(store.write(imageUrl(output, job.taskId, spriteTrackName), track).catch(rethrowAsOutputError));
      }
    } finally {
      // Even when decoding fails, no write may outlive the job.
      await writes.settled();
    }
    writes.throwIfFailed();
    const { framesDecoded, damagedFrames, seekRecoveries } = run.stats();
    return { data, framesDecoded, decodeMs: Math.round(performance.now() - started), damagedFrames, seekRecoveries };
  } catch (error) {
    throw describeFailure(error, job.source, opened.enginePath);
  }
}

interface OpenedSource {
  /** The local file the engine was given, so that its messages can be rid of it. */
  enginePath: string | undefined;
}

async function openSource(source: JobSource, store: Store, opened: OpenedSource): Promise<SnapshotInput> {
  let input: SnapshotInput;
  switch (source.type) {
    case 'file':
      input = source.path;
      break;
    case 'bytes':
      input = source.data;
      break;
    case 'oss':
      input = (await store.localPath(source.url)) ?? (await rangeInput(source.url, store, opened)) ?? (await store.readFile(source.url));
      break;
  }
  if (typeof input === 'string') {
    opened.enginePath = input;
  } else if (input instanceof Uint8Array && input.byteLength === 0) {
    // The engine would call it an invalid option; to the caller it is an empty video.
    throw taskInputError(`${source.name}: the video is empty`);
  }
  return input;
}

/**
 * The object as a presigned URL the engine reads by range, or undefined when
 * the store has none. Signing makes no request; a missing object is the
 * engine's VSNAP_INPUT_NOT_FOUND (HTTP 404). The engine names a URL input
 * without its query (the signature), and that is what its messages are rid of.
 */
async function rangeInput(url: string, store: Store, opened: OpenedSource): Promise<SnapshotInput | undefined> {
  if (store.rangeUrl === undefined) return undefined;
  const rangeUrl = await store.rangeUrl(url, rangeUrlTtlSeconds);
  if (rangeUrl === undefined) return undefined;
  opened.enginePath = rangeUrl.slice(0, rangeUrl.search(/[?#]|$/));
  return { url: rangeUrl };
}

/** The output prefix, checked before any decoding so that a bad one fails at once. */
function parseOutputPrefix(prefix: string): OssLocation {
  try {
    return parseOssPrefixUrl(prefix);
  } catch (error) {
    return rethrowAsOutputError(error);
  }
}

/**
 * The library's options of a job: the seed's three parameters and the
 * extensions given; the interval only where no count or times place the
 * targets.
 */
function optionsOf(job: Job): Record<string, unknown> {
  const extensions = job.extensions ?? {};
  const placed = extensions.count !== undefined || extensions.times !== undefined;
  return { ...extensions, ...(placed ? {} : { interval: job.interval }), format: job.format, mode: job.mode };
}

/** `{prefix}/{taskId}/{name}`, URL-encoded. */
function imageUrl(output: OssLocation, taskId: string, name: string): string {
  try {
    return formatOssUrl(output.bucket, joinOssKey(output.key, taskId, name));
  } catch (error) {
    return rethrowAsOutputError(error);
  }
}

/**
 * A storage refusal of an output location (a bad prefix, a key too long, a
 * link out of the bucket) is the caller's; its message names the output URL,
 * so it is kept as it is rather than put under the input's name.
 */
function rethrowAsOutputError(error: unknown): never {
  if (error instanceof StorageError) throw taskInputError(error.message, error);
  throw error;
}

function describeFailure(error: unknown, source: JobSource, enginePath: string | undefined): TaskError {
  // A parameter the video cannot answer names the parameter, not the input.
  if (error instanceof VsnapError && error.code === 'VSNAP_INVALID_OPTION') return taskInputError(error.message, error);
  if (error instanceof VsnapError && inputErrorCodes.has(error.code)) {
    return taskInputError(`${source.name}: ${engineReason(error.message, source.name, enginePath)}`, error);
  }
  if (error instanceof StorageError) {
    // Storage messages name oss:// URLs only, never the files behind them.
    return taskInputError(`${source.name}: ${error.message}`, error);
  }
  return toTaskError(error);
}

/**
 * The engine's message with the input named as the caller names it. The
 * engine names its input by the path it opened (or `<buffer>`), often in a
 * lead, `path: ` or `avformat_open_input(path): `, that says no more than
 * the task message's own lead; that lead is dropped.
 */
function engineReason(message: string, name: string, enginePath: string | undefined): string {
  const renamed = message.split(enginePath ?? engineBufferName).join(name);
  if (renamed.startsWith(`${name}: `)) return renamed.slice(name.length + 2);
  const call = /^\w+\(/.exec(renamed);
  if (call !== null && renamed.startsWith(`${name}): `, call[0].length)) {
    return renamed.slice(call[0].length + name.length + 3);
  }
  return renamed;
}

/**
 * Store writes running alongside decoding, at most `limit` at once. `add`
 * waits while the limit is reached and throws the first failure; the rest of
 * the failures are held, so none goes unhandled.
 */
class BoundedWrites {
  readonly #limit: number;
  readonly #pending = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  async add(write: Promise<void>): Promise<void> {
    const tracked: Promise<void> = write.then(
      () => {
        this.#pending.delete(tracked);
      },
      (error: unknown) => {
        this.#pending.delete(tracked);
        this.#failure ??= { error };
      },
    );
    this.#pending.add(tracked);
    while (this.#pending.size >= this.#limit) await Promise.race(this.#pending);
    this.throwIfFailed();
  }

  /** Resolves once no write is pending; never rejects. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }

  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}
