/**
 * Inputs that are not a good video: files with no video (audio only, a still
 * image), and damaged copies of videos, cut short or with bytes overwritten
 * from a seeded generator so that every run damages the same bytes.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { fixedGop, testsrc2, x264 } from './fixtures.js';
import { fixturePath, scratchPath, type MadeFile } from './made-file.js';

const sine = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2'];

/** Files with sound and no video: each must be refused with VSNAP_NO_VIDEO_STREAM. */
export const audioOnlyFiles: readonly MadeFile[] = [
  { name: 'audio-aac', ext: 'm4a', encoder: 'aac', encode: [...sine, '-c:a', 'aac'] },
  { name: 'audio-vorbis', ext: 'ogg', encoder: 'libvorbis', encode: [...sine, '-c:a', 'libvorbis'] },
  { name: 'audio-flac', ext: 'mkv', encoder: 'flac', encode: [...sine, '-c:a', 'flac'] },
  {
    // A song with its cover: the only picture is an attached still, not a video.
    name: 'audio-mp3-cover',
    ext: 'mp3',
    encoder: 'libmp3lame',
    encode: [
      ...sine, '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=1:duration=1',
      '-map', '0:a', '-map', '1:v', '-frames:v', '1', '-c:a', 'libmp3lame', '-c:v', 'mjpeg',
      '-disposition:v:0', 'attached_pic',
    ],
  },
];

/** A still image, which FFmpeg can open but which is no video. */
export const stillImage: MadeFile = {
  name: 'still',
  ext: 'png',
  encoder: 'png',
  encode: [...testsrc2(320, 240, 1, 1), '-frames:v', '1'],
};

/** An MP4 with its index (moov) before the media data, so that its first half still has the index. */
export const faststartMp4: MadeFile = {
  name: 'mp4-faststart',
  ext: 'mp4',
  encoder: 'libx264',
  encode: [...testsrc2(320, 240, 30, 4), ...x264(), ...fixedGop(30), '-pix_fmt', 'yuv420p', '-movflags', '+faststart'],
};

/**
 * A decompression bomb of time: a 3 kB file of two 64x48 frames 1,000,000 s
 * apart, so that it declares a video of 11.6 days, a million targets at 1 s.
 */
export const longDeclaredVideo: MadeFile = {
  name: 'bomb-long',
  ext: 'mkv',
  encoder: 'libx264',
  encode: [...testsrc2(64, 48, 1, 2), '-vf', 'setpts=N*1000000/TB', '-fps_mode', 'passthrough', ...x264(), '-pix_fmt', 'yuv420p'],
};

/** A bomb of space: one black 12000x12000 frame, 0.4 MB of file for 144 megapixels (432 MB as RGB). */
export const hugeFrameVideo: MadeFile = {
  name: 'bomb-huge-frame',
  ext: 'mp4',
  encoder: 'libx264',
  encode: ['-f', 'lavfi', '-i', 'color=black:s=12000x12000:d=0.04', '-frames:v', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
};

/** Every file above, for the global setup to make. */
export const badInputSources: readonly MadeFile[] = [...audioOnlyFiles, stillImage, faststartMp4, longDeclaredVideo, hugeFrameVideo];

/** The first `fraction` of the file's bytes. */
export async function truncatedBytes(file: MadeFile, fraction: number): Promise<Buffer> {
  const bytes = await readFile(await fixturePath(file));
  return bytes.subarray(0, Math.floor(bytes.length * fraction));
}

/** The first `fraction` of the file, written to test/.fixtures/ under `name`. */
export async function truncatedFile(file: MadeFile, fraction: number, name: string): Promise<string> {
  const path = await scratchPath(name);
  await writeFile(path, await truncatedBytes(file, fraction));
  return path;
}

/** A file of test/.fixtures/ with these contents. */
export async function scratchFile(name: string, contents: string | Uint8Array): Promise<string> {
  const path = await scratchPath(name);
  await writeFile(path, contents);
  return path;
}

/**
 * An MP4 of H.264 whose sample description (the avc1 entry of its stsd box)
 * declares `width` x `height` while its stream's parameter sets, which the
 * decoder follows, keep the frame size the file was made with.
 */
export async function understatedSizeBytes(file: MadeFile, width: number, height: number): Promise<Buffer> {
  const bytes = Buffer.from(await readFile(await fixturePath(file)));
  const stsd = bytes.indexOf('stsd');
  const entry = stsd < 0 ? -1 : bytes.indexOf('avc1', stsd);
  if (entry < 0) throw new Error(`${file.name}: no avc1 sample description`);
  // After the entry's type: 6 reserved bytes, data reference index, 16 bytes of predefined and reserved fields.
  bytes.writeUInt16BE(width, entry + 4 + 24);
  bytes.writeUInt16BE(height, entry + 4 + 26);
  return bytes;
}

/**
 * The file with `runs` runs of 1-32 random bytes written over its middle
 * half (the container's header and index at either end stay intact more
 * often than not, so the damage reaches the demuxer and the decoder).
 */
export async function corruptedBytes(file: MadeFile, seed: number, runs: number): Promise<Buffer> {
  const bytes = Buffer.from(await readFile(await fixturePath(file)));
  const random = mulberry32(seed);
  const from = Math.floor(bytes.length / 4);
  const span = Math.floor(bytes.length / 2);
  for (let r = 0; r < runs; r++) {
    const at = from + Math.floor(random() * span);
    const length = 1 + Math.floor(random() * 32);
    for (let i = at; i < Math.min(at + length, bytes.length); i++) bytes[i] = Math.floor(random() * 256);
  }
  return bytes;
}

/** Seeded uniform numbers in [0, 1): mulberry32, small and good enough for test damage. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
