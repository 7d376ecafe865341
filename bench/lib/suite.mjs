// The engine suite behind `npm run bench` and `npm run bench:ci`: vsnap and
// its peers on generated videos, every contender a child process run the way
// a user runs it, on the same inputs and the same targets.
//
// For each input the suite first runs every case once and checks its images
// against an oracle of the timeline rule and against a peer's images
// (verify.mjs); a disagreement stops the suite before anything is timed.
// Then it times the cases round-robin, `runs` rounds, so that every figure
// of an input is measured beside its peers under the same load; ratios are
// taken between medians of the same rounds.
//
// Every timed run is a warm run, as hyperfine's --warmup makes it: this
// machine's kernel evicts pages that sit idle (DAMON reclaim), so without
// care a contender read from disk whatever had gone idle while the others
// ran. Just before each timed run, untimed:
//   - the same contender runs on the input's first 2 s (a stream copy, so
//     the same codec and settings), which brings its program, libraries and
//     decoder back into memory: vsnap's command line at 10 s on 1080p took
//     0.31-0.38 s after the fps filter's 7 s run, 0.27-0.29 s after such a
//     warm-up;
//   - the input is read whole into the page cache (one run of 1.12 s
//     against 0.35 s for the same case when the file had gone idle).
//
// A profile names the inputs, the contenders and the intervals:
//   matrix   inputs × contenders × intervals (1 s and 10 s)
//   lengths  one kind of video at several lengths, a fixed number of images
//            (interval = length ÷ images): how cost grows with length.
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ffmpegFpsContender, ffmpegKeyframesContender, ffmpegSeekContender, opencvContender, pyavContender, pyavLibraryContender,
  vsnapContender, vsnapLibraryContender,
} from './contenders.mjs';
import { speedup, summarize } from './report.mjs';
import { falseAlarms, verifyAgreement } from './verify.mjs';
import { freezeVsnapBuild } from './vsnap-build.mjs';
import { describeVideo, ensureVideo, ensureWarmupClip, probeTimeline, videoSpec } from './video.mjs';

const h264 = (height, gopSeconds, seconds) =>
  videoSpec({ codec: 'h264', width: (height * 16) / 9, height, fps: 30, gop: 30 * gopSeconds, seconds });
const vp9 = (height, gopSeconds, seconds) =>
  videoSpec({ codec: 'vp9', width: (height * 16) / 9, height, fps: 30, gop: 30 * gopSeconds, seconds });

/**
 * `peers`: which contenders run on the matrix inputs besides vsnap's two
 * modes (always there): fps (ffmpeg's fps filter), keyframes (ffmpeg
 * skip_frame nokey; H.264 only), seek (ffmpeg, a process per target), pyav, opencv,
 * wasm (vsnap keyframe mode on the wasm backend, up to 1080p), library (vsnap's
 * two modes and PyAV timed as a second call inside one process: the cost per
 * video of a program that has the library loaded, start-up left out).
 */
export const profiles = {
  full: {
    runs: 2,
    intervals: [1, 10],
    matrix: [h264(1080, 1, 60), h264(1080, 10, 60), h264(2160, 2, 20), vp9(1080, 5, 60)],
    peers: ['fps', 'keyframes', 'seek', 'pyav', 'opencv', 'wasm', 'library'],
    // 720p keeps the fps filter's pass over ten minutes of video to a minute.
    lengths: { videos: [h264(720, 2, 10), h264(720, 2, 60), h264(720, 2, 600)], images: 10, runs: 2 },
  },
  ci: {
    runs: 3,
    intervals: [1, 10],
    // One 720p minute serves both: long enough that process start-up does not decide the ratios at 10 s.
    matrix: [h264(720, 2, 60)],
    peers: ['fps', 'keyframes', 'pyav'],
    lengths: { videos: [h264(720, 2, 10), h264(720, 2, 60)], images: 5, runs: 3 },
  },
};

/**
 * Runs a profile (`runs`, when given, for the matrix and the lengths alike); resolves { inputs: [...], lengths: {...} } or throws when
 * a contender disagrees with the oracle or its peer (nothing is timed then).
 */
export async function runSuite({ repoRoot, profile, runs, log }) {
  const matrixRuns = runs ?? profile.runs;
  const lengthRuns = runs ?? profile.lengths.runs;
  const cacheDir = join(repoRoot, 'bench/.cache');
  await mkdir(cacheDir, { recursive: true });
  // Outputs and the frozen build live under bench/.cache, not the shared /tmp.
  const workDir = await mkdtemp(join(cacheDir, 'suite-'));
  const vsnapRoot = join(workDir, 'vsnap');
  try {
    await freezeVsnapBuild(repoRoot, vsnapRoot);
    const inputs = [];
    for (const spec of profile.matrix) {
      const input = await prepare(spec, cacheDir, log);
      const cases = matrixCases(input, profile, vsnapRoot, repoRoot);
      const warmups = matrixCases(input.warmup, profile, vsnapRoot, repoRoot);
      inputs.push(await measure({ input, cases, warmups, runs: matrixRuns, workDir, log }));
    }
    const series = [];
    for (const spec of profile.lengths.videos) {
      const input = await prepare(spec, cacheDir, log);
      const interval = spec.seconds / profile.lengths.images;
      const cases = lengthCases(input, interval, vsnapRoot);
      const warmups = lengthCases(input.warmup, interval, vsnapRoot);
      series.push(await measure({ input, cases, warmups, runs: lengthRuns, workDir, log }));
    }
    return { inputs, lengths: { images: profile.lengths.images, runs: lengthRuns, series } };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The input of `spec` with its oracle, and `warmup`: the same for its first 2 s. */
async function prepare(spec, cacheDir, log) {
  const { path, generated } = await ensureVideo(spec, cacheDir);
  if (generated) log(`generated ${spec.name} into bench/.cache/`);
  const label = describeVideo(spec);
  const warmupPath = await ensureWarmupClip(path);
  const warmup = { spec, label: `${label}, first 2 s`, path: warmupPath, oracle: await probeTimeline(warmupPath) };
  return { spec, label, path, oracle: await probeTimeline(path), warmup };
}

function lengthCases(input, interval, vsnapRoot) {
  return [
    { contender: vsnapContender(vsnapRoot, 'keyframe'), interval },
    { contender: vsnapContender(vsnapRoot, 'exact'), interval },
    { contender: ffmpegFpsContender(input.oracle), interval },
  ];
}

function matrixCases(input, profile, vsnapRoot, repoRoot) {
  const { oracle } = input;
  const peers = new Set(profile.peers);
  const cases = [];
  // FFmpeg's VP9 decoder ignores -skip_frame nokey (and the demuxer -discard nokey): it would decode every frame.
  if (peers.has('keyframes') && input.spec.codec !== 'vp9') cases.push({ contender: ffmpegKeyframesContender(oracle), interval: null });
  for (const interval of profile.intervals) {
    cases.push({ contender: vsnapContender(vsnapRoot, 'exact'), interval });
    cases.push({ contender: vsnapContender(vsnapRoot, 'keyframe'), interval });
    if (peers.has('wasm') && input.spec.height <= 1080) cases.push({ contender: vsnapContender(vsnapRoot, 'keyframe', 'wasm'), interval });
    if (peers.has('fps')) cases.push({ contender: ffmpegFpsContender(oracle), interval });
    if (peers.has('seek')) cases.push({ contender: ffmpegSeekContender(oracle), interval });
    if (peers.has('pyav')) cases.push({ contender: pyavContender(repoRoot), interval });
    if (peers.has('opencv')) cases.push({ contender: opencvContender(repoRoot), interval });
    if (peers.has('library')) {
      cases.push({ contender: vsnapLibraryContender(vsnapRoot, 'exact'), interval });
      cases.push({ contender: vsnapLibraryContender(vsnapRoot, 'keyframe'), interval });
      if (peers.has('pyav')) cases.push({ contender: pyavLibraryContender(repoRoot), interval });
    }
  }
  return cases;
}

/**
 * Verifies every case of one input, then times them round-robin; resolves
 * the input's results. `warmups[i]` is `cases[i]` on `input.warmup`.
 */
async function measure({ input, cases, warmups, runs, workDir, log }) {
  const label = (c) => `${c.contender.name} ${c.interval === null ? 'all keyframes' : `@ ${formatInterval(c.interval)}`}`;
  const runCase = async (c, on = input) => {
    const outDir = join(workDir, 'out', `${c.contender.name}-${c.interval ?? 'all'}`.replace(/\W+/g, '-'));
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    return c.contender.run(on.path, c.interval, outDir);
  };

  // Peers: every exact contender against vsnap exact at its interval, vsnap
  // keyframe (either backend) against ffmpeg's keyframes where they ran, else
  // against native keyframe. The peer runs first.
  const find = (name, interval) => cases.find((c) => c.contender.name === name && c.interval === interval);
  const peerOf = (c) => {
    const { name, family } = c.contender;
    if (family === 'exact' && name !== 'vsnap exact') return find('vsnap exact', c.interval);
    if (family === 'keyframe') return find('ffmpeg skip_frame nokey', null) ?? (name === 'vsnap keyframe' ? undefined : find('vsnap keyframe', c.interval));
    return undefined;
  };
  const order = [...cases].sort((a, b) => Number(peerOf(a) !== undefined) - Number(peerOf(b) !== undefined)
    || Number(a.contender.name !== 'vsnap keyframe') - Number(b.contender.name !== 'vsnap keyframe'));
  const verified = new Map();
  for (const c of order) {
    log(`${input.label}: verification run: ${label(c)}`);
    const result = await runCase(c);
    verified.set(c, { label: label(c), contender: c.contender, interval: c.interval, result, peer: verified.get(peerOf(c)) });
  }
  const reports = await verifyAgreement({ input: input.path, oracle: input.oracle, runs: order.map((c) => verified.get(c)) });
  const failed = reports.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new Error(`${input.label}: ${failed.map((r) => r.lines.join('\n')).join('\n')}\nnothing was timed`);
  }
  const verification = reports.map((r) => r.lines[0]);

  const timed = cases.map((c, i) => ({ ...c, warmup: warmups[i], runs: [], expected: verified.get(c).result.outputs.length }));
  for (let round = 1; round <= runs; round += 1) {
    for (const c of timed) {
      await runCase(c.warmup, input.warmup);
      await readWhole(input.path);
      const result = await runCase(c);
      if (result.outputs.length !== c.expected) {
        throw new Error(`${label(c)} wrote ${result.outputs.length} images in a timed run, ${c.expected} when verified`);
      }
      const alarms = falseAlarms(result.stats);
      if (alarms.length > 0) throw new Error(`${label(c)}, timed run: ${alarms.join('; ')}`);
      log(`${input.label}: run ${round}/${runs}: ${label(c)}: ${(result.wallMs / 1000).toFixed(2)} s`);
      c.runs.push(result);
    }
  }
  return {
    video: { ...input.spec, label: input.label, frames: input.oracle.frameCount, keyframes: input.oracle.keyframeIndices.length },
    runs,
    verification,
    cases: timed.map(summarize),
  };
}

/** Reads a file to its end, so that its pages are in the page cache. */
async function readWhole(path) {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    while ((await file.read(buffer, 0, buffer.length, null)).bytesRead > 0);
  } finally {
    await file.close();
  }
}

/** The summary of `contender` at `interval` in one input's results. */
export function caseOf(inputResults, contender, interval) {
  return inputResults.cases.find((s) => s.contender === contender && s.interval === interval);
}

/**
 * The ratios the targets and the CI gate read, per matrix input and
 * interval: `higher` says which way is better, `gated` whether it is a
 * figure of vsnap that the CI gate holds. Each is a ratio of medians of the
 * same rounds, so the machine's speed cancels out.
 */
export function suiteRatios(results) {
  const ratios = [];
  const add = (name, higher, value, context) => {
    if (Number.isFinite(value)) ratios.push({ name, higher, value, ...context });
  };
  for (const input of results.inputs) {
    const intervals = [...new Set(input.cases.map((s) => s.interval).filter((i) => i !== null))];
    for (const interval of intervals) {
      const at = (name) => caseOf(input, name, interval);
      const context = { video: input.video.label, interval, gated: true };
      const vs = (subject, baseline) => (at(subject) && at(baseline) ? speedup(at(baseline), at(subject)) : NaN);
      add(`keyframe vs fps filter @ ${interval} s`, true, vs('vsnap keyframe', 'ffmpeg fps filter'), context);
      add(`exact vs fps filter @ ${interval} s`, true, vs('vsnap exact', 'ffmpeg fps filter'), context);
      add(`exact vs ffmpeg seek @ ${interval} s`, true, vs('vsnap exact', 'ffmpeg seek per target'), context);
      add(`exact vs PyAV @ ${interval} s`, true, vs('vsnap exact', 'PyAV seek per target'), context);
      add(`exact vs OpenCV @ ${interval} s`, true, vs('vsnap exact', 'OpenCV seek per target'), context);
      // Start-up left out of vsnap's side (and PyAV's): informative, not gated.
      const library = { ...context, gated: false };
      add(`library call: keyframe vs fps filter @ ${interval} s`, true, vs('vsnap keyframe (library call)', 'ffmpeg fps filter'), library);
      add(`library call: exact vs fps filter @ ${interval} s`, true, vs('vsnap exact (library call)', 'ffmpeg fps filter'), library);
      add(`library call: exact vs PyAV library call @ ${interval} s`, true, vs('vsnap exact (library call)', 'PyAV (library call)'), library);
    }
  }
  const { series } = results.lengths;
  if (series.length >= 2) {
    const first = series[0];
    const last = series[series.length - 1];
    for (const name of ['vsnap keyframe', 'vsnap exact', 'ffmpeg fps filter']) {
      const time = (input) => input.cases.find((s) => s.contender === name)?.wallMs.median;
      // The fps filter's growth is ffmpeg's, shown beside vsnap's, not a figure of vsnap to gate.
      add(`${name} time, ${last.video.seconds} s ÷ ${first.video.seconds} s video, ${results.lengths.images} images`, false,
        time(last) / time(first), { video: `${first.video.label} to ${last.video.seconds} s`, interval: null, gated: name.startsWith('vsnap') });
    }
  }
  return ratios;
}

/** The issue's targets, checked on every input and interval measured. */
export function suiteTargets(results) {
  const ratios = suiteRatios(results);
  const targets = [];
  const each = (prefix, required, describe) => {
    for (const r of ratios.filter((x) => x.name.startsWith(prefix))) {
      targets.push({ name: `${describe(r)} (${r.video})`, required, measured: r.value, pass: r.value >= required });
    }
  };
  each('keyframe vs fps filter @ 10 s', 25, () => 'keyframe @ 10 s ≥ 25× ffmpeg fps filter');
  each('exact vs fps filter @ 1 s', 1.5, () => 'exact @ 1 s ≥ 1.5× ffmpeg fps filter');
  each('exact vs PyAV', 2, (r) => `exact @ ${r.interval} s ≥ 2× PyAV`);
  each('exact vs OpenCV', 1, (r) => `exact @ ${r.interval} s ahead of OpenCV`);
  // The same targets for a program that calls the library, start-up paid once.
  each('library call: keyframe vs fps filter @ 10 s', 25, () => 'library call: keyframe @ 10 s ≥ 25× ffmpeg fps filter');
  each('library call: exact vs fps filter @ 1 s', 1.5, () => 'library call: exact @ 1 s ≥ 1.5× ffmpeg fps filter');
  each('library call: exact vs PyAV', 2, (r) => `library call: exact @ ${r.interval} s ≥ 2× PyAV library call`);
  const flat = ratios.find((r) => r.name.startsWith('vsnap keyframe time'));
  if (flat) {
    // Flat: ten times the video for the same images costs at most half as much again.
    targets.push({ name: `keyframe cost flat in length: ${flat.name} ≤ 1.5`, required: 1.5, measured: flat.value, pass: flat.value <= 1.5, lowerIsBetter: true });
  }
  return targets;
}

export function formatInterval(interval) {
  return `${Number.isInteger(interval) ? interval : interval.toFixed(2)} s`;
}
