// Engine benchmark: vsnap's CLI (native backend, and the wasm backend in
// keyframe mode and exact mode at 10 s) against ffmpeg's CLI and a PyAV
// script on a generated 1080p H.264 video. Every contender runs as a child process the
// way a user runs it. The outputs are verified against an oracle and against
// each other before anything is timed; then each case runs several times,
// round-robin, and the report gives median wall time beside decode figures.
//
//   node bench/engine.mjs [--quick] [--runs N]
//
// --quick uses a 20 s video and 2 timed runs: a smoke run, not figures to quote.
// Results: bench/results/engine-<ISO date>.json and a Markdown table on stdout.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  JPEG_QUALITY, ffmpegFpsContender, ffmpegKeyframesContender, pyavContender, vsnapContender,
} from './lib/contenders.mjs';
import { machineState, versions } from './lib/machine.mjs';
import { assertGnuTime, formatCommand } from './lib/process.mjs';
import { checkTargets, findSummary, markdownTable, speedup, summarize } from './lib/report.mjs';
import { verifyAgreement } from './lib/verify.mjs';
import { assertVsnapBuilt, freezeVsnapBuild } from './lib/vsnap-build.mjs';
import { ensureSourceVideo, probeTimeline, sourceVideoSpec } from './lib/video.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(repoRoot, 'bench/.cache');
const INTERVALS = [1, 10];

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' } },
  strict: true,
});
const runs = args.runs === undefined ? (args.quick ? 2 : 3) : Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`Expected a positive integer for --runs but received ${args.runs}`);

assertGnuTime();
assertVsnapBuilt(repoRoot);

const spec = sourceVideoSpec(args.quick ? 20 : 120);
log(`source video: ${spec.name} (generated once into bench/.cache/)`);
const { path: input } = await ensureSourceVideo(spec, cacheDir);
const oracle = await probeTimeline(input);

// Outputs and the frozen vsnap build go under bench/.cache, not the shared
// /tmp, which others may clean while the benchmark runs.
await mkdir(cacheDir, { recursive: true });
const workDir = await mkdtemp(join(cacheDir, 'out-'));
const vsnapRoot = join(workDir, 'vsnap');

const fps = ffmpegFpsContender(oracle);
const exact = vsnapContender(vsnapRoot, 'exact');
const keyframe = vsnapContender(vsnapRoot, 'keyframe');
const wasmExact = vsnapContender(vsnapRoot, 'exact', 'wasm');
const wasmKeyframe = vsnapContender(vsnapRoot, 'keyframe', 'wasm');
const pyav = pyavContender(repoRoot);
const allKeyframes = ffmpegKeyframesContender(oracle);
const contenders = [exact, keyframe, wasmExact, wasmKeyframe, fps, allKeyframes, pyav];
const allKeyframesCase = { contender: allKeyframes, interval: null };
const cases = [
  ...INTERVALS.flatMap((interval) => [fps, exact, keyframe, wasmKeyframe, pyav].map((contender) => ({ contender, interval }))),
  // Exact mode on wasm decodes every frame of a GOP in one thread: at 1 s it would take minutes a run.
  { contender: wasmExact, interval: 10 },
  allKeyframesCase,
];

try {
  await freezeVsnapBuild(repoRoot, vsnapRoot);
  const machineBefore = machineState();
  const verification = await verify();
  const failed = verification.filter((v) => !v.ok);
  if (failed.length > 0) {
    console.error(`\nABORTED: ${failed.map((v) => v.label).join(', ')} disagree with the oracle or a peer; nothing was timed.`);
    process.exitCode = 1;
  } else {
    await time(verification, machineBefore);
  }
} finally {
  await rm(workDir, { recursive: true, force: true });
}

async function runCase(c) {
  const outDir = join(workDir, `${c.contender.name}-${c.interval ?? 'all'}`.replace(/\W+/g, '-'));
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  return c.contender.run(input, c.interval, outDir);
}

/** One run of every case, checked; these runs also warm the page cache. */
async function verify() {
  // Peers first: vsnap exact is the peer of the other exact contenders at its
  // interval, ffmpeg's keyframes the peer of vsnap keyframe.
  const peerOf = (c) => {
    if (c.contender === keyframe) return allKeyframesCase;
    if (c.contender === wasmKeyframe) return cases.find((p) => p.contender === keyframe && p.interval === c.interval);
    if (c.contender.family === 'exact' && c.contender !== exact) return cases.find((p) => p.contender === exact && p.interval === c.interval);
    return null;
  };
  const order = [
    allKeyframesCase,
    ...cases.filter((c) => c.contender === exact || c.contender === keyframe),
    ...cases.filter((c) => peerOf(c) && c.contender !== keyframe),
  ];
  const verified = new Map();
  for (const c of order) {
    log(`verification run: ${label(c)}`);
    const result = await runCase(c);
    verified.set(c, { label: label(c), contender: c.contender, interval: c.interval, result, peer: verified.get(peerOf(c)) });
  }
  log('comparing outputs with the oracle and with each other');
  const reports = await verifyAgreement({ input, oracle, runs: order.map((c) => verified.get(c)) });
  console.log('## Verification (before timing)\n');
  for (const report of reports) console.log(report.lines.join('\n'));
  console.log('');
  return reports.map((report, i) => ({ ...report, outputs: verified.get(order[i]).result.outputs.length }));
}

async function time(verification, machineBefore) {
  const timed = cases.map((c) => ({ ...c, runs: [] }));
  for (let round = 1; round <= runs; round += 1) {
    for (const c of timed) {
      const result = await runCase(c);
      log(`timed run ${round}/${runs}: ${label(c)}: ${(result.wallMs / 1000).toFixed(2)} s`);
      const verifiedCount = verification.find((v) => v.label === label(c)).outputs;
      if (result.outputs.length !== verifiedCount) {
        throw new Error(`${label(c)} wrote ${result.outputs.length} images in a timed run, ${verifiedCount} when verified`);
      }
      c.runs.push(result);
    }
  }
  const machineAfter = machineState();
  const summaries = timed.map(summarize);
  const names = { fps: fps.name, exact: exact.name, keyframe: keyframe.name, pyav: pyav.name, wasmKeyframe: wasmKeyframe.name };
  const targets = checkTargets(summaries, names);
  const ratios = INTERVALS.flatMap((interval) => [
    { name: `PyAV time ÷ vsnap exact time at ${interval} s`, value: speedup(findSummary(summaries, pyav.name, interval), findSummary(summaries, exact.name, interval)) },
    { name: `ffmpeg skip_frame time ÷ vsnap keyframe time at ${interval} s`, value: speedup(findSummary(summaries, allKeyframes.name, null), findSummary(summaries, keyframe.name, interval)) },
    { name: `vsnap keyframe (wasm) time ÷ vsnap keyframe (native) time at ${interval} s`, value: speedup(findSummary(summaries, wasmKeyframe.name, interval), findSummary(summaries, keyframe.name, interval)) },
  ]).concat([
    { name: 'vsnap exact (wasm) time ÷ vsnap exact (native) time at 10 s', value: speedup(findSummary(summaries, wasmExact.name, 10), findSummary(summaries, exact.name, 10)) },
  ]);
  const environment = await engineVersions();
  const options = [...(args.quick ? ['--quick'] : []), ...(args.runs ? ['--runs', String(runs)] : [])];
  const command = ['npm run bench:engine', ...(options.length ? ['--', ...options] : [])].join(' ');

  const resultsDir = join(repoRoot, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  const date = new Date().toISOString();
  const resultFile = join(resultsDir, `engine-${date.replaceAll(':', '-')}.json`);
  const video = { ...spec, frames: oracle.frameCount, keyframes: oracle.keyframeIndices.length };
  await writeFile(resultFile, `${JSON.stringify({
    date, command, quick: args.quick, runs, jpegQuality: JPEG_QUALITY, video,
    machine: { ...environment, before: machineBefore, after: machineAfter },
    commands: commandLines(), verification, cases: summaries, ratios, targets,
  }, null, 2)}\n`);

  console.log(`## Engine benchmark\n\n\`${command}\` on ${describeMachine(environment, machineBefore, machineAfter)}.`);
  console.log(`Video: ${spec.seconds} s ${spec.width}x${spec.height} ${spec.fps} fps H.264, GOP ${spec.gop}, ${spec.bFrames} B-frames `
    + `(${oracle.frameCount} frames, ${oracle.keyframeIndices.length} keyframes); JPEG quality ${JPEG_QUALITY}.\n`);
  console.log(markdownTable(summaries, fps.name, runs));
  console.log('\n¹ not reported by ffmpeg: every frame for the fps filter, every keyframe for skip_frame.\n');
  console.log(commandLines().map((c) => `- ${c.contender}: \`${c.command}\``).join('\n'));
  console.log('');
  for (const ratio of ratios) console.log(`${ratio.name}: ${ratio.value.toFixed(2)}×`);
  console.log('\n## Targets\n');
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'FAIL'} ${t.name}: ${t.measured.toFixed(2)}× (need ≥ ${t.required}×)`);
  if (args.quick) console.log('\n(--quick: a 20 s video and few runs; do not quote these figures.)');
  console.log(`\nResults: ${relative(repoRoot, resultFile)}`);
}

function commandLines() {
  return contenders.map((contender) => ({
    contender: contender.name,
    command: formatCommand(contender.command('INPUT', 'I', 'OUT')
      .map((arg) => (arg === process.execPath ? 'node' : arg.replace(`${vsnapRoot}/`, '').replace(`${repoRoot}/`, '')))),
  }));
}

async function engineVersions() {
  const built = (await stat(join(vsnapRoot, 'build/Release/vsnap.node'))).mtime.toISOString();
  return { ...(await versions(vsnapRoot)), vsnapAddonBuilt: built };
}

function describeMachine(env, before, after) {
  const load = (state) => state.loadAverage.map((l) => l.toFixed(2)).join(' ');
  return `vsnap ${env.vsnap} (addon built ${env.vsnapAddonBuilt}), ${env.cpu}, ${env.cores} cores, ${Math.round(env.memMiB / 1024)} GiB, `
    + `${env.os}, Node ${env.node}, FFmpeg ${env.ffmpeg}, ${env.pyav}`
    + ` (load average ${load(before)} before, ${load(after)} after)`;
}

function label(c) {
  return c.interval === null ? c.contender.name : `${c.contender.name} at ${c.interval} s`;
}

function log(message) {
  console.error(`[bench] ${message}`);
}
