// Videos with known shots, for measuring shot detection (issue 28): shots
// of different generated sources, each with temporal noise and motion of
// its own, joined by hard cuts or by dissolves and fades (FFmpeg's xfade),
// encoded with a fixed GOP and scene-cut keyframes off, so that no cut falls
// on a keyframe by the encoder's choice; and a long take with small motion
// (a slow pan, a moving object, noise) in which nothing must be found.
//
// The truth of each video:
//   cuts       the display index of each hard cut's first frame of the new shot
//   dissolves  each transition's span of display indices [first, last]: the
//              frames that mix both shots; a detection anywhere from
//              first - 1 to last + 1 finds it
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.mjs';

/**
 * Sources that differ from each other in colour and texture, each moving.
 * `%s` is the size, `%d` the seconds.
 */
const sources = [
  'testsrc2=size=%s:rate=30:duration=%d',
  'testsrc=size=%s:rate=30:duration=%d,hue=H=t',
  'life=size=%s:rate=30:mold=10:ratio=0.1:death_color=#202080:life_color=#f0a000,trim=duration=%d',
  'yuvtestsrc=size=%s:rate=30:duration=%d,scroll=h=0.002:v=0.001',
  'gradients=size=%s:rate=30:duration=%d:speed=0.02:c0=red:c1=navy:c2=yellow',
  'smptehdbars=size=%s:rate=30:duration=%d,scroll=h=0.003',
  'color=c=0x3a6b35:size=%s:rate=30:duration=%d,drawbox=x=t*40:y=ih/3:w=iw/5:h=ih/3:color=white:t=fill',
  'rgbtestsrc=size=%s:rate=30:duration=%d,scroll=v=0.004,hue=s=0.5',
];

/** Frames of each shot, cycling through seven lengths from 1.5 s to 4.2 s (never a multiple of the GOP). */
const shotFrames = [61, 97, 73, 126, 52, 109, 83];

/**
 * A video of `shots` shots of `width` x `height` at 30 fps: `transition`
 * 'cut' joins them all with hard cuts, 'dissolve' alternates dissolves,
 * fades through black and hard cuts (`transitionFrames` frames long).
 */
export function shotVideoSpec({ width, height, shots, transition, transitionFrames = 20 }) {
  const label = `${height}p-${shots}shots-${transition}${transition === 'cut' ? '' : transitionFrames}`;
  return { kind: 'shots', width, height, shots, transition, transitionFrames, name: `shots-${label}.mp4` };
}

/** One long take of `seconds` with small motion only: no shot boundary in it. */
export function longTakeSpec({ width, height, seconds }) {
  return { kind: 'take', width, height, seconds, name: `take-${height}p-${seconds}s.mp4` };
}

/** A short label for reports. */
export function describeShotVideo(spec) {
  if (spec.kind === 'take') return `one take, ${spec.height}p, ${spec.seconds} s`;
  const joined = spec.transition === 'cut' ? 'hard cuts' : 'dissolves, fades and cuts';
  return `${spec.shots} shots, ${joined}, ${spec.height}p`;
}

/** The shots' plan: each shot's source and frames, each join's kind, and the truth. */
export function shotTruth(spec) {
  if (spec.kind === 'take') return { shots: [], joins: [], cuts: [], dissolves: [], frames: spec.seconds * 30 };
  const shots = Array.from({ length: spec.shots }, (_, k) => ({ source: sources[k % sources.length], frames: shotFrames[k % shotFrames.length] }));
  const joins = [];
  const cuts = [];
  const dissolves = [];
  let length = shots[0].frames;
  for (let k = 1; k < shots.length; k++) {
    const kind = spec.transition === 'cut' ? 'cut' : ['dissolve', 'fadeblack', 'cut'][(k - 1) % 3];
    joins.push(kind);
    if (kind === 'cut') {
      cuts.push(length);
      length += shots[k].frames;
    } else {
      const t = spec.transitionFrames;
      // xfade mixes the last t frames of what came before with the first t of the shot.
      dissolves.push({ first: length - t, last: length - 1, kind });
      length += shots[k].frames - t;
    }
  }
  return { shots, joins, cuts, dissolves, frames: length };
}

function filterGraph(spec, truth) {
  const size = `${spec.width}x${spec.height}`;
  const lines = truth.shots.map((shot, k) => {
    const seconds = (shot.frames / 30 + 1).toFixed(3);
    const source = shot.source.replace('%s', size).replace('%d', seconds);
    return `${source},format=yuv420p,noise=alls=6:allf=t,trim=end_frame=${shot.frames},setpts=N/30/TB,settb=1/30[s${k}]`;
  });
  let current = 's0';
  let length = truth.shots[0].frames;
  truth.joins.forEach((kind, j) => {
    const k = j + 1;
    const out = `j${k}`;
    if (kind === 'cut') {
      lines.push(`[${current}][s${k}]concat=n=2:v=1:a=0,settb=1/30[${out}]`);
      length += truth.shots[k].frames;
    } else {
      const t = spec.transitionFrames;
      const transition = kind === 'dissolve' ? 'dissolve' : 'fadeblack';
      lines.push(`[${current}][s${k}]xfade=transition=${transition}:duration=${(t / 30).toFixed(6)}:offset=${((length - t) / 30).toFixed(6)},settb=1/30[${out}]`);
      length += truth.shots[k].frames - t;
    }
    current = out;
  });
  return { graph: lines.join(';'), output: current };
}

/** The video of `spec` in `cacheDir`, generated there the first time; resolves its path. */
export async function ensureShotVideo(spec, cacheDir) {
  const path = join(cacheDir, spec.name);
  if (existsSync(path)) return path;
  await mkdir(cacheDir, { recursive: true });
  const partial = `${path}.partial`;
  await rm(partial, { force: true });
  const encode = [
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', '250', '-keyint_min', '250', '-sc_threshold', '0',
    '-bf', '3', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', partial,
  ];
  if (spec.kind === 'take') {
    // A pan across a still picture with a moving object and noise: motion, no cut.
    const source = `testsrc2=size=${spec.width * 2}x${spec.height}:rate=30:duration=${spec.seconds}`;
    const pan = `crop=w=${spec.width}:h=${spec.height}:x='(iw-ow)*t/${spec.seconds}':y=0,noise=alls=6:allf=t`;
    await run(['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', source, '-vf', pan, ...encode]);
  } else {
    const { graph, output } = filterGraph(spec, shotTruth(spec));
    await run(['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-filter_complex', graph, '-map', `[${output}]`, ...encode]);
  }
  await rename(partial, path);
  return path;
}
