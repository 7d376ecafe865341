// The benchmark's source video, generated once and cached, and an oracle of
// vsnap's timeline rule built independently of every contender, from the
// packet list the demuxer reports (no decoding):
//   origin     = pts of the first displayed frame
//   frame_time = pts - origin
//   targets    t_k = k * interval while t_k < end of the last frame
//   exact      for each t_k the last frame with frame_time <= t_k
//   keyframe   for each t_k the nearest keyframe (the earlier on a tie), each once
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.mjs';

/**
 * 1080p30 H.264 with GOP 250 and 3 B-frames. testsrc2 moves every frame and
 * the temporal noise makes each frame differ from its neighbours, so a frame
 * picked one off is caught by the image comparison; the rate cap keeps the
 * bitrate near what a camera or a web video has.
 */
export function sourceVideoSpec(seconds) {
  return videoSpec({ codec: 'h264', width: 1920, height: 1080, fps: 30, gop: 250, bFrames: 3, seconds });
}

/**
 * A generated test video: testsrc2 with temporal noise (see above), H.264
 * (x264, B-frames, in MP4) or VP9 (libvpx, in WebM), a fixed GOP of `gop`
 * frames. The name says all of it, so a cached file is the same video.
 */
export function videoSpec({ codec, width, height, fps, gop, bFrames = codec === 'h264' ? 3 : 0, seconds }) {
  const label = height >= 2160 ? '4k' : `${height}p`;
  const ext = codec === 'vp9' ? 'webm' : 'mp4';
  const name = codec === 'h264' && gop === 250 && bFrames === 3 && height === 1080
    ? `testsrc2-noise-1080p30-${seconds}s-g250-bf3.mp4`
    : `testsrc2-noise-${codec}-${label}${fps}-${seconds}s-g${gop}${bFrames ? `-bf${bFrames}` : ''}.${ext}`;
  return { codec, width, height, fps, gop, bFrames, seconds, name };
}

/** A short label for reports: `H.264 1080p, GOP 1 s, 30 s`. */
export function describeVideo(spec) {
  const codec = spec.codec === 'vp9' ? 'VP9' : 'H.264';
  const size = spec.height >= 2160 ? '4K' : `${spec.height}p`;
  return `${codec} ${size}, GOP ${formatSeconds(spec.gop / spec.fps)}, ${formatSeconds(spec.seconds)}`;
}

function formatSeconds(seconds) {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

function encoderArgs(spec) {
  // Bitrates of a camera or a web video of that size.
  const maxrate = spec.height >= 2160 ? '25M' : spec.height >= 1080 ? '8M' : '4M';
  if (spec.codec === 'vp9') {
    return [
      '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1',
      '-b:v', maxrate, '-g', String(spec.gop), '-keyint_min', String(spec.gop), '-f', 'webm',
    ];
  }
  return [
    '-c:v', 'libx264', '-preset', spec.height >= 2160 || spec.seconds > 120 ? 'ultrafast' : 'veryfast',
    '-crf', '23', '-maxrate', maxrate, '-bufsize', '16M',
    '-g', String(spec.gop), '-keyint_min', String(spec.gop), '-sc_threshold', '0', '-bf', String(spec.bFrames),
    '-movflags', '+faststart', '-f', 'mp4',
  ];
}

export async function ensureSourceVideo(spec, cacheDir) {
  return ensureVideo(spec, cacheDir);
}

/** The video of `spec` in `cacheDir`, generated there the first time. */
export async function ensureVideo(spec, cacheDir) {
  const path = join(cacheDir, spec.name);
  if (existsSync(path)) return { path, generated: false };
  await mkdir(cacheDir, { recursive: true });
  const partial = `${path}.partial`;
  await rm(partial, { force: true });
  await run([
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.seconds}`,
    '-vf', 'noise=alls=12:allf=t', ...encoderArgs(spec), '-pix_fmt', 'yuv420p', partial,
  ]);
  await rename(partial, path);
  return { path, generated: true };
}

/**
 * The first 2 s of the video at `path`, stream-copied beside it (same codec
 * and settings, nothing re-encoded): what the suite runs a contender on,
 * untimed, just before timing it on the whole video.
 */
export async function ensureWarmupClip(path) {
  const clip = path.replace(/(\.\w+)$/, '-first-2s$1');
  if (existsSync(clip)) return clip;
  const partial = `${clip}.partial`;
  await run([
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', path,
    '-t', '2', '-map', '0:v:0', '-c', 'copy', '-f', path.endsWith('.webm') ? 'webm' : 'mp4', partial,
  ]);
  await rename(partial, clip);
  return clip;
}

/** The service benchmarks' clip: 10 s of 1280x720 30 fps H.264 (GOP 60, 3 B-frames), generated once. */
export async function ensureClip720p(cacheDir) {
  const path = join(cacheDir, 'testsrc2-noise-720p30-10s-g60-bf3.mp4');
  if (existsSync(path)) return path;
  await mkdir(cacheDir, { recursive: true });
  const partial = `${path}.partial`;
  await run([
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=10', '-vf', 'noise=alls=12:allf=t',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-maxrate', '4M', '-bufsize', '8M',
    '-g', '60', '-bf', '3', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', partial,
  ]);
  await rename(partial, path);
  return path;
}

/** Reads the video stream's packets and builds the oracle. */
export async function probeTimeline(path) {
  const { stdout } = await run([
    'ffprobe', '-v', 'error', '-select_streams', 'v:0',
    '-show_entries', 'stream=time_base,width,height:packet=pts,duration,flags', '-of', 'json', path,
  ]);
  const probe = JSON.parse(stdout);
  const stream = probe.streams[0];
  const [num, den] = stream.time_base.split('/').map(BigInt);
  const frames = probe.packets
    .filter((p) => !p.flags.includes('D'))
    .map((p) => ({ pts: BigInt(p.pts), duration: BigInt(p.duration), key: p.flags.includes('K') }))
    .sort((a, b) => (a.pts < b.pts ? -1 : a.pts > b.pts ? 1 : 0));
  return new TimelineOracle({ timeBase: { num, den }, width: stream.width, height: stream.height, frames });
}

/**
 * Times are compared exactly: interval is taken in milliseconds, and a frame
 * time (pts - origin) * num / den is compared with k * ms / 1000 after
 * scaling both sides by 1000 * den.
 */
export class TimelineOracle {
  constructor({ timeBase, width, height, frames }) {
    this.timeBase = timeBase;
    this.width = width;
    this.height = height;
    this.frames = frames;
    this.origin = frames[0].pts;
    this.end = frames.reduce((end, f) => (f.pts + f.duration > end ? f.pts + f.duration : end), 0n);
    this.keyframeIndices = frames.flatMap((f, i) => (f.key ? [i] : []));
  }

  get frameCount() {
    return this.frames.length;
  }

  frameTime(index) {
    return Number(this.frames[index].pts - this.origin) * Number(this.timeBase.num) / Number(this.timeBase.den);
  }

  /** Display indices, one per target. */
  exactPlan(interval) {
    const plan = [];
    let index = 0;
    for (const target of this.#targets(interval)) {
      while (index + 1 < this.frames.length && this.#scaled(index + 1) <= target) index += 1;
      plan.push(index);
    }
    return plan;
  }

  /** Display indices of keyframes, in order, each once. */
  keyframePlan(interval) {
    const plan = [];
    for (const target of this.#targets(interval)) {
      let best = this.keyframeIndices[0];
      for (const index of this.keyframeIndices) {
        const distance = abs(this.#scaled(index) - target);
        if (distance < abs(this.#scaled(best) - target)) best = index;
      }
      if (plan[plan.length - 1] !== best) plan.push(best);
    }
    return plan;
  }

  #scaled(index) {
    return (this.frames[index].pts - this.origin) * this.timeBase.num * 1000n;
  }

  *#targets(interval) {
    const stepMs = BigInt(Math.round(interval * 1000));
    const limit = (this.end - this.origin) * this.timeBase.num * 1000n;
    for (let k = 0n; k * stepMs * this.timeBase.den < limit; k += 1n) yield k * stepMs * this.timeBase.den;
  }
}

function abs(value) {
  return value < 0n ? -value : value;
}
