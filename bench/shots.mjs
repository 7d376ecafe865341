// `npm run bench:shots`: shot detection on videos with known shots
// (bench/lib/shot-videos.mjs), by the tools a user would pick for it
// (bench/lib/shots.mjs): precision, recall and F1 of each at the threshold
// that gives it its best mean F1 over the quality set, and its time at that
// threshold on the speed set.
//
//   quality set  320 x 180: 16 shots joined by hard cuts; 16 shots joined
//                by dissolves, fades through black and cuts (20 frames);
//                a one-minute take with a pan and a moving object (nothing
//                to find)
//   speed set    1080p, 12 shots, hard cuts (45 s); 720p, ten minutes of
//                shots, hard cuts
//
// This is the ground truth and the peers of issue 28; vsnap's scene mode,
// when it exists, is measured by the same functions on the same videos.
//
//   node bench/shots.mjs [--quick] [--runs N]
//
// --quick: the quality set only, no timing. Results:
// bench/results/shots-<ISO date>.json, Markdown tables on stdout.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertGnuTime } from './lib/process.mjs';
import { median } from './lib/report.mjs';
import { describeShotVideo, ensureShotVideo, longTakeSpec, shotVideoSpec } from './lib/shot-videos.mjs';
import { bestThreshold, shotPeers, timePeer } from './lib/shots.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' } }, strict: true });
const runs = args.runs === undefined ? 3 : Number(args.runs);
if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`Expected a positive integer for --runs but received ${args.runs}`);

const qualitySet = [
  shotVideoSpec({ width: 320, height: 180, shots: 16, transition: 'cut' }),
  shotVideoSpec({ width: 320, height: 180, shots: 16, transition: 'dissolve' }),
  longTakeSpec({ width: 320, height: 180, seconds: 60 }),
];
const speedSet = args.quick ? [] : [
  shotVideoSpec({ width: 1920, height: 1080, shots: 12, transition: 'cut' }),
  shotVideoSpec({ width: 1280, height: 720, shots: 218, transition: 'cut' }),
];

assertGnuTime();
const started = Date.now();
const log = (message) => console.error(`[bench:shots ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`);
const cacheDir = join(repoRoot, 'bench/.cache');

const videos = [];
for (const spec of qualitySet) {
  log(`video: ${describeShotVideo(spec)}`);
  videos.push({ spec, path: await ensureShotVideo(spec, cacheDir) });
}
const results = { date: new Date().toISOString(), command: `npm run bench:shots${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, runs, quality: [], speed: [] };
for (const peer of shotPeers) {
  log(`scoring: ${peer.name}`);
  results.quality.push(await bestThreshold(peer, videos));
}
for (const spec of speedSet) {
  log(`video: ${describeShotVideo(spec)}`);
  const path = await ensureShotVideo(spec, cacheDir);
  const row = { video: describeShotVideo(spec), peers: [] };
  for (const peer of shotPeers) {
    const { threshold } = results.quality.find((q) => q.name === peer.name);
    const timed = await timePeer(peer, threshold, path, runs);
    log(`${row.video}: ${peer.name}: ${timed.runs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`);
    row.peers.push({ name: peer.name, ...timed, medianMs: median(timed.runs) });
  }
  results.speed.push(row);
}
results.seconds = Math.round((Date.now() - started) / 1000);

const resultsDir = join(repoRoot, 'bench/results');
await mkdir(resultsDir, { recursive: true });
const file = join(resultsDir, `shots-${results.date.replaceAll(':', '-')}.json`);
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(shotsTables(results));
log(`results: ${relative(repoRoot, file)}`);

function shotsTables({ quality, speed }) {
  const percent = (x) => `${(100 * x).toFixed(0)}%`;
  const lines = ['| detector | threshold | video | detected | precision | recall | F1 |', '|---|---|---|---|---|---|---|'];
  for (const q of quality) {
    for (const v of q.videos) {
      const spec = qualitySet.find((s) => s.name === v.name);
      lines.push(`| ${q.name} | ${Number(q.threshold.toFixed(4))} | ${describeShotVideo(spec)} | ${v.detected} of ${v.truths} | ${percent(v.precision)} | ${percent(v.recall)} | ${v.f1.toFixed(2)} |`);
    }
  }
  if (speed.length > 0) {
    lines.push('', '| video | detector | wall (median) |', '|---|---|---|');
    for (const row of speed) for (const p of row.peers) lines.push(`| ${row.video} | ${p.name} | ${(p.medianMs / 1000).toFixed(2)} s |`);
  }
  return lines.join('\n');
}
