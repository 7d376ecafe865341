/**
 * The contract between TypeScript and a decode backend's native module
 * (build/Release/vsnap.node), and its version. The loader (loader.ts) finds the
 * module, and nothing else imports it. A change of this contract raises
 * bindingVersion here and kBindingVersion in native/binding/addon.cpp.
 *
 * Raw frames are packed RGB24, `width * height * 3` bytes, before rotation
 * (rotation is applied when the frame is encoded). Errors thrown or rejected
 * by the module carry `code`, one of the NativeErrorCode values.
 */

export type NativeErrorCode =
  | 'VSNAP_INPUT_NOT_FOUND'
  | 'VSNAP_INPUT_CHANGED'
  | 'VSNAP_UNSUPPORTED_INPUT'
  | 'VSNAP_NO_VIDEO_STREAM'
  | 'VSNAP_CORRUPT_INPUT'
  | 'VSNAP_LIMIT_EXCEEDED'
  | 'VSNAP_ABORTED'
  | 'VSNAP_INTERNAL';

/**
 * A file path; an http(s) URL, read by range, each byte at most once per
 * extraction (native/core/RemoteSource.h); or the bytes of a whole video
 * (kept referenced while in use).
 */
export type NativeInput = { path: string } | { url: string } | { data: Uint8Array };

/**
 * How the video's samples map to colour. `matrix`, `primaries` and
 * `transfer` are FFmpeg's names (`bt709`, `bt2020nc`, `bt2020`,
 * `smpte2084` for PQ, `arib-std-b67` for HLG), null where the stream leaves
 * them unspecified; HDR static metadata comes from the container, or from
 * the first frame's side data (SEI) where the container has none.
 */
export interface VideoColor {
  matrix: string | null;
  primaries: string | null;
  transfer: string | null;
  range: 'limited' | 'full' | null;
  /** SMPTE ST 2086: the mastering display's primaries and white point (CIE 1931 xy) and luminance (cd/m²). */
  masteringDisplay: {
    red: [number, number];
    green: [number, number];
    blue: [number, number];
    whitePoint: [number, number];
    minLuminance: number;
    maxLuminance: number;
  } | null;
  /** CTA-861.3 content light levels, cd/m²: the brightest pixel (MaxCLL) and frame average (MaxFALL). */
  contentLight: { maxCll: number; maxFall: number } | null;
  /**
   * The container's Dolby Vision configuration record: profile, level, and
   * the standard its base layer is compatible with (1 HDR10, 2 SDR, 4 HLG,
   * 0 none). vsnap shows the base layer (profile 8.4 is HLG, 8.1 HDR10) and
   * does not apply Dolby Vision's dynamic metadata.
   */
  dolbyVision: { profile: number; level: number; blSignalCompatibilityId: number } | null;
}

export interface NativeVideoInfo {
  /** FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm". */
  container: string;
  /** FFmpeg's codec name, e.g. "h264". */
  codec: string;
  pixelFormat: string;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  /** Clockwise rotation in degrees (0, 90, 180, 270) to display the video upright. */
  rotation: number;
  /** Seconds from the first displayed frame to the end of the last one. */
  duration: number;
  /** Timestamp of the first displayed frame, in seconds. */
  startTime: number;
  frameRate: { average: number; variable: boolean };
  frameCount: number;
  /** frame_time of every keyframe, seconds since the first displayed frame. */
  keyframes: number[];
  bitRate: number;
  color: VideoColor;
}

/**
 * What open() learns of the video: NativeVideoInfo, except that
 * - where the run planned from an MP4/MOV index, reading only the packets
 *   the plan needs rather than every one, the keyframe list and
 *   whether the frame rate varies are not known, and are null;
 * - where the container's header describes the video (an MP4/MOV with its
 *   index, a Matroska/WebM with its duration), the streams are not probed
 *   (that decodes the first frames), so the pixel format is not known, and
 *   is null, and so is any colour field the header leaves out (an HEVC
 *   stream's range, say); HDR metadata that only the bitstream carries
 *   (SEI) is not read either: probe() reads it from the first frame.
 */
export type NativePlannedInfo = Omit<NativeVideoInfo, 'keyframes' | 'frameRate' | 'pixelFormat'> & {
  keyframes: number[] | null;
  frameRate: { average: number; variable: boolean | null };
  pixelFormat: string | null;
};

export interface NativeDecodeStats {
  /** Seeks done, and seeks avoided by decoding forward within a GOP. */
  seeks: number;
  seeksAvoided: number;
  /** Packets of the video stream read while decoding. */
  packetsRead: number;
  /** Packets of the video stream read to plan: all of them for a scan, a few for a plan from the index. */
  scanPackets: number;
  framesDecoded: number;
  /** Packets the decoder rejected as invalid and skipped. */
  decodeErrors: number;
  /** Bytes read from the input by every lane, planning included: for a URL, the bytes fetched. */
  bytesRead: number;
  /** Requests made to fetch them: a URL's range requests; 0 for a file or a buffer. */
  requests: number;
  /** Outputs damaged in the stream itself: a sequential decode from the first frame gives the same damaged picture. */
  damagedFrames: number;
  /** Outputs decoded again from an earlier point because the decode after a seek showed damage. */
  seekRecoveries: number;
}

/** Statistics before any work. */
export const noDecodeStats: Readonly<NativeDecodeStats> = Object.freeze({
  seeks: 0,
  seeksAvoided: 0,
  packetsRead: 0,
  scanPackets: 0,
  framesDecoded: 0,
  decodeErrors: 0,
  bytesRead: 0,
  requests: 0,
  damagedFrames: 0,
  seekRecoveries: 0,
});

export interface NativeFrame {
  /** Position of this output in the plan, 0, 1, ... */
  outputIndex: number;
  /** The target time it answers, as a position in the plan's targets (the first of them, in keyframe mode). */
  targetIndex: number;
  frameIndex: number;
  frameTime: number;
  width: number;
  height: number;
}

export interface NativeJpegFrame extends NativeFrame {
  data: Buffer;
}

/** What open() learns: the video, and its exact end (ticks since the first frame of timeBase seconds). */
export interface NativeOpenResult {
  info: NativePlannedInfo;
  durationTicks: number;
  timeBase: [number, number];
}

/**
 * What plan() takes: the targets, seconds since the first frame as
 * numerator, denominator pairs (src/engine/sampling.ts); the window keyframe
 * mode prefers, [start, end) as two pairs; and the image each output
 * becomes, in the coded orientation (src/engine/geometry.ts; the coded size
 * when left out).
 */
export interface NativePlanRequest {
  mode: 'exact' | 'keyframe';
  targets: BigInt64Array;
  window?: BigInt64Array;
  geometry?: { width: number; height: number; crop: readonly number[]; place: readonly number[] };
  /** auto: frames whose transfer is PQ or HLG are tone-mapped to SDR BT.709 (native/core/ToneMap.h); off (the default): none is. */
  tonemap?: 'auto' | 'off';
}

export interface NativePlanResult {
  /** The video as the plan knows it: open()'s, completed where the plan scanned the stream. */
  info: NativePlannedInfo;
  /** Number of outputs the plan holds. */
  outputCount: number;
  /** Bytes each `next()` destination must hold. */
  frameBytes: number;
  /**
   * Decoders opened: at most the `lanes` asked for, and no more than there
   * are independent segments of work (GOPs in exact mode, keyframes in
   * keyframe mode). Lane j gives every lanes-th segment, in output order.
   */
  lanes: number;
}

export interface NativeExtractor {
  /** Opens the input and learns the stream's times (a scan, or the index). Call once. */
  open(): Promise<NativeOpenResult>;
  /** Plans the outputs (after open(), once) and opens the lanes. */
  plan(request: NativePlanRequest): Promise<NativePlanResult>;
  /**
   * Decodes the next output of `lane` into `dest` (at least frameBytes long)
   * and resolves with its metadata, or null when the lane gave all of its
   * outputs. Lanes decode in parallel; each takes one call at a time (a
   * second concurrent call on one lane rejects). Merging the lanes' outputs
   * by outputIndex gives the plan in order.
   */
  next(lane: number, dest: ArrayBuffer): Promise<NativeFrame | null>;
  /**
   * next() and encodeJpeg() in one call on the lane's thread: the frame goes
   * to libjpeg-turbo a band of rows at a time, never whole unless it must be
   * turned, and resolves with its metadata and the JPEG (the bytes
   * encodeJpeg gives for next()'s frame, turned upright by the video's
   * rotation). `quality` is 1 to 100.
   */
  nextJpeg(lane: number, quality: number): Promise<NativeJpegFrame | null>;
  stats(): NativeDecodeStats;
  /** Cancels work in flight (it rejects with VSNAP_ABORTED) and frees the decoder. Idempotent. */
  close(): void;
}

/** The contract version this file describes; the module reports its own in versions().binding. */
export const bindingVersion = 15;

export interface NativeBinding {
  versions(): { binding: number; avformat: string; avcodec: string; swscale: string };
  /** Returns the memory the C allocator holds free to the system (glibc's malloc_trim); whether any was. */
  trimMemory(): boolean;
  probe(input: NativeInput): Promise<NativeVideoInfo>;
  /**
   * Encodes a raw frame (`width * height * 3` bytes at least) as a baseline
   * JPEG with libjpeg-turbo on Node's thread pool, turned `rotation`
   * degrees clockwise: the pixels sharp writes with `optimiseCoding: false`.
   * `frame` must not change until the promise settles.
   */
  encodeJpeg(frame: ArrayBuffer, width: number, height: number, rotation: number, quality: number): Promise<Buffer>;
  Extractor: new (
    input: NativeInput,
    /**
     * `scan: true` plans from a scan even where the index would do; only
     * tests that compare the two ways set it. A frame of more than
     * `maxPixels` pixels is never allocated, and decoding it rejects with
     * VSNAP_LIMIT_EXCEEDED, whatever size the container declares (no limit
     * when left out).
     */
    options: {
      lanes?: number;
      scan?: boolean;
      maxPixels?: number;
    },
  ) => NativeExtractor;
}
