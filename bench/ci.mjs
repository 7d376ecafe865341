// The performance gate: a short run of the engine suite (bench/lib/suite.mjs,
// profile `ci`: a minute of 720p H.264 against ffmpeg and PyAV at 1 s and
// 10 s, and a 720p video at 10 s and 60 s for the cost of length), the
// bytes a read of the matrix video by URL fetches over its size (exact mode
// every second: at most once each), and the controls on the matrix video
// (bench/lib/controls.mjs: 16 frames at 224 x 224 raw against node-av and
// PyAV, 10 x 10 sprites in both modes against ffmpeg's tile filter), whose
// ratios are held against bench/baseline.json. A ratio that is worse than
// its baseline by more than the tolerance fails the gate; the suite is then
// run once more and only a ratio worse in both runs counts, because one
// disturbed round on a shared machine is not a regression.
//
//   node bench/ci.mjs [--runs N] [--tolerance T] [--update-baseline]
//
// Ratios, not times: each compares two contenders measured in the same
// rounds, so the speed of the machine cancels out and the baseline holds on
// another machine of the same kind (2 cores here). --update-baseline writes
// the measured ratios as the new baseline (commit it with the change that
// moved them, and say why in the message). Exit code 1 on a regression.
// Results: bench/results/ci-<ISO date>.json and a Markdown table on stdout.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliControlsBench, controlsRatios, modelInputBench } from './lib/controls.mjs';
import { assertGnuTime } from './lib/process.mjs';
import { urlBytesRatio } from './lib/remote-reads.mjs';
import { profiles, runSuite, suiteRatios } from './lib/suite.mjs';
import { describeVideo, ensureVideo } from './lib/video.mjs';
import { assertVsnapBuilt, freezeVsnapBuild } from './lib/vsnap-build.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const baselineFile = join(repoRoot, 'bench/baseline.json');
const defaultTolerance = 0.35;

const { values: args } = parseArgs({
  options: { runs: { type: 'string' }, tolerance: { type: 'string' }, 'update-baseline': { type: 'boolean', default: false } },
  strict: true,
});
const runs = args.runs === undefined ? profiles.ci.runs : Number(args.runs);
if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`Expected a positive integer for --runs but received ${args.runs}`);

assertGnuTime();
assertVsnapBuilt(repoRoot);
const started = Date.now();
const log = (message) => console.error(`[bench:ci ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`);

const baseline = existsSync(baselineFile) ? JSON.parse(await readFile(baselineFile, 'utf8')) : undefined;
if (baseline === undefined && !args['update-baseline']) {
  throw new Error('bench/baseline.json is missing: make one with "npm run bench:ci -- --update-baseline"');
}
const tolerance = args.tolerance === undefined ? (baseline?.tolerance ?? defaultTolerance) : Number(args.tolerance);
if (!(tolerance > 0 && tolerance < 1)) throw new Error(`Expected a tolerance between 0 and 1 but received ${args.tolerance}`);

/** The suite's ratios, the bytes a read by URL fetches (bench/lib/remote-reads.mjs) and the controls' ratios. */
async function measure() {
  const ratios = suiteRatios(await runSuite({ repoRoot, profile: profiles.ci, runs, log }));
  const spec = profiles.ci.matrix[0];
  const cacheDir = join(repoRoot, 'bench/.cache');
  const { path } = await ensureVideo(spec, cacheDir);
  ratios.push(await urlBytesRatio(repoRoot, path, describeVideo(spec)));
  const workDir = join(os.tmpdir(), `vsnap-bench-ci-controls-${process.pid}`);
  const vsnapRoot = await freezeVsnapBuild(repoRoot, join(cacheDir, 'build-ci-controls'));
  try {
    const controls = {
      modelInput: [await modelInputBench({ vsnapRoot, spec, cacheDir, workDir, runs, log })],
      cli: [await cliControlsBench({ vsnapRoot, spec, cacheDir, workDir, runs, log })],
    };
    ratios.push(...controlsRatios(controls, true));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return ratios;
}

const measured = [await measure()];
const date = new Date().toISOString();
const machine = { cpu: os.cpus()[0].model, cores: os.cpus().length, loadAverage: os.loadavg(), node: process.version };

if (args['update-baseline']) {
  const ratios = measured[0].filter((r) => r.gated).map(({ name, video, higher, value }) => ({ name, video, higher, value: round(value) }));
  await writeFile(baselineFile, `${JSON.stringify({ date, command: 'npm run bench:ci -- --update-baseline', tolerance, runs, machine, ratios }, null, 2)}\n`);
  console.log(table(ratios.map((r) => ({ ...r, measured: r.value, status: 'baseline' }))));
  log(`wrote ${relative(repoRoot, baselineFile)}`);
} else {
  let verdicts = judge(baseline.ratios, measured);
  if (verdicts.some((v) => v.status === 'REGRESSED')) {
    log(`${verdicts.filter((v) => v.status === 'REGRESSED').map((v) => v.name).join('; ')}: worse than the baseline allows; running the suite again to confirm`);
    measured.push(await measure());
    verdicts = judge(baseline.ratios, measured);
  }
  const regressed = verdicts.filter((v) => v.status !== 'ok');
  const resultsDir = join(repoRoot, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  const resultFile = join(resultsDir, `ci-${date.replaceAll(':', '-')}.json`);
  await writeFile(resultFile, `${JSON.stringify({ date, tolerance, runs, machine, baseline: baseline.date, verdicts, measured }, null, 2)}\n`);
  console.log(`## Performance gate (tolerance ${Math.round(tolerance * 100)}% against bench/baseline.json of ${baseline.date})\n`);
  console.log(table(verdicts));
  console.log(`\nResults: ${relative(repoRoot, resultFile)}; ${((Date.now() - started) / 1000).toFixed(0)} s in all.`);
  if (regressed.length > 0) {
    console.log(`\nFAILED: ${regressed.map((v) => `${v.name} (${v.video}): ${v.status}`).join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nPASSED: no ratio regressed beyond the tolerance.');
  }
}

/**
 * Each baseline ratio against its measurements: the best of the runs (a
 * regression must show in every run), `ok` within the tolerance.
 */
function judge(baselineRatios, runsOfRatios) {
  return baselineRatios.map((base) => {
    const values = runsOfRatios
      .map((ratios) => ratios.find((r) => r.name === base.name && r.video === base.video)?.value)
      .filter(Number.isFinite);
    if (values.length === 0) return { ...base, measured: NaN, status: 'NOT MEASURED' };
    const best = base.higher ? Math.max(...values) : Math.min(...values);
    const limit = base.higher ? base.value * (1 - tolerance) : base.value * (1 + tolerance);
    const ok = base.higher ? best >= limit : best <= limit;
    return { ...base, measured: best, limit, status: ok ? 'ok' : 'REGRESSED' };
  });
}

function table(rows) {
  const lines = ['| ratio | video | baseline | measured | change | limit | status |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const change = Number.isFinite(r.measured) ? `${r.measured >= r.value ? '+' : ''}${(((r.measured / r.value) - 1) * 100).toFixed(0)}%` : '—';
    const limit = r.limit === undefined ? '—' : `${r.higher ? '≥' : '≤'} ${r.limit.toFixed(2)}`;
    lines.push(`| ${r.name} | ${r.video} | ${r.value.toFixed(2)} | ${Number.isFinite(r.measured) ? r.measured.toFixed(2) : '—'} | ${change} | ${limit} | ${r.status} |`);
  }
  return lines.join('\n');
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}
