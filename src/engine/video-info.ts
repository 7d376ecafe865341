/**
 * What vsnap tells about a video: the backend's metadata, the backend's name,
 * and the size an image has once rotated upright.
 */

import type { BackendName } from './backend.js';
import type { NativePlannedInfo, NativeVideoInfo } from './binding.js';

interface Described {
  backend: BackendName;
  /** Size after rotation: width and height swap for 90 and 270 degrees. */
  displayWidth: number;
  displayHeight: number;
}

/** What probe() tells. */
export interface VideoInfo extends NativeVideoInfo, Described {}

/**
 * What a snapshot run's plan tells: VideoInfo, except for what the plan did
 * not need to learn, which is null: every keyframe and whether the frame
 * rate varies, where the run planned from an MP4/MOV index (reading only
 * the packets it needs); the pixel format, where an MP4/MOV's
 * or a Matroska/WebM file's header describes the video and the streams were
 * not probed (which decodes the first frames).
 */
export type PlannedVideoInfo = NativePlannedInfo & Described;

export function toVideoInfo<T extends NativePlannedInfo>(info: T, backend: BackendName): T & Described {
  const [displayWidth, displayHeight] = rotatedSize(info.width, info.height, info.rotation);
  return { ...info, backend, displayWidth, displayHeight };
}

/** The size of a width x height image turned `rotation` degrees clockwise. */
export function rotatedSize(width: number, height: number, rotation: number): [number, number] {
  return rotation % 180 === 0 ? [width, height] : [height, width];
}
