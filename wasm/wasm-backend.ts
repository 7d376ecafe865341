/**
 * The wasm backend: the Backend interface on the FFmpeg WebAssembly core, for
 * hosts where the native module cannot be built. It gives the same outputs
 * as the native backend (the same time model, timeline.ts, over the same
 * packets) more slowly.
 *
 * An extraction reads its input whole into shared memory once
 * (input-bytes.ts), probes it in a worker (ffprobe: every packet of the video
 * stream), plans its targets in this thread, and groups them into runs
 * (decode-runs.ts) that the pool's worker threads decode. Lane j takes runs
 * j, j + lanes, ..., in plan order, and keeps its next run decoding while the
 * frames of the current one are handed out, so no thread waits on the
 * encoder.
 *
 * Damage: a run whose decoder logs an error (wasm-ffmpeg.ts, decodeDamage)
 * is decoded again from the keyframe before its own, then from the stream's
 * first packet, as the native engine does (native/core/Decoder.h); the core
 * decodes every frame on one thread, so that last run is the sequential
 * decode. The core cannot keep decoding past a run, so where seeks fail
 * (a run needed the stream's start and came out clean) every later damaged
 * run goes straight to the start: one decode from the start per damaged
 * run, where the native engine decodes on without seeking.
 *
 * Statistics: bytesRead is the input's size (it is read once, whole, a
 * URL in one request);
 * scanPackets every packet of the video stream (the probe reads them all);
 * seeks, packetsRead and framesDecoded are counted from the packets each run
 * passes through, as ffmpeg's CLI reports no such counts; damagedFrames are
 * the outputs of runs still damaged when decoded from the stream's start.
 */

import { availableParallelism } from 'node:os';

import type { Piscina } from 'piscina';

import { aborted, corruptInput, fromNative, internal, unsupportedInput, type VsnapError } from '../src/errors.js';
import { loadPiscina } from '../src/piscina.js';
import { workerFileUrl } from '../src/worker-file.js';
import type { Backend, BackendInput, Extractor, ExtractorOptions } from '../src/engine/backend.js';
import { noDecodeStats, type NativeDecodeStats, type NativeFrame, type NativeOpenResult, type NativePlanRequest, type NativePlanResult, type NativeVideoInfo } from '../src/engine/binding.js';
import type { DecodeResult, DecodeTask, ProbeResult, TaskFailure } from './decode-worker.js';
import { PacketIndex, planRuns, sizeFilters, type PlannedRun } from './decode-runs.js';
import { loadInputBytes } from './input-bytes.js';
import { declaredEndTime, type WasmProbe } from './probe-output.js';
import { checkDeclaredEnd, Timeline, type Rational } from './timeline.js';

export function createWasmBackend(): Backend {
  return {
    name: 'wasm',
    async probe(input: BackendInput): Promise<NativeVideoInfo> {
      return (await openInput(input, undefined)).info;
    },
    createExtractor(input: BackendInput, options: ExtractorOptions): Extractor {
      return new WasmExtractor(input, options);
    },
  };
}

/** Stops the pool's threads; the next use starts a new pool. */
export async function shutdownWasmPool(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.destroy();
}

let pool: Piscina<DecodeTask, ProbeResult | DecodeResult> | undefined;

function decodePool(): Piscina<DecodeTask, ProbeResult | DecodeResult> {
  if (pool === undefined) {
    const threads = Math.max(1, availableParallelism());
    const Pool = loadPiscina();
    pool = new Pool<DecodeTask, ProbeResult | DecodeResult>({
      filename: workerFileUrl(import.meta.url, 'wasm', 'decode-worker.js', 'The vsnap wasm decode worker'),
      name: 'default',
      minThreads: 0,
      maxThreads: threads,
      // Each thread compiles the core once (~100 ms), so threads are kept a while between runs.
      idleTimeout: 60_000,
    });
  }
  return pool;
}

async function runTask<T extends ProbeResult | DecodeResult>(task: DecodeTask, signal: AbortSignal | undefined): Promise<Exclude<T, TaskFailure>> {
  let result: ProbeResult | DecodeResult;
  try {
    result = await decodePool().run(task, { signal });
  } catch (error) {
    if (signal?.aborted === true) throw aborted(undefined, error);
    throw internal(`A wasm decode worker failed: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (!(result instanceof Uint8Array) && 'error' in result) throw failureOf(result);
  return result as Exclude<T, TaskFailure>;
}

/** A worker's failure as the VsnapError it was there. */
function failureOf({ error }: TaskFailure): VsnapError {
  return fromNative(Object.assign(new Error(error.message), { code: error.code }));
}

/** A decoded run's frames (wasm-ffmpeg.ts); with a `damage` reason where FFmpeg reported any. */
type DecodedFrames = Exclude<DecodeResult, TaskFailure>;

interface OpenedInput {
  bytes: Uint8Array;
  probe: WasmProbe;
  timeline: Timeline;
  info: NativeVideoInfo;
}

async function openInput(input: BackendInput, signal: AbortSignal | undefined): Promise<OpenedInput> {
  const bytes = await loadInputBytes(input, signal);
  const { probe } = await runTask<ProbeResult>({ kind: 'probe', input: bytes }, signal);
  const { stream } = probe;
  const timeline = Timeline.fromProbe(probe);
  // As the native engine computes it: ticks times av_q2d(time base).
  const seconds = (ticks: bigint) => Number(ticks) * (stream.timeBase.num / stream.timeBase.den);
  checkDeclaredEnd(declaredEndTime(stream, seconds(timeline.origin)), timeline);
  const duration = seconds(timeline.end - timeline.origin);
  const info: NativeVideoInfo = {
    container: stream.container,
    codec: stream.codec,
    pixelFormat: stream.pixelFormat,
    width: stream.width,
    height: stream.height,
    rotation: stream.rotation,
    duration,
    startTime: seconds(timeline.origin),
    frameRate: { average: duration > 0 ? timeline.frameCount / duration : 0, variable: timeline.variableFrameRate() },
    frameCount: timeline.frameCount,
    keyframes: timeline.keyframeTimes(),
    bitRate: stream.bitRate,
    color: stream.color,
  };
  return { bytes, probe, timeline, info };
}

/**
 * The core's filters cannot tone-map as the native engine does (its
 * `tonemap` filter has no BT.2390 EETF, and its output would differ from the
 * native backend's): HDR video with tonemap 'auto' is refused, never
 * returned unmapped. 'off' gives the unmapped conversion, as natively.
 */
function checkToneMapping(request: NativePlanRequest, info: NativeVideoInfo): void {
  const { transfer } = info.color;
  if (request.tonemap !== 'auto' || (transfer !== 'smpte2084' && transfer !== 'arib-std-b67')) return;
  const name = transfer === 'smpte2084' ? 'PQ (HDR10)' : 'HLG';
  throw unsupportedInput(
    `This video is HDR (${name} transfer): the wasm backend cannot tone-map it to SDR. Use the native backend, or tonemap 'off' for its pictures unmapped`,
  );
}

interface Lane {
  /** How many of this lane's runs were started. */
  started: number;
  current: { run: PlannedRun; frames: Uint8Array; next: number } | undefined;
  upcoming: { run: PlannedRun; frames: Promise<Uint8Array> } | undefined;
}

class WasmExtractor implements Extractor {
  readonly #input: BackendInput;
  readonly #options: ExtractorOptions;
  readonly #abort = new AbortController();
  #bytes: Uint8Array | undefined;
  #runs: PlannedRun[] = [];
  #index: PacketIndex | undefined;
  #timeline: Timeline | undefined;
  /** A run needed the stream's start and came out clean there: seeking is what fails in this input. */
  #seeksFail = false;
  #lanes: Lane[] = [];
  #pixelFormat = '';
  #info: NativeVideoInfo | undefined;
  #width = 0;
  #height = 0;
  #frameBytes = 0;
  #closed = false;
  readonly #stats: NativeDecodeStats = { ...noDecodeStats };

  constructor(input: BackendInput, options: ExtractorOptions) {
    this.#input = input;
    this.#options = options;
  }

  async open(): Promise<NativeOpenResult> {
    this.#checkOpen();
    const { bytes, probe, timeline, info } = await openInput(this.#input, this.#abort.signal);
    this.#checkOpen();
    this.#bytes = bytes;
    this.#stats.bytesRead = bytes.byteLength;
    // A URL is downloaded whole, once, in one request (input-bytes.ts).
    this.#stats.requests = 'url' in this.#input ? 1 : 0;
    this.#stats.scanPackets = probe.packets.length;
    this.#index = new PacketIndex(probe, timeline);
    this.#timeline = timeline;
    this.#pixelFormat = probe.stream.pixelFormat;
    this.#info = info;
    this.#width = info.width;
    this.#height = info.height;
    const { timeBase } = timeline;
    return { info, durationTicks: Number(timeline.end - timeline.origin), timeBase: [timeBase.num, timeBase.den] };
  }

  async plan(request: NativePlanRequest): Promise<NativePlanResult> {
    this.#checkOpen();
    const timeline = this.#timeline;
    const index = this.#index;
    if (timeline === undefined || index === undefined) throw internal('WasmExtractor.plan: open() first');
    checkToneMapping(request, this.#info!);
    const targets = timeline.plan(request.mode, unpackRationals(request.targets), request.window === undefined ? undefined : windowOf(request.window));
    if (request.geometry !== undefined) {
      this.#width = request.geometry.width;
      this.#height = request.geometry.height;
    }
    this.#frameBytes = this.#width * this.#height * 3;
    this.#runs = planRuns(index, targets, request.mode, this.#frameBytes, sizeFilters(request.geometry, this.#pixelFormat));
    const lanes = Math.max(1, Math.min(this.#options.lanes ?? 1, this.#runs.length));
    this.#lanes = Array.from({ length: lanes }, () => ({ started: 0, current: undefined, upcoming: undefined }));
    return { info: this.#info!, outputCount: targets.length, frameBytes: this.#frameBytes, lanes };
  }

  async next(lane: number, dest: ArrayBuffer): Promise<NativeFrame | null> {
    this.#checkOpen();
    const state = this.#lanes[lane];
    if (state === undefined) throw internal(`WasmExtractor.next: no lane ${lane} (open() opened ${this.#lanes.length})`);
    while (state.current === undefined || state.current.next >= state.current.run.outputs.length) {
      const upcoming = state.upcoming ?? this.#startRun(lane, state);
      if (upcoming === undefined) return null;
      state.upcoming = undefined;
      const frames = await upcoming.frames;
      this.#checkOpen();
      this.#count(upcoming.run);
      state.current = { run: upcoming.run, frames, next: 0 };
      state.upcoming = this.#startRun(lane, state);
    }
    const current = state.current;
    const output = current.run.outputs[current.next++];
    const start = output.frame * this.#frameBytes;
    new Uint8Array(dest, 0, this.#frameBytes).set(current.frames.subarray(start, start + this.#frameBytes));
    // The run's frames are let go with its last output.
    if (current.next === current.run.outputs.length) state.current = undefined;
    return {
      outputIndex: output.outputIndex,
      targetIndex: output.targetIndex,
      frameIndex: output.frameIndex,
      frameTime: output.frameTime,
      width: this.#width,
      height: this.#height,
    };
  }

  stats(): NativeDecodeStats {
    return { ...this.#stats };
  }

  /** Stops the runs in flight (their threads are ended) and lets go of the input. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#bytes = undefined;
    this.#lanes = [];
  }

  /** Starts this lane's next run, or gives undefined when it has none left. */
  #startRun(lane: number, state: Lane): Lane['upcoming'] {
    const run = this.#runs[lane + state.started * this.#lanes.length];
    if (run === undefined || this.#bytes === undefined) return undefined;
    state.started++;
    const frames = this.#decode(run);
    // Awaited when the lane reaches it; until then a failure must not count as unhandled.
    frames.catch(() => {});
    return { run, frames };
  }

  /** The run's frames as a sequential decode gives them: decoded again from earlier where damaged. */
  async #decode(run: PlannedRun): Promise<Uint8Array> {
    // A run from the stream's start that decodes every frame is the sequential decode already.
    const sequentialAlready = run.decode.seekSeconds === undefined && !run.decode.keyframesOnly;
    if (!this.#seeksFail || sequentialAlready) {
      const first = await this.#decodeFrom(run, run.decode.seekSeconds, run.decode.keyframesOnly);
      if (first.frames !== undefined && first.damage === undefined) return first.frames;
      if (sequentialAlready) return this.#accept(run, first);
    }
    this.#stats.seekRecoveries += 1;
    const before = run.startKeyPts === undefined ? undefined : this.#timeline?.keyBefore(run.startKeyPts);
    if (before !== undefined && !this.#seeksFail) {
      const earlier = await this.#decodeFrom(run, this.#index?.startOf(before).seekSeconds, false);
      if (earlier.frames !== undefined && earlier.damage === undefined) return earlier.frames;
    }
    const sequential = await this.#decodeFrom(run, undefined, false);
    if (sequential.frames !== undefined && sequential.damage === undefined) this.#seeksFail = true;
    return this.#accept(run, sequential);
  }

  /** The sequential decode's frames: damage counted, missing frames an error. */
  #accept(run: PlannedRun, sequential: DecodedFrames): Uint8Array {
    if (sequential.frames === undefined) throw corruptInput(sequential.damage ?? 'Decoding with the wasm core gave no frames');
    if (sequential.damage !== undefined) this.#stats.damagedFrames += run.outputs.length;
    return sequential.frames;
  }

  async #decodeFrom(run: PlannedRun, seekSeconds: number | undefined, keyframesOnly: boolean): Promise<DecodedFrames> {
    if (this.#bytes === undefined) throw aborted('The extraction was closed');
    const decode = { ...run.decode, seekSeconds, keyframesOnly };
    return runTask<DecodeResult>({ kind: 'decode', input: this.#bytes, run: decode, frameBytes: this.#frameBytes }, this.#abort.signal);
  }

  #count(run: PlannedRun): void {
    this.#stats.seeks += run.decode.seekSeconds === undefined ? 0 : 1;
    this.#stats.seeksAvoided += run.decode.windows.length - 1;
    this.#stats.packetsRead += run.packetsRead;
    this.#stats.framesDecoded += run.framesDecoded;
  }

  #checkOpen(): void {
    if (this.#closed) throw aborted('The extraction was closed');
  }
}

/** The numerator, denominator pairs of a plan request (sampling.ts packRationals) as rationals. */
function unpackRationals(packed: BigInt64Array): Rational[] {
  return Array.from({ length: packed.length / 2 }, (_, i) => ({ num: packed[2 * i], den: packed[2 * i + 1] }));
}

function windowOf(packed: BigInt64Array): { start: Rational; end: Rational } {
  const [start, end] = unpackRationals(packed);
  return { start, end };
}
