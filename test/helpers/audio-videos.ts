/**
 * Videos with an audio track beside the picture, as most real files are, in
 * every container vsnap reads: the picture is the fixtures' moving pattern,
 * the audio a tone in the codec that container usually carries. Made once by
 * the global setup, like the fixtures.
 */

import { fixedGop, testsrc2, x264 } from './fixtures.js';
import type { MadeFile } from './made-file.js';

const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=4'];
const picture = testsrc2(320, 240, 30, 4);
/** The picture, then the tone: one video stream and one audio stream, cut to the shorter. */
const both = (video: readonly string[], audio: readonly string[]) => [
  ...picture, ...tone, '-map', '0:v', '-map', '1:a', ...video, ...audio, '-shortest',
];
const h264 = [...x264(), '-bf', '2', ...fixedGop(30), '-pix_fmt', 'yuv420p'];

export const audioVideos: readonly MadeFile[] = [
  { name: 'av-avi-mpeg4-mp3', ext: 'avi', encoder: 'libmp3lame', encode: both(['-c:v', 'mpeg4', '-q:v', '4', '-g', '30'], ['-c:a', 'libmp3lame']) },
  { name: 'av-mpg-mpeg2-mp2', ext: 'mpg', encoder: 'mp2', encode: both(['-c:v', 'mpeg2video', '-q:v', '4', '-g', '15'], ['-c:a', 'mp2']) },
  { name: 'av-flv-h264-aac', ext: 'flv', encoder: 'aac', encode: both(h264, ['-c:a', 'aac']) },
  { name: 'av-ts-h264-ac3', ext: 'ts', encoder: 'ac3', encode: both(h264, ['-c:a', 'ac3']) },
  { name: 'av-wmv-wmv2-wmav2', ext: 'wmv', encoder: 'wmav2', encode: both(['-c:v', 'wmv2', '-q:v', '4', '-g', '30'], ['-c:a', 'wmav2']) },
  { name: 'av-ogv-theora-vorbis', ext: 'ogv', encoder: 'libvorbis', encode: both(['-c:v', 'libtheora', '-q:v', '6', '-g', '30'], ['-c:a', 'libvorbis']) },
  { name: 'av-mp4-h264-aac', ext: 'mp4', encoder: 'aac', encode: both(h264, ['-c:a', 'aac']) },
  { name: 'av-mkv-h264-opus', ext: 'mkv', encoder: 'libopus', encode: both(h264, ['-c:a', 'libopus']) },
];
