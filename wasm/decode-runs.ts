/**
 * How the wasm backend turns a plan into ffmpeg runs. The core runs one
 * ffmpeg invocation at a time and cannot seek in the middle of one, so each
 * run is one seek followed by decoding forward:
 *
 *   exact     a run serves the consecutive targets decoded from the same
 *             keyframe (the native engine's "keep decoding within the GOP")
 *   keyframe  a run serves consecutive targets that are neighbouring
 *             keyframes, decoding keyframes only (`-skip_frame nokey`);
 *             where the decoder ignores that (VP9, AV1: it would decode
 *             every frame between them), a run serves one keyframe, the
 *             first frame after its seek, and ends there
 *
 * and no run holds more than `maxRunBytes` of raw frames, since its frames
 * come back all together when it ends.
 *
 * A run picks its frames by pts with a `select` filter. Each frame's window
 * reaches halfway to its neighbours, because ffmpeg gives a decoded frame its
 * best-effort timestamp, which can differ from the packet's pts by a tick
 * (FLV stores milliseconds, and with B-frames 1234 comes out as 1233).
 *
 * The seek aims at the keyframe, not at the frame: demuxers seek differently
 * (MP4 through its index by dts, others by timestamps in the byte stream),
 * and a keyframe time read from its own packet lands on it in both. The
 * ffmpeg CLI aims 3/23 s earlier than asked when a stream has B-frames
 * (ffmpeg_opt.c, "dts_heuristic"), which would land one GOP early; that is
 * added back here.
 */

import type { NativePlanRequest } from '../src/engine/binding.js';
import type { SamplingMode } from '../src/options.js';
import type { WasmProbe } from './probe-output.js';
import type { PlannedTarget, Timeline } from './timeline.js';

/** FFmpeg 5.1's decoders (by ffprobe codec name) that decode every frame whatever `-skip_frame` says. */
const decodersIgnoringSkipFrame: readonly string[] = ['vp9', 'av1'];

/** What one ffmpeg invocation decodes; the worker runs it (wasm-ffmpeg.ts). */
export interface DecodeRun {
  /** For `-ss`, counting from the container's start; undefined to read from the start without seeking. */
  seekSeconds: number | undefined;
  keyframesOnly: boolean;
  /** The pts window (from <= pts < to) of each frame to keep, in display order, one per distinct frame. */
  windows: { from: bigint; to: bigint }[];
  /** The stream's codec (ffprobe's name), whose decoder's log tells damage. */
  codec: string;
  /** Filters after the selection that size each frame (sizeFilters); none at the coded size. */
  sizing: string[];
}

/** A run and the outputs it serves, with what it costs as counted from the packets. */
export interface PlannedRun {
  decode: DecodeRun;
  /** The keyframe its decoding starts from (Timeline's startKeyPts of its first target). */
  startKeyPts: bigint | undefined;
  /** In plan order; `frame` is the position of its frame among the run's windows. */
  outputs: { outputIndex: number; targetIndex: number; frameIndex: number; frameTime: number; frame: number }[];
  packetsRead: number;
  framesDecoded: number;
}

/** Raw frames one run may give back at once. */
export const maxRunBytes = 48 * 1024 * 1024;

/** 3 * AV_TIME_BASE / 23 in ffmpeg_opt.c, in microseconds (integer division there). */
const dtsHeuristicMicros = 130434;

/**
 * What runs need of a probe beyond its timeline: where each packet sits in
 * decode order, and the keyframes' packets to seek to.
 */
export class PacketIndex {
  readonly #timeline: Timeline;
  readonly #decodePosition = new Map<bigint, number>();
  readonly #keyPositions: number[] = [];
  /** The decoder drops non-key frames when told to (`-skip_frame nokey`); FFmpeg's VP9 and AV1 decoders do not. */
  readonly skipsNonKeyframes: boolean;
  /** Display-order position of each displayed keyframe, by its pts. */
  readonly #keyframeOrdinals: Map<bigint, number>;
  readonly #probe: WasmProbe;

  /** `timeline` is Timeline.fromProbe(probe). */
  constructor(probe: WasmProbe, timeline: Timeline) {
    this.#probe = probe;
    this.#timeline = timeline;
    this.skipsNonKeyframes = !decodersIgnoringSkipFrame.includes(probe.stream.codec);
    probe.packets.forEach((packet, position) => {
      const time = packet.pts ?? packet.dts;
      if (time === undefined) return;
      if (packet.keyframe) this.#keyPositions.push(position);
      if (!packet.discard && !this.#decodePosition.has(time)) this.#decodePosition.set(time, position);
    });
    this.#keyframeOrdinals = new Map(timeline.keyframePts().map((pts, ordinal) => [pts, ordinal]));
  }

  get codec(): string {
    return this.#probe.stream.codec;
  }

  /** Position of the keyframe at `time` among the displayed keyframes in display order; -1 for no keyframe. */
  keyframeOrdinal(time: bigint): number {
    return this.#keyframeOrdinals.get(time) ?? -1;
  }

  /** Position in decode order of the displayed frame at `time`. */
  positionOf(time: bigint): number {
    return this.#decodePosition.get(time) ?? 0;
  }

  /**
   * Where decoding from the keyframe at `keyTime` starts: its packet's
   * position, and the `-ss` value that lands on it (undefined for the first
   * keyframe, or none: read from the start, since any seek in a file without
   * an index, an FLV say, may lose the first GOP).
   */
  startOf(keyTime: bigint | undefined): { position: number; seekSeconds: number | undefined } {
    const { packets, stream } = this.#probe;
    const position = keyTime === undefined ? -1 : this.#keyPositions.find((p) => (packets[p].pts ?? packets[p].dts) === keyTime) ?? -1;
    if (position < 0 || position === this.#keyPositions[0]) return { position: 0, seekSeconds: undefined };
    const key = packets[this.#seekPosition(position)];
    const pts = key.pts ?? key.dts ?? keyTime!;
    // MP4 seeks by dts, which is never above pts; the smaller one is right for both kinds of demuxer.
    const at = key.dts !== undefined && key.dts < pts ? key.dts : pts;
    const seconds = (Number(at) * stream.timeBase.num) / stream.timeBase.den - stream.containerStart;
    // Floored to ffmpeg's microseconds so rounding never moves the seek past the keyframe.
    const micros = Math.floor(seconds * 1e6) + (stream.reorders ? dtsHeuristicMicros : 0);
    return { position, seekSeconds: Math.max(0, micros) / 1e6 };
  }

  /**
   * The packet whose time a seek to the keyframe at `position` aims at: the
   * keyframe's own, except in MPEG-PS. There a seek is a search on the
   * packets' times, which lands on the packet that carries the keyframe's
   * time, after the sequence header an MPEG-2 decoder needs first (it ends
   * the packet before): the keyframe could not be decoded, and the run began
   * at the next GOP (a file with an audio track, seen in
   * test/engine/audio-streams.test.ts). So the seek aims at the last packet
   * before the keyframe that has a time; reading on from there costs a few
   * packets of the GOP before.
   */
  #seekPosition(position: number): number {
    if (this.#probe.stream.container !== 'mpeg') return position;
    const { packets } = this.#probe;
    for (let before = position - 1; before >= 0; before -= 1) {
      if (packets[before].pts !== undefined || packets[before].dts !== undefined) return before;
    }
    return position;
  }

  /** The select window of displayed frame `frameIndex`: up to, not including, halfway to each neighbour. */
  windowOf(frameIndex: number): { from: bigint; to: bigint } {
    const displayed = this.#timeline.framePts;
    const pts = displayed[frameIndex];
    const before = frameIndex > 0 ? displayed[frameIndex - 1] : undefined;
    const after = frameIndex + 1 < displayed.length ? displayed[frameIndex + 1] : undefined;
    const reachBelow = before === undefined ? undefined : (pts - before - 1n) / 2n;
    const reachAbove = after === undefined ? undefined : (after - pts - 1n) / 2n;
    // A frame with one neighbour gets the same reach on its other side.
    const below = reachBelow ?? reachAbove ?? 0n;
    const above = reachAbove ?? reachBelow ?? 0n;
    return { from: pts - below, to: pts + above + 1n };
  }
}

/** Groups a plan's targets (Timeline.plan over the same probe) into runs, whose frames `sizing` sizes. */
export function planRuns(
  index: PacketIndex,
  targets: readonly PlannedTarget[],
  mode: SamplingMode,
  frameBytes: number,
  sizing: string[],
): PlannedRun[] {
  const maxFrames = Math.max(1, Math.floor(maxRunBytes / Math.max(1, frameBytes)));
  const runs: PlannedRun[] = [];
  let run: PlannedRun | undefined;
  let runStart = 0;
  let lastTarget: PlannedTarget | undefined;
  let lastPosition = 0;

  targets.forEach((target, outputIndex) => {
    const sameFrame = lastTarget !== undefined && lastTarget.pts === target.pts;
    const continues =
      run !== undefined &&
      lastTarget !== undefined &&
      (sameFrame ||
        (run.decode.windows.length < maxFrames &&
          (mode === 'exact'
            ? // A run keeps frames in display order: a chosen time before the last starts a new one.
              target.startKeyPts === lastTarget.startKeyPts && target.pts > lastTarget.pts
            : index.skipsNonKeyframes && index.keyframeOrdinal(target.pts) === index.keyframeOrdinal(lastTarget.pts) + 1)));
    if (!continues || run === undefined) {
      if (run !== undefined) finishRun(run, runStart, lastPosition, mode);
      const start = index.startOf(target.startKeyPts);
      run = {
        decode: { seekSeconds: start.seekSeconds, keyframesOnly: mode === 'keyframe', windows: [], codec: index.codec, sizing },
        startKeyPts: target.startKeyPts,
        outputs: [],
        packetsRead: 0,
        framesDecoded: 0,
      };
      runs.push(run);
      runStart = start.position;
      lastPosition = start.position;
    }
    if (!sameFrame || run.outputs.length === 0) run.decode.windows.push(index.windowOf(target.frameIndex));
    run.outputs.push({
      outputIndex,
      targetIndex: target.targetIndex,
      frameIndex: target.frameIndex,
      frameTime: target.frameTime,
      frame: run.decode.windows.length - 1,
    });
    lastPosition = Math.max(lastPosition, index.positionOf(target.pts));
    lastTarget = target;
  });
  if (run !== undefined) finishRun(run, runStart, lastPosition, mode);
  return runs;
}

/**
 * The filters that make each frame the image geometry.ts planned, as the
 * native engine makes it (Decoder::converterFor): the crop moved to start on
 * a chroma sample of `pixelFormat`, scaled with Lanczos straight to RGB24,
 * and placed on black. None when the frames keep their coded size.
 */
export function sizeFilters(geometry: NativePlanRequest['geometry'], pixelFormat: string): string[] {
  if (geometry === undefined) return [];
  const [x, y, width, height] = geometry.crop;
  const [placeX, placeY, placeWidth, placeHeight] = geometry.place;
  const [alignX, alignY] = chromaAlignment(pixelFormat);
  const cropX = x - (x % alignX);
  const cropY = y - (y % alignY);
  return [
    `crop=${width + x - cropX}:${height + y - cropY}:${cropX}:${cropY}:exact=1`,
    `scale=${placeWidth}:${placeHeight}:flags=lanczos+accurate_rnd+full_chroma_int`,
    'format=rgb24',
    `pad=${geometry.width}:${geometry.height}:${placeX}:${placeY}:black`,
  ];
}

/** How many luma samples one chroma sample spans across and down, by FFmpeg's pixel format name. */
function chromaAlignment(pixelFormat: string): [number, number] {
  if (/^(yuvj?420|yuva420|nv12|nv21|p01[026])/.test(pixelFormat)) return [2, 2];
  if (/^(yuvj?422|yuva422|nv16|y210)/.test(pixelFormat)) return [2, 1];
  if (/^yuvj?411/.test(pixelFormat)) return [4, 1];
  if (/^yuvj?440/.test(pixelFormat)) return [1, 2];
  if (/^yuv410/.test(pixelFormat)) return [4, 4];
  return [1, 1];
}

/** Counts a run's cost from the packets it passes: decode order, from its start to its last frame's packet. */
function finishRun(run: PlannedRun, start: number, last: number, mode: SamplingMode): void {
  run.packetsRead = last - start + 1;
  run.framesDecoded = mode === 'keyframe' ? run.decode.windows.length : run.packetsRead;
}
