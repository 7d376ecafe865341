// `npm run bench`: the whole performance picture in one run.
//
//   1. the engine suite (bench/lib/suite.mjs, profile `full`): vsnap against
//      the ffmpeg CLI (fps filter, keyframes only, one process per target),
//      PyAV and OpenCV on 1080p and 4K H.264 and 1080p VP9, GOPs of 1 to
//      10 s, at 1 s and 10 s; and the cost of length, 10 s to 10 min;
//   2. the HTTP benchmark (bench/http.mjs): task-status and async-create
//      throughput and latency percentiles, and the sync call's overhead;
//   3. the queue benchmark (bench/queue.mjs): tasks per minute through
//      Redis with 1 and 2 worker nodes;
//   4. the remote-read benchmark (bench/remote.mjs): bytes and requests of
//      a video read by URL and through the service from an S3-protocol
//      server, per mode and interval;
//   5. the controls benchmark (bench/controls.mjs): frames for a model
//      against node-av, PyAV and OpenCV, thumbnails at width 320 against
//      full size, sprite sheets against ffmpeg's tile filter.
// Then it writes bench/results/<ISO date>.json (every figure and run),
// <ISO date>.md (the report) and <ISO date>.svg (the chart), and the docs
// (bench/lib/docs.mjs): the chart to docs/bench/chart.svg, the report into
// docs/performance.md and a summary into README.md, each between its marks.
//
//   node bench/run.mjs [--quick] [--runs N] [--engine-only] [--no-readme]
//   node bench/run.mjs --from bench/results/<ISO date>.json
//
// --from measures nothing: it writes the docs again from a results file of
// an earlier run (after a hand edit lost a generated section, say).
// --quick runs the short `ci` profile and the quick HTTP benchmark, and
// leaves the docs alone: a smoke run, not figures to quote; so does
// --no-readme.
// bench/load.mjs (minutes of mixed traffic) and bench/engine.mjs (issue 2's
// fixed comparison) are run on their own.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { drawChart } from './lib/chart.mjs';
import { markdownReport, writeDocs } from './lib/docs.mjs';
import { machineState, versions } from './lib/machine.mjs';
import { assertGnuTime } from './lib/process.mjs';
import { profiles, runSuite, suiteRatios, suiteTargets } from './lib/suite.mjs';
import { assertVsnapBuilt } from './lib/vsnap-build.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(repoRoot, 'bench/results');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'engine-only': { type: 'boolean', default: false },
    'no-readme': { type: 'boolean', default: false },
    from: { type: 'string' },
  },
  strict: true,
});
const profile = args.quick ? profiles.ci : profiles.full;
const runs = args.runs === undefined ? undefined : Number(args.runs);
if (runs !== undefined && !(Number.isInteger(runs) && runs >= 1)) throw new Error(`Expected a positive integer for --runs but received ${args.runs}`);

if (args.from !== undefined) {
  const results = JSON.parse(await readFile(args.from, 'utf8'));
  await writeDocs(repoRoot, results, drawChart(results));
  console.error(`updated docs/bench/chart.svg, docs/performance.md and the performance summary of README.md from ${args.from}`);
  process.exit(0);
}

assertGnuTime();
assertVsnapBuilt(repoRoot);
const started = Date.now();
const log = (message) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`);

const date = new Date().toISOString();
const machineBefore = machineState();
const engine = await runSuite({ repoRoot, profile, runs, log });
const results = {
  date,
  command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  profile: args.quick ? 'ci' : 'full',
  machine: { ...(await versions(repoRoot, { opencv: profile.peers.includes('opencv') })), before: machineBefore },
  engine,
  ratios: suiteRatios(engine),
  targets: suiteTargets(engine),
};
if (!args['engine-only']) {
  results.http = await childBenchmark('http', ['bench/http.mjs', ...(args.quick ? ['--quick'] : [])]);
  results.queue = await childBenchmark('queue', ['bench/queue.mjs', ...(args.quick ? ['--tasks', '10'] : [])]);
  results.remote = await childBenchmark('remote', ['bench/remote.mjs', ...(args.quick ? ['--quick'] : [])]);
  results.controls = await childBenchmark('controls', ['bench/controls.mjs', ...(args.quick ? ['--quick'] : [])]);
}
results.machine.after = machineState();
results.seconds = Math.round((Date.now() - started) / 1000);

await mkdir(resultsDir, { recursive: true });
const stem = join(resultsDir, date.replaceAll(':', '-'));
const report = markdownReport(results, `${basename(stem)}.svg`);
const chart = drawChart(results);
await writeFile(`${stem}.json`, `${JSON.stringify(results, null, 2)}\n`);
await writeFile(`${stem}.md`, report);
await writeFile(`${stem}.svg`, chart);
log(`results: ${relative(repoRoot, stem)}.{json,md,svg}`);
if (!args.quick && !args['no-readme']) {
  await writeDocs(repoRoot, results, chart);
  log('updated docs/bench/chart.svg, docs/performance.md and the performance summary of README.md');
}
console.log(report);

/** Runs another benchmark of bench/ as a child process; resolves the results file it wrote. */
async function childBenchmark(name, argv) {
  log(`running ${argv.join(' ')}`);
  const before = new Set(await readdir(resultsDir).catch(() => []));
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} failed with exit code ${code}`))));
  });
  const written = (await readdir(resultsDir)).filter((file) => file.startsWith(`${name}-`) && file.endsWith('.json') && !before.has(file));
  if (written.length !== 1) throw new Error(`${argv.join(' ')} wrote ${written.length} results files, expected 1`);
  return JSON.parse(await readFile(join(resultsDir, written[0]), 'utf8'));
}
