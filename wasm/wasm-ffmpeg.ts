/**
 * The FFmpeg WebAssembly core applied to one input: probe its video stream's
 * packets, decode the frames of a run (decode-runs.ts) or a single frame to
 * packed RGB24. The wasm backend's workers (decode-worker.ts) run on this.
 *
 * Each run (one ffprobe or ffmpeg invocation) gets a fresh instance of the
 * core. The core's `reset()` clears only the exit code, while FFmpeg's globals
 * outlive a run: after one run with decode errors every later run exits with
 * code 69 (the error-rate counter is static), and a run of `-version` leaves
 * every later one logging at debug level. A fresh instance costs ~8 ms from
 * the compiled module and the input is handed over without copying, against
 * 10-500 ms for the run itself (a 320x240 frame to a 1080p one mid-GOP).
 *
 * While FFmpeg runs it blocks the calling thread (the core is single-threaded
 * and synchronous), so callers belong on worker threads.
 *
 * Size: the input is held whole in memory, as one Uint8Array that the core's
 * filesystem reads in place. Reads reach its end at any offset up to the
 * largest Uint8Array (buffer.constants.MAX_LENGTH, 4 GiB on Node 20): a
 * 4 GiB - 100 B MP4 probed and decoded in 60 ms and 170 ms. The core's heap
 * (decoder state, the demuxer's index) is capped at 2 GiB on its own.
 */

import { corruptInput, internal, invalidOption, unsupportedInput, VsnapError } from '../src/errors.js';
import { loadCore, type CoreLoader, type FfmpegCore } from './core-module.js';
import { formatWhitelist, sniffContainer } from './container-sniff.js';
import { colorSideDataFields, firstFrameColor, lacksHdrMetadata, readProbeOutput, type WasmProbe } from './probe-output.js';
import { PacketIndex, type DecodeRun } from './decode-runs.js';
import { Timeline } from './timeline.js';

/** What decodeRun gives. */
export interface DecodedRun {
  /** The run's frames, or undefined where the decode gave fewer than the run asks for. */
  frames: Uint8Array | undefined;
  /** Why the frames cannot be trusted, FFmpeg's first error of the run; undefined for a clean decode. */
  damage: string | undefined;
}

export interface WasmFrame {
  /** Display size when rotated, else coded size. */
  width: number;
  height: number;
  /** Packed RGB24, width * height * 3 bytes. */
  pixels: Uint8Array;
}

export interface DecodeFrameOptions {
  /** Turn the picture upright by the stream's rotation (default true); false gives it as coded. */
  rotate?: boolean;
}

const inputPath = '/input';
const outputPath = '/output';
const quiet = ['-hide_banner', '-loglevel', 'error'];

export class WasmFfmpeg {
  #loader: CoreLoader | undefined;
  #input: Uint8Array | undefined;
  #probe: WasmProbe | undefined;
  #log: readonly string[] = [];

  private constructor(loader: CoreLoader) {
    this.#loader = loader;
  }

  /** Loads the core (compiled once per thread). Rejects with VSNAP_BACKEND_UNAVAILABLE when it cannot load. */
  static async create(): Promise<WasmFfmpeg> {
    return new WasmFfmpeg(await loadCore());
  }

  /** FFmpeg's log lines (errors only) of the last run that finished. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** Makes `bytes` the input of later runs, replacing any earlier one. They are read in place: do not change them. */
  setInput(bytes: Uint8Array): void {
    this.#open('setInput');
    this.#input = bytes;
    this.#probe = undefined;
  }

  /** The input's first video stream and its packets in decode order (ffprobe -show_packets); kept after the first call. */
  async probe(): Promise<WasmProbe> {
    const input = this.#inputFor('probe');
    if (this.#probe !== undefined) return this.#probe;
    const probe = await this.#run('probe', input, (core, failureReason) => {
      core.ffprobe(
        ...quiet, '-format_whitelist', formatWhitelist, '-select_streams', 'V:0', '-show_format', '-show_streams', '-show_packets',
        '-show_entries',
        'format=format_name,start_time,bit_rate:stream=codec_name,pix_fmt,width,height,time_base,avg_frame_rate,has_b_frames,start_time,duration,color_range,color_space,color_transfer,color_primaries' +
          `:stream_tags=DURATION:stream_side_data=${colorSideDataFields}:packet=pts,dts,duration,flags,size`,
        '-of', 'json', inputPath, '-o', outputPath,
      );
      // ffprobe's return value carries no exit code; its output tells whether the input opened.
      const output = new TextDecoder().decode(takeOutput(core) ?? new Uint8Array());
      return readProbeOutput(output, failureReason(), sniffContainer(input));
    });
    if (lacksHdrMetadata(probe.stream.color)) {
      // HDR10's static metadata is often in the bitstream alone (SEI): the first frame's side data, in a run of its own.
      probe.stream.color = await this.#run('probe', input, (core) => {
        core.ffprobe(
          ...quiet, '-format_whitelist', formatWhitelist, '-select_streams', 'V:0', '-read_intervals', '%+#1', '-show_frames',
          '-show_entries', `frame_side_data=${colorSideDataFields}`, '-of', 'json', inputPath, '-o', outputPath,
        );
        return firstFrameColor(probe.stream.color, new TextDecoder().decode(takeOutput(core) ?? new Uint8Array()));
      });
    }
    // Kept only if the input was not replaced while the probe ran.
    if (this.#input === input) this.#probe = probe;
    return probe;
  }

  /**
   * Decodes the frames of one run (decode-runs.ts): packed RGB24 as coded
   * (not rotated), `frameBytes` each, one after the other in display order,
   * and whether the decoder reported damage on the way (decodeDamage).
   * Fewer frames than the run asks for is damage too, and gives no frames.
   */
  async decodeRun(run: DecodeRun, frameBytes: number): Promise<DecodedRun> {
    const input = this.#inputFor('decodeRun');
    return this.#run('decodeRun', input, (core, failureReason, log) => {
      const exitCode = core.exec(...runArgs(run, ['-noautorotate'], ['-f', 'rawvideo']));
      const output = takeOutput(core) ?? new Uint8Array();
      if (exitCode !== 0) {
        const failure = decodeFailure(`Decoding with the wasm core failed (exit code ${exitCode})`, failureReason());
        if (failure.code === 'VSNAP_UNSUPPORTED_INPUT') throw failure;
      }
      const complete = output.length === run.windows.length * frameBytes;
      const got = Math.floor(output.length / frameBytes);
      const damage =
        decodeDamage(log, run) ??
        (complete ? undefined : `Decoding with the wasm core gave ${got} of the ${run.windows.length} frames asked for: ${failureReason()}`) ??
        (exitCode === 0 ? undefined : `Decoding with the wasm core failed (exit code ${exitCode}): ${failureReason()}`);
      return { frames: complete ? output : undefined, damage };
    });
  }

  /**
   * Decodes the displayed frame whose pts (in the stream's time base) is
   * `pts`, on its own: a run of one frame from its keyframe.
   */
  async decodeFrame(pts: bigint, options: DecodeFrameOptions = {}): Promise<WasmFrame> {
    const input = this.#inputFor('decodeFrame');
    const probe = await this.probe();
    const timeline = Timeline.fromProbe(probe);
    const frameIndex = timeline.frameIndexOf(pts);
    if (frameIndex < 0) throw invalidOption('pts', "the pts of a shown packet of the input's video stream", pts);
    const index = new PacketIndex(probe, timeline);
    const run: DecodeRun = {
      seekSeconds: index.startOf(timeline.decodeStartFor(pts)).seekSeconds,
      keyframesOnly: false,
      windows: [index.windowOf(frameIndex)],
      codec: probe.stream.codec,
      sizing: [],
    };
    return this.#run('decodeFrame', input, (core, failureReason) => {
      const exitCode = core.exec(...runArgs(run, options.rotate === false ? ['-noautorotate'] : [], ['-c:v', 'ppm', '-f', 'image2pipe']));
      const output = takeOutput(core);
      if (exitCode !== 0) throw decodeFailure(`Decoding a frame with the wasm core failed (exit code ${exitCode})`, failureReason());
      if (output === undefined || output.length === 0) {
        throw corruptInput(`Decoding a frame with the wasm core gave no frame with pts ${pts}: ${failureReason()}`);
      }
      return readPpm(output);
    });
  }

  /** Lets go of the core and the input. Idempotent; later calls throw. */
  close(): void {
    this.#loader = undefined;
    this.#input = undefined;
    this.#probe = undefined;
  }

  #open(operation: string): CoreLoader {
    if (this.#loader === undefined) throw internal(`WasmFfmpeg.${operation}: the instance is closed`);
    return this.#loader;
  }

  #inputFor(operation: string): Uint8Array {
    this.#open(operation);
    if (this.#input === undefined) throw internal(`WasmFfmpeg.${operation}: no input was set (call setInput first)`);
    return this.#input;
  }

  /** One FFmpeg invocation in a fresh instance holding `input`; its log is kept for `log`. */
  async #run<T>(
    operation: string,
    input: Uint8Array,
    body: (core: FfmpegCore, failureReason: () => string, log: readonly string[]) => T,
  ): Promise<T> {
    const core = await this.#open(operation).instantiate();
    const log: string[] = [];
    core.setLogger(({ message }) => {
      // Emscripten reports FFmpeg's exit as an abort; it is no error.
      if (message !== 'Aborted()') log.push(message);
    });
    core.FS.writeFile(inputPath, input, { canOwn: true });
    try {
      return body(core, () => failureReason(log), log);
    } catch (error) {
      if (error instanceof VsnapError) throw error;
      // A trap inside the core (out of bounds, unreachable): a bug there or here, not a property of the input.
      throw internal(`WasmFfmpeg.${operation}: the wasm core failed: ${String(error)}`, error);
    } finally {
      this.#log = log;
    }
  }
}

/** The ffmpeg arguments of a run: `inputOptions` before `-i`, `outputOptions` before the output (RGB24 either way). */
function runArgs(run: DecodeRun, inputOptions: string[], outputOptions: string[]): string[] {
  const keep = run.windows.map(({ from, to }) => `between(pts\\,${from}\\,${to - 1n})`).join('+');
  return [
    ...quiet, ...inputOptions,
    ...(run.keyframesOnly ? ['-skip_frame', 'nokey'] : []),
    '-copyts', ...(run.seekSeconds === undefined ? [] : ['-noaccurate_seek', '-ss', run.seekSeconds.toFixed(6)]),
    '-format_whitelist', formatWhitelist, '-i', inputPath,
    '-map', '0:V:0', '-vf', [`select=${keep}`, ...run.sizing].join(','), '-fps_mode', 'passthrough', '-frames:v', String(run.windows.length),
    '-pix_fmt', 'rgb24', ...outputOptions, outputPath,
  ];
}

function takeOutput(core: FfmpegCore): Uint8Array | undefined {
  return core.FS.analyzePath(outputPath).exists ? core.FS.readFile(outputPath) : undefined;
}

/**
 * FFmpeg's reason for a failed run, one line: its first error, where the
 * cause usually is, and its last, which says what gave up. Object addresses
 * ("[h264 @ 0xdef750]") are dropped so equal failures read the same.
 */
function failureReason(log: readonly string[]): string {
  const lines = log.map((line) => line.replace(/ @ 0x[0-9a-f]+\]/g, ']').trim()).filter((line) => line !== '');
  if (lines.length === 0) return 'FFmpeg gave no error message';
  const first = lines[0];
  const last = lines[lines.length - 1];
  return first === last ? first : `${first} ... ${last}`;
}

/**
 * Errors that change no picture, as the native engine counts them
 * (native/core/CodecHooks.cpp): H.264 told to unmark a reference it never
 * had, after a seek to an open GOP's keyframe.
 */
const harmlessErrors: readonly string[] = ['mmco: unref short failure'];

/**
 * And where a run decodes keyframes only (-skip_frame nokey): H.264 then
 * finds its references unlike the stream's, which changes no keyframe (an
 * intra picture), and the native engine decodes each keyframe afresh.
 */
const harmlessSkippingFrames: readonly string[] = [...harmlessErrors, 'illegal short term buffer state detected'];

/**
 * The first error the decoder of `codec` logged in a run, one line; undefined
 * when it logged none. The core decodes on one thread and every frame of a
 * run, so the run is what can be told damaged, not each of its frames.
 * Repeats ("Last message repeated N times") repeat a line already judged.
 */
function decodeDamage(log: readonly string[], run: DecodeRun): string | undefined {
  const harmless = run.keyframesOnly ? harmlessSkippingFrames : harmlessErrors;
  for (const line of log) {
    const match = /^\[([^\]\s]+) @ 0x[0-9a-f]+\] (.*)$/.exec(line.trim());
    const fromDecoder = match !== null && (match[1] === run.codec || match[1].startsWith('lib'));
    if (fromDecoder && !harmless.some((message) => match[2].startsWith(message))) return `${match[1]}: ${match[2]}`;
    if (/^Error while decoding stream/.test(line.trim())) return line.trim();
  }
  return undefined;
}

/** A stream the core has no decoder for is unsupported; any other failed decode means damaged data. */
function decodeFailure(what: string, reason: string) {
  const message = `${what}: ${reason}`;
  return /doesn't supp+ort hardware accelerated|decoder .* not found/i.test(reason)
    ? unsupportedInput(message)
    : corruptInput(message);
}

/** A binary PPM (P6, maxval 255), as FFmpeg's ppm encoder writes it: "P6\n<w> <h>\n255\n" then RGB24. */
function readPpm(bytes: Uint8Array): WasmFrame {
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(new TextDecoder('latin1').decode(bytes.subarray(0, 32)));
  if (header === null) throw internal('WasmFfmpeg.decodeFrame: the wasm core wrote no PPM image');
  const width = Number(header[1]);
  const height = Number(header[2]);
  const pixels = bytes.subarray(header[0].length);
  if (pixels.length !== width * height * 3) {
    throw internal(`WasmFfmpeg.decodeFrame: a ${width}x${height} PPM image of ${pixels.length} bytes of pixels`);
  }
  return { width, height, pixels };
}
