// `npm run bench:controls`: the sampling and output controls against what a
// user would pick instead (bench/lib/controls.mjs says what each case is and
// how it is checked before it is timed):
//   model input   16 frames at 224 x 224 RGB24 in memory, on the 1080p
//                 minutes of GOP 1 s and 10 s: vsnap against node-av, PyAV
//                 and OpenCV;
//   thumbnails    keyframes every 10 s at width 320 against full size, and
//   sprites       10 x 10 sheets of 160-wide cells every 10 s against
//                 ffmpeg's fps + scale + tile filters, on ten minutes of 720p;
//   HDR           one content as SDR and as HDR10 (HEVC Main10, 30 s of
//                 1080p): tone-mapped against SDR and unmapped, exact and
//                 keyframe @ 1 s, and ffmpeg's zscale + tonemap recipe
//                 (bench/lib/hdr.mjs).
// `npm run bench` runs it and puts its tables into docs/performance.md.
//
//   node bench/controls.mjs [--quick] [--runs N] [--only model|cli|hdr]
//
// --quick: the 720p minute of bench:ci for everything (HDR: 10 s of 720p), one run.
// --only: one of the three groups (model input; thumbnails and sprites; HDR).
// Results: bench/results/controls-<ISO date>.json and Markdown tables on stdout.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliControlsBench, controlsRatios, controlsTables, modelInputBench } from './lib/controls.mjs';
import { hdrBench, hdrSpec } from './lib/hdr.mjs';
import { assertGnuTime } from './lib/process.mjs';
import { videoSpec } from './lib/video.mjs';
import { assertVsnapBuilt, freezeVsnapBuild } from './lib/vsnap-build.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, only: { type: 'string' } },
  strict: true,
});
const runs = args.runs === undefined ? (args.quick ? 1 : 3) : Number(args.runs);
if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`Expected a positive integer for --runs but received ${args.runs}`);
if (args.only !== undefined && !['model', 'cli', 'hdr'].includes(args.only)) throw new Error(`Expected model, cli or hdr for --only but received ${args.only}`);
const measures = (group) => args.only === undefined || args.only === group;

const h264 = (height, gopSeconds, seconds) =>
  videoSpec({ codec: 'h264', width: (height * 16) / 9, height, fps: 30, gop: 30 * gopSeconds, seconds });
const modelVideos = args.quick ? [h264(720, 2, 60)] : [h264(1080, 1, 60), h264(1080, 10, 60)];
const cliVideos = args.quick ? [h264(720, 2, 60)] : [h264(720, 2, 600)];
const hdrContent = args.quick ? hdrSpec(720, 10) : hdrSpec(1080, 30);

assertGnuTime();
assertVsnapBuilt(repoRoot);
const started = Date.now();
const log = (message) => console.error(`[bench:controls ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`);
const workDir = join(tmpdir(), `vsnap-bench-controls-${process.pid}`);
const cacheDir = join(repoRoot, 'bench/.cache');
const vsnapRoot = await freezeVsnapBuild(repoRoot, join(repoRoot, 'bench/.cache/build-controls'));

const results = { date: new Date().toISOString(), command: `npm run bench:controls${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, runs, modelInput: [], cli: [] };
try {
  if (measures('model')) for (const spec of modelVideos) results.modelInput.push(await modelInputBench({ vsnapRoot, spec, cacheDir, workDir, runs, log }));
  if (measures('cli')) for (const spec of cliVideos) results.cli.push(await cliControlsBench({ vsnapRoot, spec, cacheDir, workDir, runs, log }));
  if (measures('hdr')) results.hdr = await hdrBench({ vsnapRoot, spec: hdrContent, cacheDir, workDir, runs, log });
} finally {
  await rm(workDir, { recursive: true, force: true });
}
results.ratios = controlsRatios(results, false);
results.seconds = Math.round((Date.now() - started) / 1000);

const resultsDir = join(repoRoot, 'bench/results');
await mkdir(resultsDir, { recursive: true });
const file = join(resultsDir, `controls-${results.date.replaceAll(':', '-')}.json`);
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(controlsTables(results));
for (const line of [...results.modelInput, ...results.cli, ...(results.hdr ? [results.hdr] : [])].flatMap((r) => r.checks.map((c) => `${r.video}: ${c}`))) console.log(`\n- ${line}`);
log(`results: ${relative(repoRoot, file)}`);
