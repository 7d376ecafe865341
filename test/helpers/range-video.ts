/**
 * The video of the range-read test: 5 minutes of 1280x720 at 25 fps, about
 * 112 MB, its index (moov) at the end as ffmpeg writes it by default, so a
 * reader must fetch the end of the file before any frame. testsrc2 with
 * temporal noise gives keyframes and other frames real sizes (a keyframe is
 * about 107 KB, another frame 14 KB); constant-bit-rate x264 (filler
 * included) fixes the size at 3 Mbit/s whatever the content. ultrafast
 * makes it in well under a minute. Keyframes every 2 s, fixed.
 */

import { fixedGop, testsrc2 } from './fixtures.js';
import type { MadeFile } from './made-file.js';

export const rangeReadVideo: MadeFile = {
  name: 'mp4-5min-720p-cbr',
  ext: 'mp4',
  encoder: 'libx264',
  encode: [
    ...testsrc2(1280, 720, 25, 300),
    '-vf', 'noise=alls=12:allf=t',
    '-c:v', 'libx264', '-preset', 'ultrafast',
    '-b:v', '3000k', '-minrate', '3000k', '-maxrate', '3000k', '-bufsize', '3000k', '-x264-params', 'nal-hrd=cbr',
    ...fixedGop(50), '-pix_fmt', 'yuv420p',
  ],
};

/**
 * The video of the dense range reads: the same recipe, 20 s (about 7.5 MB),
 * so that a plan that decodes nearly every frame runs in seconds.
 */
export const denseReadVideo: MadeFile = {
  ...rangeReadVideo,
  name: 'mp4-20s-720p-cbr',
  encode: rangeReadVideo.encode.map((arg) => arg.replace('duration=300', 'duration=20')),
};
