/**
 * A job: one snapshot extraction as the service hands it to whatever runs it
 * (a supervised worker process, later a BullMQ worker). It is plain,
 * structured-cloneable data, so it crosses a process boundary as it is.
 *
 * - `source` is where the video is: a local file the service spooled
 *   (async `input.content`), the bytes themselves (sync `input.content`), or
 *   an object in the store (`input.oss`). `name` is what error messages call
 *   the input: the caller's own words (`input.oss` URL or `input.content`),
 *   never a server path.
 * - `output` is either an oss prefix, under which the images are written as
 *   `{prefix}/{taskId}/snapshot_{K}.{ext}` (a sprite run's sheets as
 *   `sprite_{J}.{ext}`, with `thumbnails.vtt`), or base64 (sync only), where
 *   the images come back in the result.
 * - Running a job is idempotent: the same job gives the same files at the
 *   same paths, so a job cut short (worker crash, server kill) is simply run
 *   again.
 */

import type { SampleOptionValues } from '../option-schema.js';
import type { ImageFormat, SamplingMode } from '../options.js';

export type JobSource =
  | { type: 'file'; path: string; name: string }
  | { type: 'bytes'; data: Uint8Array; name: string }
  | { type: 'oss'; url: string; name: string };

export type JobOutput = { type: 'oss'; prefix: string } | { type: 'base64' };

/**
 * vsnap's extensions of the API's parameters (option-schema.ts,
 * apiExtensionNames), as the request gave them; a job without them is the
 * seed's. With a count or times, `interval` is unused.
 */
export type SnapshotExtensions = Pick<SampleOptionValues, 'start' | 'end' | 'count' | 'times' | 'width' | 'height' | 'fit' | 'sprite'>;

export interface Job {
  taskId: string;
  source: JobSource;
  interval: number;
  format: ImageFormat;
  mode: SamplingMode;
  extensions?: SnapshotExtensions;
  output: JobOutput;
}

/** One entry of `result.data`, spelled as the API document spells it. */
export interface SnapshotResultItem {
  frame_index: number;
  frame_time: number;
  /** The URL-encoded oss:// path of the image, for oss output; a sprite's cell is `sheet#xywh=x,y,w,h`. */
  path?: string;
  /** The base64 image, for base64 output. */
  content?: string;
}

export interface JobResult {
  data: SnapshotResultItem[];
  /** Frames the decoder decoded and milliseconds the whole job took in the worker, for metrics. */
  framesDecoded: number;
  decodeMs: number;
  /**
   * The engine's damagedFrames and seekRecoveries (DecodeStats), for metrics
   * and logs; absent from a worker node of an earlier version.
   */
  damagedFrames?: number;
  seekRecoveries?: number;
}
