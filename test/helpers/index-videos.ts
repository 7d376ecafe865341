/**
 * MP4s the index-plan test needs beyond the engine fixtures: one planned
 * from its index with a sound track interleaved, and two that keyframe mode
 * must scan: one whose index alone rules it out (fragmented: the moov lists
 * no sample), one found out only by reading (x264's open GOPs, whose
 * keyframes are I-frames but not IDR pictures).
 */

import { fixedGop, testsrc2, x264 } from './fixtures.js';
import type { MadeFile } from './made-file.js';

export interface IndexVideo extends MadeFile {
  /** How keyframe mode must plan it. */
  planning: 'index' | 'scan';
  intervals: readonly number[];
}

export const indexVideos: readonly IndexVideo[] = [
  {
    name: 'mp4-with-sound',
    ext: 'mp4',
    encoder: 'libx264',
    encode: [
      ...testsrc2(320, 240, 30, 6), '-f', 'lavfi', '-i', 'sine=frequency=440:duration=6',
      ...x264(), '-bf', '3', ...fixedGop(40), '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    ],
    planning: 'index',
    intervals: [1, 2.5],
  },
  {
    name: 'mp4-fragmented',
    ext: 'mp4',
    encoder: 'libx264',
    encode: [
      ...testsrc2(320, 240, 30, 4), ...x264(), '-bf', '2', ...fixedGop(30), '-pix_fmt', 'yuv420p',
      '-movflags', 'frag_keyframe+empty_moov',
    ],
    planning: 'scan',
    intervals: [1],
  },
  {
    name: 'mp4-x264-open-gop',
    ext: 'mp4',
    encoder: 'libx264',
    encode: [
      ...testsrc2(320, 240, 30, 4),
      ...x264('open-gop=1', 'b-pyramid=normal', 'keyint=40', 'min-keyint=40', 'scenecut=0'),
      '-bf', '3', '-pix_fmt', 'yuv420p',
    ],
    planning: 'scan',
    intervals: [1],
  },
];
