/**
 * The snapshot pipeline: decode -> encode, bounded, in output order.
 *
 * A SnapshotRun opens its input once (on `plan()` or on the first step of
 * iteration, whichever comes first) and is iterated once. The backend decodes
 * on `lanes` lanes in parallel; one loop per lane runs ahead of the consumer,
 * decoding its next frame while the frames before are encoded in the pool.
 * No more than `maxInFlight` frames are between "decode started" and
 * "snapshot taken by the consumer", so no more than that many raw frames are
 * alive at once, and no more than that many snapshots wait to be taken. By
 * default that is as many frames as fit in 96 MiB (15 at 1080p), and never
 * fewer than lanes + encode threads. Snapshots come out in plan order
 * whatever order the lanes and the encodes finish in (output-merger.ts).
 *
 * The extractor is closed when the run ends in any way: the plan is done, the
 * consumer leaves early (break / return()), an error, or `signal` aborts. An
 * abort stops the run at once and rejects with VSNAP_ABORTED.
 *
 * Only a run that iteration has started releases itself: a caller that calls
 * `plan()` and never iterates should abort the run's signal instead.
 *
 * A sprite run (options.sprite) yields sheets instead: its outputs, upright
 * raw cells, are laid into sheets (sprites.ts), and each sheet is one
 * snapshot, with its `cells`.
 */

import { availableParallelism } from 'node:os';

import { type Encoder, type EncoderName } from '../encode/encoders.js';
import { encodeThreads } from '../encode/pool.js';
import { aborted, runAlreadyIterated } from '../errors.js';
import type { ImageFormat, ResolvedSnapshotOptions } from '../options.js';
import { raceAbort } from './abort.js';
import type { BackendInput, Extractor } from './backend.js';
import { noDecodeStats, type NativeDecodeStats, type NativeFrame } from './binding.js';
import { openRun, type OpenedRun } from './open-run.js';
import { OutputMerger } from './output-merger.js';
import { SpriteSheets, type SpriteCell, type SpriteSheet } from './sprites.js';
import { rotatedSize, type PlannedVideoInfo } from './video-info.js';

export interface Snapshot {
  /** Position in the plan, 0, 1, ... */
  outputIndex: number;
  /** Display index of the frame in the video. */
  frameIndex: number;
  /** Seconds since the first displayed frame. */
  frameTime: number;
  /** Seconds of the target time it answers (the first of them, in keyframe mode). */
  targetTime: number;
  /** Size of the image, upright. */
  width: number;
  height: number;
  format: ImageFormat;
  /** The encoded image; for format 'raw', packed RGB24 rows of `stride` bytes. */
  data: Buffer;
  /** Bytes from one row to the next, for format 'raw' (width * 3). */
  stride?: number;
  /** A sprite run's sheet: the outputs in it, where each is. The sheet's outputIndex is its position among the sheets. */
  cells?: SpriteCell[];
}

export type DecodeStats = NativeDecodeStats;

export interface SnapshotPlan {
  info: PlannedVideoInfo;
  /** The outputs planned (the cells, in a sprite run). */
  outputCount: number;
  /** Where the images are encoded: SnapshotOptions.encoder, with 'auto' resolved. */
  encoder: EncoderName;
  /** Seconds where the planned times end: the window's end, or the video's. */
  end: number;
}

/** How much runs in parallel; the defaults suit a machine given to one run. */
export interface PipelineTuning {
  /** Decode lanes to ask the backend for (it may open fewer). Default: availableParallelism. */
  lanes?: number;
  /** Raw frames alive at most. Default: what fits in 96 MiB, at least encode threads + lanes. */
  maxInFlight?: number;
}

const ignore = (): void => {};

/** Raw frames in flight by default: a memory budget, so that lanes can run ahead. */
const inFlightBudgetBytes = 96 * 1024 * 1024;

function defaultInFlight(frameBytes: number, lanes: number): number {
  return Math.max(lanes + encodeThreads(), Math.floor(inFlightBudgetBytes / Math.max(1, frameBytes)));
}

export class SnapshotRun implements AsyncIterable<Snapshot> {
  readonly #input: BackendInput;
  readonly #options: ResolvedSnapshotOptions;
  readonly #lanes: number;
  readonly #maxInFlight: number | undefined;
  #opening: Promise<OpenedRun> | undefined;
  #extractor: Extractor | undefined;
  #merger: OutputMerger<Promise<Snapshot>> | undefined;
  #finalStats: DecodeStats | undefined;
  /**
   * Frames an encoder is done with, for lanes to decode into again. A new
   * one is fresh memory the kernel must fault in page by page (6 MB, about
   * 1,500 faults, for a 1080p frame), which a run would otherwise pay per
   * image.
   */
  readonly #spareFrames: ArrayBuffer[] = [];
  #iterated = false;
  #finished = false;
  readonly #onAbort = (): void => this.#finish();

  /** `input` and `options` must be validated already (options.ts). */
  constructor(input: BackendInput, options: ResolvedSnapshotOptions, tuning: PipelineTuning = {}) {
    const lanes = tuning.lanes ?? Math.max(1, availableParallelism());
    this.#input = input;
    this.#options = options;
    this.#maxInFlight = tuning.maxInFlight;
    // Every lane needs a frame of its own to decode into.
    this.#lanes = Math.max(1, Math.min(lanes, this.#maxInFlight ?? lanes));
  }

  /** Resolves once the input is opened and its outputs are planned. */
  plan(): Promise<SnapshotPlan> {
    return this.#open().then(({ info, outputCount, encoder, end }) => ({ info, outputCount, encoder: encoder.name, end }));
  }

  /** The decode statistics so far; final once the run has ended. */
  stats(): DecodeStats {
    if (this.#finalStats !== undefined) return { ...this.#finalStats };
    if (this.#extractor !== undefined) return this.#extractor.stats();
    return { ...noDecodeStats };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Snapshot, void, undefined> {
    if (this.#iterated) throw runAlreadyIterated();
    this.#iterated = true;
    const signal = this.#options.signal;
    try {
      const opened = await this.#open();
      const slots = this.#maxInFlight ?? defaultInFlight(opened.frameBytes, opened.lanes);
      const merger = new OutputMerger<Promise<Snapshot>>(opened.lanes, Math.max(slots, opened.lanes), opened.outputCount);
      this.#merger = merger;
      if (this.#finished) merger.close();
      const decoding = Array.from({ length: opened.lanes }, (_, lane) => this.#decodeLane(lane, opened, merger));
      // The encoder gets ready (sharp loads, in its workers or on this
      // thread) only now that the lanes' first decodes are under way: loaded
      // while the input opened, sharp held this thread for ~35 ms and the
      // lanes could not start until it was done (20 ms of a 0.27 s
      // `vsnap extract` at 4K).
      opened.encoder.start();
      opened.sheetEncoder?.start();
      const sheets = this.#spriteSheets(opened);
      try {
        for (;;) {
          const taken = await raceAbort(merger.take(), signal);
          if (taken.done) break;
          const snapshot = await raceAbort(taken.item, signal);
          merger.release(taken.lane);
          if (sheets === undefined) {
            yield snapshot;
            continue;
          }
          const sheet = await raceAbort(sheets.add(snapshot, snapshot.data), signal);
          if (sheet !== undefined) yield sheetSnapshot(sheet, opened);
        }
        const last = sheets === undefined ? undefined : await raceAbort(sheets.finish(), signal);
        if (last !== undefined) yield sheetSnapshot(last, opened);
      } finally {
        this.#finish();
        await Promise.all(decoding);
      }
    } finally {
      this.#finish();
    }
  }

  #open(): Promise<OpenedRun> {
    this.#opening ??= this.#openInput();
    return this.#opening;
  }

  async #openInput(): Promise<OpenedRun> {
    const { signal } = this.#options;
    if (signal?.aborted === true) throw aborted(undefined, signal.reason);
    try {
      const opened = await openRun(this.#input, this.#options, this.#lanes, (extractor) => {
        this.#extractor = extractor;
        signal?.addEventListener('abort', this.#onAbort, { once: true });
      });
      return opened;
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  /**
   * Decodes one lane ahead of the consumer while the lane holds a slot. It
   * never rejects: its end, or its failure, goes to the merger. Closing the
   * extractor makes a pending `next()` reject, which ends it.
   */
  async #decodeLane(lane: number, opened: OpenedRun, merger: OutputMerger<Promise<Snapshot>>): Promise<void> {
    try {
      const { extractor, encoder } = opened;
      // The native encoder takes the frame where it was decoded, band by band (binding.ts).
      const nextJpeg = encoder.name === 'native' ? extractor.nextJpeg?.bind(extractor) : undefined;
      while (await merger.acquire(lane)) {
        if (nextJpeg !== undefined) {
          const encoded = await nextJpeg(lane, this.#options.quality);
          if (encoded === null) break;
          merger.put(lane, encoded.outputIndex, Promise.resolve(this.#snapshot(encoded, encoded.data, opened)));
          continue;
        }
        const frame = this.#spareFrames.pop() ?? new ArrayBuffer(opened.frameBytes);
        const decoded = await extractor.next(lane, frame);
        if (decoded === null) break;
        const snapshot = this.#encode(encoder, frame, decoded, opened);
        // The consumer awaits it in turn; until then a failure must not count as unhandled.
        snapshot.catch(ignore);
        merger.put(lane, decoded.outputIndex, snapshot);
      }
      merger.end(lane);
    } catch (error) {
      merger.fail(lane, error);
    }
  }

  async #encode(encoder: Encoder, frame: ArrayBuffer, decoded: NativeFrame, opened: OpenedRun): Promise<Snapshot> {
    const { quality, compression } = this.#options;
    const format = this.#outputFormat();
    if (format === 'raw' && opened.info.rotation === 0) {
      // The decoded frame is the image: handed over as it is, and never decoded into again.
      return this.#snapshot(decoded, Buffer.from(frame, 0, decoded.width * decoded.height * 3), opened);
    }
    const data = await encoder.encode({
      frame,
      width: decoded.width,
      height: decoded.height,
      rotation: opened.info.rotation,
      format,
      quality,
      compression,
    });
    // Encoded on this process's threads, the frame is free again; moved to an encode worker, it is detached (empty).
    if (frame.byteLength > 0 && !this.#finished) this.#spareFrames.push(frame);
    return this.#snapshot(decoded, data, opened);
  }

  #snapshot(decoded: NativeFrame, data: Buffer, opened: OpenedRun): Snapshot {
    const [width, height] = rotatedSize(decoded.width, decoded.height, opened.info.rotation);
    const format = this.#outputFormat();
    return {
      outputIndex: decoded.outputIndex,
      frameIndex: decoded.frameIndex,
      frameTime: decoded.frameTime,
      targetTime: opened.targetTimes[decoded.targetIndex],
      width,
      height,
      format,
      data,
      ...(format === 'raw' ? { stride: width * 3 } : {}),
    };
  }

  /** What each output is encoded as: the run's format, or raw cells for a sprite's sheets. */
  #outputFormat(): ImageFormat {
    return this.#options.sprite === undefined ? this.#options.format : 'raw';
  }

  #spriteSheets(opened: OpenedRun): SpriteSheets | undefined {
    const { sprite, format, quality, compression } = this.#options;
    const encoder = opened.sheetEncoder;
    if (sprite === undefined || encoder === undefined) return undefined;
    return new SpriteSheets(sprite, opened.width, opened.height, format, (frame, width, height) =>
      encoder.encode({ frame, width, height, rotation: 0, format, quality, compression }),
    );
  }

  /** Ends the run: keeps the final stats and closes the extractor. Idempotent. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    // A caller may keep the run for its stats; it need not keep frames.
    this.#spareFrames.length = 0;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#merger?.close();
    const extractor = this.#extractor;
    if (extractor !== undefined) {
      this.#finalStats = extractor.stats();
      extractor.close();
    }
  }
}

/** A sprite run's sheet as a snapshot: its first cell's frame, its cells. */
function sheetSnapshot(sheet: SpriteSheet, opened: OpenedRun): Snapshot {
  const first = sheet.cells[0];
  return {
    outputIndex: sheet.index,
    frameIndex: first.frameIndex,
    frameTime: first.frameTime,
    targetTime: first.targetTime ?? opened.end,
    width: sheet.width,
    height: sheet.height,
    format: sheet.format,
    data: sheet.data,
    cells: sheet.cells,
  };
}
