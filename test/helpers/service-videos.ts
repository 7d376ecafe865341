/**
 * Videos the service tests need beyond the engine fixtures: a clip long and
 * large enough that a job runs for a few seconds, so a test can kill a
 * worker or the server while a task is being worked on.
 */

import { fixedGop, testsrc2, x264 } from './fixtures.js';
import type { MadeFile } from './made-file.js';

/** 20 s of 1280x720 at 30 fps: a PNG job at 1 s intervals takes seconds. */
export const longClip: MadeFile = {
  name: 'service-long-720p',
  ext: 'mp4',
  encoder: 'libx264',
  encode: [...testsrc2(1280, 720, 30, 20), ...x264(), ...fixedGop(60), '-pix_fmt', 'yuv420p'],
};

export const serviceVideos: readonly MadeFile[] = [longClip];
