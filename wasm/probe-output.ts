/**
 * Reads what the wasm core's ffprobe writes for one video stream
 * (`-select_streams v:0 -show_streams -show_format -show_packets -of json`)
 * into the facts the engine needs. Values ffprobe leaves out (a packet with
 * no pts, say) stay undefined rather than being guessed here.
 */

import { corruptInput, noVideoStream, unsupportedInput } from '../src/errors.js';

export interface WasmPacket {
  /** In the stream's time base; undefined when the container gives none. */
  pts: bigint | undefined;
  dts: bigint | undefined;
  duration: bigint | undefined;
  keyframe: boolean;
  /** The container marks the packet to be decoded but not shown (e.g. before an edit list's start). */
  discard: boolean;
  /** Bytes of the packet; 0 when unknown. */
  size: number;
}

export interface WasmStreamInfo {
  /** FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  /** The container's start time in seconds (the earliest of its streams), from which ffmpeg's `-ss` counts. */
  containerStart: number;
  codec: string;
  pixelFormat: string;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  /** Clockwise degrees (0, 90, 180, 270) that turn the picture upright, as ffmpeg's autorotate does. */
  rotation: number;
  timeBase: { num: number; den: number };
  /** The stream's average frame rate as ffprobe writes it ("30/1"; "0/0" when unknown). */
  averageFrameRate: string;
  /** Frames are shown later than decoded (B-frames): ffmpeg then aims its seeks earlier (see decode-runs.ts). */
  reorders: boolean;
  /** What the container declares of the stream's times, in seconds (see declaredEndTime). */
  declared: { start: number | undefined; duration: number; durationTag: string | undefined };
  /** The container's bit rate in bits/s; 0 when unknown. */
  bitRate: number;
}

export interface WasmProbe {
  stream: WasmStreamInfo;
  /** The video stream's packets in decode order. */
  packets: WasmPacket[];
}

interface FfprobeJson {
  streams?: {
    codec_name?: string;
    pix_fmt?: string;
    width?: number;
    height?: number;
    time_base?: string;
    avg_frame_rate?: string;
    has_b_frames?: number;
    start_time?: string;
    duration?: string;
    tags?: { DURATION?: string };
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { format_name?: string; start_time?: string; bit_rate?: string };
  packets?: { pts?: number; dts?: number; duration?: number; flags?: string; size?: string }[];
}

/**
 * `failure` is FFmpeg's reason, for the message when the output shows the
 * input did not open; `sniffed` is the container the input's bytes look like
 * (container-sniff.ts), which tells damaged data from data of no container
 * vsnap reads.
 */
export function readProbeOutput(text: string, failure: string, sniffed: string | undefined): WasmProbe {
  let out: FfprobeJson;
  try {
    out = JSON.parse(text) as FfprobeJson;
  } catch (error) {
    throw corruptInput(`Probing the input with the wasm core gave unreadable output: ${failure}`, error);
  }
  // ffprobe writes `{}` when it cannot open the input, and an empty list when it opens but finds no video.
  if (out.streams === undefined || out.format === undefined) {
    if (sniffed === undefined) throw unsupportedInput(`Probing the input with the wasm core: not a video container vsnap reads (${failure})`);
    throw corruptInput(`Probing the input with the wasm core: truncated or corrupt ${sniffed} data (${failure})`);
  }
  const stream = out.streams[0];
  if (stream === undefined) throw noVideoStream('Probing the input with the wasm core found no video stream');
  const timeBase = (stream.time_base ?? '').split('/').map(Number);
  if (
    stream.codec_name === undefined ||
    stream.width === undefined ||
    stream.height === undefined ||
    timeBase.length !== 2 ||
    !timeBase.every((n) => Number.isInteger(n) && n > 0)
  ) {
    throw corruptInput(`Probing the input with the wasm core gave a video stream without codec, size or time base`);
  }
  return {
    stream: {
      container: out.format.format_name ?? '',
      containerStart: Number(out.format.start_time ?? 0) || 0,
      codec: stream.codec_name,
      pixelFormat: stream.pix_fmt ?? '',
      width: stream.width,
      height: stream.height,
      rotation: clockwiseRotation(stream.side_data_list),
      timeBase: { num: timeBase[0], den: timeBase[1] },
      averageFrameRate: stream.avg_frame_rate ?? '0/0',
      reorders: (stream.has_b_frames ?? 0) > 0,
      declared: {
        start: finiteOrUndefined(stream.start_time),
        duration: finiteOrUndefined(stream.duration) ?? 0,
        durationTag: stream.tags?.DURATION,
      },
      bitRate: Number(out.format.bit_rate ?? 0) || 0,
    },
    packets: (out.packets ?? []).map((p) => ({
      pts: optionalBig(p.pts),
      dts: optionalBig(p.dts),
      duration: optionalBig(p.duration),
      keyframe: (p.flags ?? '').includes('K'),
      discard: (p.flags ?? '').includes('D'),
      size: Number(p.size ?? 0) || 0,
    })),
  };
}

/**
 * Decoder::declaredEndTime: where the container says the stream ends, in
 * seconds: the stream's start (its first frame when it declares none) plus
 * its duration, else the DURATION tag Matroska keeps per track
 * ("HH:MM:SS.nnn"), else 0 (unknown).
 */
export function declaredEndTime(stream: WasmStreamInfo, originSeconds: number): number {
  const { start, duration, durationTag } = stream.declared;
  if (duration > 0) return (start ?? originSeconds) + duration;
  const tag = /^(\d+):(\d+):(\d+(?:\.\d*)?)/.exec(durationTag ?? '');
  return tag === null ? 0 : Number(tag[1]) * 3600 + Number(tag[2]) * 60 + Number(tag[3]);
}

/** ffprobe prints the display matrix's counterclockwise angle; autorotate turns the picture by its negation. */
function clockwiseRotation(sideData: { rotation?: number }[] | undefined): number {
  const ccw = sideData?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
  return ((-Math.round(ccw) % 360) + 360) % 360;
}

function finiteOrUndefined(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) ? value : undefined;
}

function optionalBig(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}
