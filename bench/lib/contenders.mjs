// Every contender behind one interface, each run from the command line the
// way a user runs it (process start-up included), except the "library call"
// ones, which time a call inside a process that made one already:
//   { name, family, command(input, interval, outDir) → argv,
//     run(input, interval, outDir) → { outputs: [{ path, frameTime?, frameIndex? }],
//                                       framesDecoded, framesDecodedSource, stats?,
//                                       wallMs, cpuMs, peakRssKiB } }
// `family` names the rule a contender's outputs follow: 'exact' (one frame per
// target), 'keyframe' (vsnap's keyframe mode) or 'all-keyframes' (every
// keyframe, no interval). `framesDecodedSource` says where framesDecoded comes
// from: the contender's own report, or the oracle for ffmpeg, which reports
// no decode count.
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatCommand, runMeasured } from './process.mjs';

/** JPEG quality on the libjpeg scale, for vsnap and Pillow. */
export const JPEG_QUALITY = 80;
// ffmpeg's mjpeg quantiser scale has no libjpeg equivalent: -q:v 4 gives
// files of about the size Pillow writes at quality 80 for the test video.
const FFMPEG_QSCALE = '4';

/** `vsnapRoot`: the package to run, with bin/, dist/ and build/ (vsnap-build.mjs). */
export function vsnapContender(vsnapRoot, mode, backend = 'native') {
  const command = (input, interval, outDir) => [
    process.execPath, join(vsnapRoot, 'bin/vsnap'), 'extract', input,
    '--interval', String(interval), '--format', 'jpg', '--quality', String(JPEG_QUALITY),
    '--mode', mode, '--backend', backend, '--out', outDir, '--json',
  ];
  return {
    name: backend === 'native' ? `vsnap ${mode}` : `vsnap ${mode} (${backend})`,
    family: mode,
    command,
    async run(input, interval, outDir) {
      const argv = command(input, interval, outDir);
      const { stdout, wallMs, cpuMs, peakRssKiB } = await runMeasured(argv, { cwd: vsnapRoot });
      return vsnapResult(parseJsonLine(stdout, argv), vsnapRoot, { wallMs, cpuMs, peakRssKiB });
    },
  };
}

/**
 * vsnap as a library: one snapshotToFiles() call timed in a process that has
 * made one already (library-call.mjs). wallMs and cpuMs are that call's;
 * peakRssKiB is the process's.
 */
export function vsnapLibraryContender(vsnapRoot, mode) {
  const script = new URL('./library-call.mjs', import.meta.url).pathname;
  const command = (input, interval, outDir) => [
    process.execPath, script, vsnapRoot, input,
    '--interval', String(interval), '--mode', mode, '--quality', String(JPEG_QUALITY), '--out', outDir,
  ];
  return {
    name: `vsnap ${mode} (library call)`,
    family: mode,
    command,
    async run(input, interval, outDir) {
      const argv = command(input, interval, outDir);
      const { stdout, peakRssKiB } = await runMeasured(argv, { cwd: vsnapRoot });
      const report = parseJsonLine(stdout, argv);
      return vsnapResult(report, vsnapRoot, { wallMs: report.call.wall_ms, cpuMs: report.call.cpu_ms, peakRssKiB });
    },
  };
}

/** A contender's result from the CLI's `--json` line (library-call.mjs prints the same shape). */
function vsnapResult(report, vsnapRoot, { wallMs, cpuMs, peakRssKiB }) {
  if (report.usage?.image_count !== report.data.length) {
    throw new Error(`vsnap: usage.image_count ${report.usage?.image_count} but ${report.data.length} entries in data`);
  }
  return {
    outputs: report.data.map((d) => ({ path: resolve(vsnapRoot, d.path), frameTime: d.frame_time, frameIndex: d.frame_index })),
    framesDecoded: report.stats.framesDecoded,
    framesDecodedSource: 'reported',
    stats: report.stats,
    wallMs,
    cpuMs,
    peakRssKiB,
  };
}

/**
 * The fps filter. `round=up` makes it pick, for output k, the last frame with
 * time <= k * interval, which is vsnap's exact rule; the default (round=near)
 * picks the last frame before (k + 0.5) * interval. The cost is the same:
 * every frame is decoded either way.
 */
export function ffmpegFpsContender(oracle) {
  const command = (input, interval, outDir) => [
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-i', input,
    '-vf', `fps=fps=1/${interval}:round=up`, '-q:v', FFMPEG_QSCALE, join(outDir, 'frame_%d.jpg'),
  ];
  return ffmpegContender('ffmpeg fps filter', 'exact', command, () => oracle.frameCount);
}

/** Every keyframe: the decoder skips all other frames. */
export function ffmpegKeyframesContender(oracle) {
  const command = (input, _interval, outDir) => [
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-skip_frame', 'nokey', '-i', input,
    '-fps_mode', 'passthrough', '-q:v', FFMPEG_QSCALE, join(outDir, 'key_%d.jpg'),
  ];
  return ffmpegContender('ffmpeg skip_frame nokey', 'all-keyframes', command, () => oracle.keyframeIndices.length);
}

/**
 * One ffmpeg process per target, seeking on the input (`-ss` before `-i`:
 * to the keyframe at or before the time, then decoding forward to it), the
 * way a shell script extracts frames at given times. The targets are the
 * oracle's (t_k = k × interval before the end of the last frame); the
 * processes run one after the other. ffmpeg keeps the first frame at or
 * after the time asked, which is vsnap's frame where a target falls on a
 * frame, as every target does in these videos (integer frame rates).
 */
export function ffmpegSeekContender(oracle) {
  const seekCommand = (input, time, output) => [
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-ss', String(time), '-i', input,
    '-frames:v', '1', '-q:v', FFMPEG_QSCALE, output,
  ];
  return {
    name: 'ffmpeg seek per target',
    family: 'exact',
    command: (input, interval, outDir) => seekCommand(input, `K×${interval}`, join(outDir, 'snapshot_K.jpg')),
    async run(input, interval, outDir) {
      await mkdir(outDir, { recursive: true });
      const count = oracle.exactPlan(interval).length;
      const outputs = [];
      let wallMs = 0;
      let cpuMs = 0;
      let peakRssKiB = 0;
      for (let k = 0; k < count; k += 1) {
        const path = join(outDir, `snapshot_${k}.jpg`);
        const measured = await runMeasured(seekCommand(input, Number((k * interval).toFixed(3)), path));
        wallMs += measured.wallMs;
        cpuMs += measured.cpuMs;
        peakRssKiB = Math.max(peakRssKiB, measured.peakRssKiB);
        outputs.push({ path });
      }
      return { outputs, framesDecoded: null, framesDecodedSource: 'unknown', wallMs, cpuMs, peakRssKiB };
    },
  };
}

/** bench/peers/opencv_snapshot.py: OpenCV's VideoCapture, seeking by CAP_PROP_POS_MSEC for every target. */
export function opencvContender(repoRoot) {
  return pythonPeer('OpenCV seek per target', join(repoRoot, 'bench/peers/opencv_snapshot.py'));
}

/** bench/peers/pyav_snapshot.py: a seek for every target, then decode forward to it. */
export function pyavContender(repoRoot) {
  return pythonPeer('PyAV seek per target', join(repoRoot, 'bench/peers/pyav_snapshot.py'));
}

/** The same script with --warm: its second extraction in one process, as vsnapLibraryContender. */
export function pyavLibraryContender(repoRoot) {
  return pythonPeer('PyAV (library call)', join(repoRoot, 'bench/peers/pyav_snapshot.py'), ['--warm']);
}

/**
 * A peer script printing {"outputs": [{"frame_time", "path"}], "frames_decoded", "seeks"},
 * and "call": {"wall_ms", "cpu_ms"} when `extraArgs` ask it to time a call of its own.
 */
function pythonPeer(name, script, extraArgs = []) {
  const command = (input, interval, outDir) => [
    '/usr/bin/python3', script, input, '--interval', String(interval), '--quality', String(JPEG_QUALITY), '--out', outDir,
    ...extraArgs,
  ];
  const warm = extraArgs.includes('--warm');
  return {
    name,
    family: 'exact',
    command,
    async run(input, interval, outDir) {
      const argv = command(input, interval, outDir);
      const measured = await runMeasured(argv);
      const report = parseJsonLine(measured.stdout, argv);
      if (warm && report.call === undefined) throw new Error(`${formatCommand(argv)} timed no call of its own`);
      return {
        outputs: report.outputs.map((o) => ({ path: o.path, frameTime: o.frame_time })),
        framesDecoded: report.frames_decoded,
        framesDecodedSource: 'reported',
        stats: { seeks: report.seeks, framesDecoded: report.frames_decoded },
        wallMs: warm ? report.call.wall_ms : measured.wallMs,
        cpuMs: warm ? report.call.cpu_ms : measured.cpuMs,
        peakRssKiB: measured.peakRssKiB,
      };
    },
  };
}

function ffmpegContender(name, family, command, framesDecoded) {
  return {
    name,
    family,
    command,
    async run(input, interval, outDir) {
      const { wallMs, cpuMs, peakRssKiB } = await runMeasured(command(input, interval, outDir));
      const files = (await readdir(outDir)).filter((f) => f.endsWith('.jpg'));
      const numberOf = (file) => Number(file.match(/_(\d+)\.jpg$/)[1]);
      files.sort((a, b) => numberOf(a) - numberOf(b));
      return {
        outputs: files.map((f) => ({ path: join(outDir, f) })),
        framesDecoded: framesDecoded(),
        framesDecodedSource: 'oracle',
        wallMs,
        cpuMs,
        peakRssKiB,
      };
    },
  };
}

function parseJsonLine(stdout, argv) {
  const lines = stdout.trim().split('\n');
  if (lines.length !== 1 || !lines[0].startsWith('{')) {
    throw new Error(`expected one JSON line on stdout of ${formatCommand(argv)}, got:\n${stdout.slice(0, 2000)}`);
  }
  return JSON.parse(lines[0]);
}
