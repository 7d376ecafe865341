/**
 * Reads what the wasm core's ffprobe writes for one video stream
 * (`-select_streams v:0 -show_streams -show_format -show_packets -of json`)
 * into the facts the engine needs. Values ffprobe leaves out (a packet with
 * no pts, say) stay undefined rather than being guessed here.
 */

import { corruptInput, noVideoStream } from '../../errors.js';

export interface WasmPacket {
  /** In the stream's time base; undefined when the container gives none. */
  pts: bigint | undefined;
  dts: bigint | undefined;
  duration: bigint | undefined;
  keyframe: boolean;
  /** The container marks the packet to be decoded but not shown (e.g. before an edit list's start). */
  discard: boolean;
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
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { format_name?: string; start_time?: string };
  packets?: { pts?: number; dts?: number; duration?: number; flags?: string }[];
}

/** `failure` is FFmpeg's reason, for the message when the output shows the input did not open. */
export function readProbeOutput(text: string, failure: string): WasmProbe {
  let out: FfprobeJson;
  try {
    out = JSON.parse(text) as FfprobeJson;
  } catch (error) {
    throw corruptInput(`Probing the input with the wasm core gave unreadable output: ${failure}`, error);
  }
  // ffprobe writes `{}` when it cannot open the input, and an empty list when it opens but finds no video.
  if (out.streams === undefined || out.format === undefined) {
    throw corruptInput(`Probing the input with the wasm core failed: ${failure}`);
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
    },
    packets: (out.packets ?? []).map((p) => ({
      pts: optionalBig(p.pts),
      dts: optionalBig(p.dts),
      duration: optionalBig(p.duration),
      keyframe: (p.flags ?? '').includes('K'),
      discard: (p.flags ?? '').includes('D'),
    })),
  };
}

/** ffprobe prints the display matrix's counterclockwise angle; autorotate turns the picture by its negation. */
function clockwiseRotation(sideData: { rotation?: number }[] | undefined): number {
  const ccw = sideData?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
  return ((-Math.round(ccw) % 360) + 360) % 360;
}

function optionalBig(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}
