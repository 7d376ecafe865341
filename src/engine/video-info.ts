/**
 * What vsnap tells about a video: the backend's metadata, the backend's name,
 * and the size an image has once rotated upright.
 */

import type { BackendName } from './backend.js';
import type { NativeVideoInfo } from './binding.js';

export interface VideoInfo extends NativeVideoInfo {
  backend: BackendName;
  /** Size after rotation: width and height swap for 90 and 270 degrees. */
  displayWidth: number;
  displayHeight: number;
}

export function toVideoInfo(info: NativeVideoInfo, backend: BackendName): VideoInfo {
  const [displayWidth, displayHeight] = rotatedSize(info.width, info.height, info.rotation);
  return { ...info, backend, displayWidth, displayHeight };
}

/** The size of a width x height image turned `rotation` degrees clockwise. */
export function rotatedSize(width: number, height: number, rotation: number): [number, number] {
  return rotation % 180 === 0 ? [width, height] : [height, width];
}
