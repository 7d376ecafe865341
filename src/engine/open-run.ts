/**
 * Opening a run: the backend opens the input and learns its times; the
 * sampling rule (sampling.ts) turns the options and the video's end into
 * target times; the size rule (geometry.ts) gives the image each output
 * becomes (a sprite's cell, for a sprite run); the backend plans the outputs
 * and opens its lanes. Everything a run checks about its input and options
 * against the video happens here, before any frame is decoded.
 */

import { nativeEncoder, sharpEncoders, type Encoder, type EncoderChoice } from '../encode/encoders.js';
import { invalidOption, unsupportedInput } from '../errors.js';
import { checkInputLimits } from '../limits.js';
import { defaultCellWidth } from '../option-schema.js';
import type { ImageFormat, ResolvedSnapshotOptions } from '../options.js';
import { raceAbort } from './abort.js';
import type { Backend, BackendInput, Extractor } from './backend.js';
import { outputGeometry, type Geometry, type SizeOptions } from './geometry.js';
import type { NativePlannedInfo } from './binding.js';
import { loadBackend } from './loader.js';
import { packRationals, planTargets, seconds } from './sampling.js';
import { rotatedSize, toVideoInfo, type PlannedVideoInfo } from './video-info.js';

export interface OpenedRun {
  extractor: Extractor;
  /** What each output goes through: the run's format, or raw for a sprite's cells. */
  encoder: Encoder;
  /** A sprite run's: what encodes its sheets. */
  sheetEncoder: Encoder | undefined;
  info: PlannedVideoInfo;
  outputCount: number;
  frameBytes: number;
  lanes: number;
  /** The upright size of each output (a sprite's cell). */
  width: number;
  height: number;
  /** Seconds of each target time, by position: what an output answers (NativeFrame.targetIndex). */
  targetTimes: number[];
  /** Where the planned times end: the window's end, or the video's. */
  end: number;
}

/**
 * Opens `input` for a run of `options` on `lanes` lanes; `onExtractor` gets
 * the extractor as soon as it exists, for the run to close on abort.
 */
export async function openRun(
  input: BackendInput,
  options: ResolvedSnapshotOptions,
  lanes: number,
  onExtractor: (extractor: Extractor) => void,
): Promise<OpenedRun> {
  const { signal, backend: choice, limits, nameOf } = options;
  const backend = loadBackend(choice);
  // A sprite's cells are raw images laid into sheets; the sheets are encoded as asked.
  const sprite = options.sprite !== undefined;
  // The cells need no JPEG encoder: 'native' is for the sheets.
  const encoder = sprite ? chooseEncoder(options.encoder === 'native' ? 'auto' : options.encoder, 'raw', backend) : chooseEncoder(options.encoder, options.format, backend);
  const sheetEncoder = sprite ? chooseEncoder(options.encoder, options.format, backend) : undefined;
  const extractor = backend.createExtractor(input, { lanes, maxPixels: limits.maxPixels });
  onExtractor(extractor);
  const opened = await raceAbort(extractor.open(), signal);
  checkInputLimits(opened.info, limits);
  if (options.tonemap === 'auto') checkToneMappable(opened.info);
  const targets = planTargets(options.sampling, { ticks: opened.durationTicks, timeBase: opened.timeBase }, limits.maxTargets, nameOf);
  const geometry = outputGeometry(opened.info.width, opened.info.height, opened.info.rotation, sizeOf(options));
  const [width, height] = geometry === undefined ? rotatedSize(opened.info.width, opened.info.height, opened.info.rotation) : [geometry.width, geometry.height];
  const planned = await raceAbort(
    extractor.plan({
      mode: options.mode,
      targets: packRationals(targets.times),
      window: targets.window === undefined ? undefined : packRationals([targets.window.start, targets.window.end]),
      geometry: codedGeometry(geometry),
      tonemap: options.tonemap,
    }),
    signal,
  );
  if (options.sprite !== undefined) checkSheet(options, planned.outputCount, width, height);
  const end = targets.window?.end ?? { num: BigInt(opened.durationTicks) * BigInt(opened.timeBase[0]), den: BigInt(opened.timeBase[1]) };
  return {
    extractor,
    encoder,
    sheetEncoder,
    info: toVideoInfo(planned.info, backend.name),
    outputCount: planned.outputCount,
    frameBytes: planned.frameBytes,
    lanes: planned.lanes,
    width,
    height,
    targetTimes: targets.times.map(seconds),
    end: seconds(end),
  };
}

/**
 * Dolby Vision without a base layer an ordinary player shows (compatibility
 * 0: profile 5's IPTPQc2) decodes to colours that need Dolby's reshaping,
 * which vsnap does not apply: with tonemap 'auto' it is refused rather than
 * given wrong; 'off' gives its pictures as decoded.
 */
function checkToneMappable(info: NativePlannedInfo): void {
  const record = info.color.dolbyVision;
  if (record === null || record.blSignalCompatibilityId !== 0) return;
  throw unsupportedInput(
    `This video is Dolby Vision profile ${record.profile} without a compatible base layer: its colours need Dolby's reshaping, ` +
      "which vsnap does not apply. Use tonemap 'off' for its pictures as decoded",
  );
}

/** A sprite's cells are `defaultCellWidth` wide unless a size is given. */
function sizeOf(options: ResolvedSnapshotOptions): SizeOptions {
  const { size, sprite } = options;
  if (sprite === undefined || size.width !== undefined || size.height !== undefined) return size;
  return { ...size, width: defaultCellWidth };
}

function codedGeometry(geometry: Geometry | undefined) {
  return geometry === undefined ? undefined : { ...geometry.coded };
}

/** A sheet, as large as the run's outputs fill it, must not hold more pixels than a frame may (limits.maxPixels). */
function checkSheet(options: ResolvedSnapshotOptions, outputs: number, cellWidth: number, cellHeight: number): void {
  const { columns, rows } = options.sprite!;
  const across = Math.min(columns, Math.max(1, outputs));
  const down = Math.min(rows, Math.ceil(Math.max(1, outputs) / columns));
  const pixels = across * cellWidth * down * cellHeight;
  if (pixels > options.limits.maxPixels) {
    throw invalidOption(
      options.nameOf('sprite'),
      `a sheet of at most ${options.limits.maxPixels} pixels (maxPixels): ${across} x ${down} cells of ${cellWidth} x ${cellHeight} make ${pixels}`,
      options.sprite,
    );
  }
}

/**
 * The encoder for `choice` (options.ts checked that 'native' comes with
 * JPEG): the backend's JPEG encoder where it has one and the run writes
 * JPEG, else sharp.
 */
function chooseEncoder(choice: EncoderChoice, format: ImageFormat, backend: Backend): Encoder {
  if (choice === 'workers' || choice === 'inline') return sharpEncoders[choice];
  const encodeJpeg = backend.encodeJpeg;
  if (format === 'jpg' && encodeJpeg !== undefined) return nativeEncoder((task) => encodeJpeg(task));
  if (choice === 'native') {
    throw invalidOption('encoder', `'auto', 'workers' or 'inline' with the ${backend.name} backend, which has no JPEG encoder of its own`, choice);
  }
  return sharpEncoders.workers;
}
