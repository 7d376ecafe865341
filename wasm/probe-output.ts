/**
 * Reads what the wasm core's ffprobe writes for one video stream
 * (`-select_streams v:0 -show_streams -show_format -show_packets -of json`)
 * into the facts the engine needs. Values ffprobe leaves out (a packet with
 * no pts, say) stay undefined rather than being guessed here.
 */

import type { VideoColor } from '../src/engine/binding.js';
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
  /** As the native engine reports it (VideoColor); the first frame's side data is added by firstFrameColor. */
  color: VideoColor;
}

export interface WasmProbe {
  stream: WasmStreamInfo;
  /** The video stream's packets in decode order. */
  packets: WasmPacket[];
}

/** Side data as ffprobe writes it: the display matrix's rotation, HDR static metadata. */
interface SideData {
  side_data_type?: string;
  rotation?: number;
  red_x?: string;
  red_y?: string;
  green_x?: string;
  green_y?: string;
  blue_x?: string;
  blue_y?: string;
  white_point_x?: string;
  white_point_y?: string;
  min_luminance?: string;
  max_luminance?: string;
  dv_profile?: number;
  dv_level?: number;
  dv_bl_signal_compatibility_id?: number;
  max_content?: number;
  max_average?: number;
}

/** The side data fields ffprobe is asked for, stream's and frame's (-show_entries). */
export const colorSideDataFields =
  'side_data_type,rotation,red_x,red_y,green_x,green_y,blue_x,blue_y,white_point_x,white_point_y,min_luminance,max_luminance,max_content,max_average,' +
  'dv_profile,dv_level,dv_bl_signal_compatibility_id';

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
    color_range?: string;
    color_space?: string;
    color_transfer?: string;
    color_primaries?: string;
    side_data_list?: SideData[];
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
      color: colorOf(stream),
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

/** Names FFmpeg gives an unspecified matrix, primaries or transfer (av_color_*_name). */
const unspecified = new Set(['unknown', 'unspecified', 'reserved']);

function colorName(name: string | undefined): string | null {
  return name === undefined || unspecified.has(name) ? null : name;
}

function colorOf(stream: NonNullable<FfprobeJson['streams']>[number]): VideoColor {
  const range = stream.color_range === 'tv' ? 'limited' : stream.color_range === 'pc' ? 'full' : null;
  return withSideData(
    {
      matrix: colorName(stream.color_space),
      primaries: colorName(stream.color_primaries),
      transfer: colorName(stream.color_transfer),
      range,
      masteringDisplay: null,
      contentLight: null,
      dolbyVision: null,
    },
    stream.side_data_list,
  );
}

/** Whether the transfer is PQ or HLG and no static metadata was found yet (Decoder::lacksHdrMetadata). */
export function lacksHdrMetadata(color: VideoColor): boolean {
  const hdr = color.transfer === 'smpte2084' || color.transfer === 'arib-std-b67';
  return hdr && color.masteringDisplay === null && color.contentLight === null;
}

/** `color` with what it lacks taken from ffprobe's first frame (`-show_frames -read_intervals %+#1`). */
export function firstFrameColor(color: VideoColor, text: string): VideoColor {
  let frames: { side_data_list?: SideData[] }[] | undefined;
  try {
    frames = (JSON.parse(text) as { frames?: { side_data_list?: SideData[] }[] }).frames;
  } catch {
    return color;
  }
  return withSideData(color, frames?.[0]?.side_data_list);
}

function withSideData(color: VideoColor, sideData: SideData[] | undefined): VideoColor {
  const out = { ...color };
  for (const d of sideData ?? []) {
    if (d.side_data_type === 'Mastering display metadata' && out.masteringDisplay === null) {
      out.masteringDisplay = {
        red: [fraction(d.red_x), fraction(d.red_y)],
        green: [fraction(d.green_x), fraction(d.green_y)],
        blue: [fraction(d.blue_x), fraction(d.blue_y)],
        whitePoint: [fraction(d.white_point_x), fraction(d.white_point_y)],
        minLuminance: fraction(d.min_luminance),
        maxLuminance: fraction(d.max_luminance),
      };
    } else if (d.side_data_type === 'Content light level metadata' && out.contentLight === null) {
      out.contentLight = { maxCll: d.max_content ?? 0, maxFall: d.max_average ?? 0 };
    } else if (d.side_data_type === 'DOVI configuration record' && out.dolbyVision === null) {
      out.dolbyVision = { profile: d.dv_profile ?? 0, level: d.dv_level ?? 0, blSignalCompatibilityId: d.dv_bl_signal_compatibility_id ?? 0 };
    }
  }
  return out;
}

/** ffprobe's "34000/50000" as a number; 0 when absent (as FFmpeg's av_q2d of an unset rational). */
function fraction(text: string | undefined): number {
  const [num, den] = (text ?? '').split('/').map(Number);
  return den !== undefined && den !== 0 && Number.isFinite(num) && Number.isFinite(den) ? num / den : Number(text) || 0;
}

/** ffprobe prints the display matrix's counterclockwise angle; autorotate turns the picture by its negation. */
function clockwiseRotation(sideData: SideData[] | undefined): number {
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
