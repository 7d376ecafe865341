/**
 * The size rule: what image each output becomes, from the size options
 * (width, height, fit: sharp's vocabulary and defaults) and the video's
 * upright size. Computed once here; the backends scale on the decode side
 * as told (native/core/Decoder.h OutputGeometry; wasm/decode-runs.ts), in
 * the coded frame's orientation, and the encoder turns the image upright.
 *
 *   width only, or height only   the other follows the aspect ratio
 *   fill      exactly width x height, stretched
 *   cover     exactly width x height, the centre of the picture cropped to its aspect (default)
 *   contain   exactly width x height, the whole picture centred, black around it
 *   inside    the whole picture, as large as fits in width x height
 *   outside   the whole picture, as small as covers width x height
 */

import type { Fit } from '../option-schema.js';

/** [x, y, width, height] */
export type Rect = readonly [number, number, number, number];

export interface SizeOptions {
  width: number | undefined;
  height: number | undefined;
  fit: Fit;
}

export interface Geometry {
  /** The upright image's size. */
  width: number;
  height: number;
  /** What the backend makes: the image in the coded orientation, the crop of the coded frame and where it goes in it. */
  coded: { width: number; height: number; crop: Rect; place: Rect };
}

/** undefined when no size is asked for: the frames keep their coded size. */
export function outputGeometry(
  codedWidth: number,
  codedHeight: number,
  rotation: number,
  size: SizeOptions,
): Geometry | undefined {
  if (size.width === undefined && size.height === undefined) return undefined;
  const turned = rotation === 90 || rotation === 270;
  const [sourceWidth, sourceHeight] = turned ? [codedHeight, codedWidth] : [codedWidth, codedHeight];
  const upright = uprightPlan(sourceWidth, sourceHeight, size);
  const [width, height] = [upright.width, upright.height];
  return {
    width,
    height,
    coded: {
      width: turned ? height : width,
      height: turned ? width : height,
      crop: toCoded(upright.crop, sourceWidth, sourceHeight, rotation),
      place: toCoded(upright.place, width, height, rotation),
    },
  };
}

interface UprightPlan {
  width: number;
  height: number;
  crop: Rect;
  place: Rect;
}

function uprightPlan(sourceWidth: number, sourceHeight: number, { width, height, fit }: SizeOptions): UprightPlan {
  const whole: Rect = [0, 0, sourceWidth, sourceHeight];
  const scaled = (w: number, h: number): UprightPlan => ({ width: w, height: h, crop: whole, place: [0, 0, w, h] });
  if (width === undefined || height === undefined) {
    return width !== undefined
      ? scaled(width, side((width * sourceHeight) / sourceWidth))
      : scaled(side((height! * sourceWidth) / sourceHeight), height!);
  }
  const across = width / sourceWidth;
  const down = height / sourceHeight;
  switch (fit) {
    case 'fill':
      return scaled(width, height);
    case 'inside':
    case 'outside': {
      const factor = fit === 'inside' ? Math.min(across, down) : Math.max(across, down);
      return scaled(side(sourceWidth * factor), side(sourceHeight * factor));
    }
    case 'contain': {
      const factor = Math.min(across, down);
      const [w, h] = [Math.min(width, side(sourceWidth * factor)), Math.min(height, side(sourceHeight * factor))];
      return { width, height, crop: whole, place: [Math.floor((width - w) / 2), Math.floor((height - h) / 2), w, h] };
    }
    case 'cover': {
      // The centre of the picture with the output's aspect ratio.
      const wider = sourceWidth * height > sourceHeight * width;
      const w = wider ? Math.min(sourceWidth, side((sourceHeight * width) / height)) : sourceWidth;
      const h = wider ? sourceHeight : Math.min(sourceHeight, side((sourceWidth * height) / width));
      return { width, height, crop: [Math.floor((sourceWidth - w) / 2), Math.floor((sourceHeight - h) / 2), w, h], place: [0, 0, width, height] };
    }
  }
}

function side(value: number): number {
  return Math.max(1, Math.round(value));
}

/**
 * A rectangle of an upright image (`width` x `height`) in the coded image it
 * is turned from: the video's display matrix turns the coded picture
 * `rotation` degrees clockwise, so coded (x, y) is shown at (H - 1 - y, x)
 * for 90, say.
 */
function toCoded([x, y, w, h]: Rect, width: number, height: number, rotation: number): Rect {
  switch (rotation) {
    case 90:
      return [y, width - x - w, h, w];
    case 180:
      return [width - x - w, height - y - h, w, h];
    case 270:
      return [height - y - h, x, h, w];
    default:
      return [x, y, w, h];
  }
}
