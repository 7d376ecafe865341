// Agreement checks, done before anything is timed. Each run's outputs are
// held against the oracle (video.mjs): the count, the frame index and time a
// contender reports, and the picture itself, which must match the oracle's
// frame (PSNR >= MIN_PSNR_DB) better than it matches either neighbour frame.
// A run that names a `peer` run is also compared image by image with the
// peer's output of the same oracle frame, so contenders are checked against
// each other, not only against the oracle. The bench's videos are clean, so
// a vsnap run that reports a seek recovery or a damaged frame (its stats)
// raised a false alarm, which costs decoding: that fails too.
import { lumaOfImage, lumaOfVideoFrames, psnr } from './images.mjs';

export const MIN_PSNR_DB = 30;
const FRAME_TIME_TOLERANCE_S = 0.0005 + 1e-9; // vsnap rounds frame_time to the millisecond
const PROBLEMS_SHOWN = 5;

/** The oracle's display indices for a run's outputs. */
export function expectedIndices(oracle, family, interval) {
  switch (family) {
    case 'exact': return oracle.exactPlan(interval);
    case 'keyframe': return oracle.keyframePlan(interval);
    case 'all-keyframes': return oracle.keyframeIndices;
    default: throw new Error(`unknown contender family "${family}"`);
  }
}

/**
 * runs: [{ label, contender, interval, result, peer? }], a peer listed before
 * the runs that name it. Resolves [{ label, ok, lines }] in the same order.
 */
export async function verifyAgreement({ input, oracle, runs }) {
  const plans = new Map(runs.map((run) => [run, expectedIndices(oracle, run.contender.family, run.interval)]));
  const wanted = [...plans.values()].flat().flatMap((i) => [i - 1, i, i + 1]).filter((i) => i >= 0 && i < oracle.frameCount);
  const refs = await lumaOfVideoFrames(input, wanted, oracle.width, oracle.height);
  const peers = new Set(runs.map((run) => run.peer).filter(Boolean));
  const kept = new Map();
  const reports = [];
  for (const run of runs) {
    if (run.peer && !kept.has(run.peer)) throw new Error(`${run.label}: its peer ${run.peer.label} must be verified first`);
    const report = await checkRun(run, plans.get(run), refs, oracle, kept.get(run.peer));
    if (peers.has(run)) kept.set(run, report.lumas);
    reports.push({ label: run.label, ok: report.problems.length === 0, lines: describe(run, report) });
  }
  return reports;
}

async function checkRun(run, plan, refs, oracle, peerLumas) {
  const { outputs } = run.result;
  const problems = [];
  const lumas = new Map();
  let minPsnr = Infinity;
  let maxNeighbourPsnr = -Infinity;
  let minPeerPsnr = Infinity;
  if (outputs.length !== plan.length) problems.push(`${outputs.length} outputs, the oracle plans ${plan.length}`);
  for (let i = 0; i < Math.min(outputs.length, plan.length); i += 1) {
    const output = outputs[i];
    const expected = plan[i];
    if (output.frameIndex !== undefined && output.frameIndex !== expected) {
      problems.push(`output ${i}: reports frame_index ${output.frameIndex}, the oracle says ${expected}`);
    }
    const expectedTime = oracle.frameTime(expected);
    if (output.frameTime !== undefined && Math.abs(output.frameTime - expectedTime) > FRAME_TIME_TOLERANCE_S) {
      problems.push(`output ${i}: reports frame_time ${output.frameTime}, the oracle says ${expectedTime.toFixed(3)}`);
    }
    const luma = await lumaOfImage(output.path, oracle.width, oracle.height);
    const own = psnr(luma, refs.get(expected));
    const neighbours = [expected - 1, expected + 1].filter((n) => refs.has(n)).map((n) => ({ n, db: psnr(luma, refs.get(n)) }));
    const closest = neighbours.reduce((best, n) => (n.db > best.db ? n : best), { n: expected, db: own });
    minPsnr = Math.min(minPsnr, own);
    maxNeighbourPsnr = Math.max(maxNeighbourPsnr, ...neighbours.map((n) => n.db));
    if (own < MIN_PSNR_DB || closest.n !== expected) {
      problems.push(`output ${i} (${output.path}): expected frame ${expected} (${expectedTime.toFixed(3)} s) at ${db(own)}, `
        + `looks most like frame ${closest.n} (${db(closest.db)})`);
    }
    if (peerLumas && !peerLumas.has(expected)) {
      problems.push(`output ${i}: ${run.peer.label} has no output of frame ${expected} to compare with`);
    } else if (peerLumas) {
      const peerDb = psnr(luma, peerLumas.get(expected));
      minPeerPsnr = Math.min(minPeerPsnr, peerDb);
      if (peerDb < MIN_PSNR_DB) problems.push(`output ${i}: differs from ${run.peer.label}'s frame ${expected} (${db(peerDb)})`);
    }
    lumas.set(expected, luma);
  }
  problems.push(...falseAlarms(run.result.stats));
  return { problems, lumas, count: outputs.length, expectedCount: plan.length, minPsnr, maxNeighbourPsnr, minPeerPsnr };
}

/** What a vsnap run's stats report of damage on a clean video: nothing, else a problem each. */
export function falseAlarms(stats) {
  const problems = [];
  if ((stats?.seekRecoveries ?? 0) > 0) problems.push(`${stats.seekRecoveries} seek recoveries on a clean video`);
  if ((stats?.damagedFrames ?? 0) > 0) problems.push(`${stats.damagedFrames} damaged frames reported on a clean video`);
  return problems;
}

function describe(run, report) {
  const lines = [
    `${report.problems.length === 0 ? 'OK  ' : 'FAIL'} ${run.label}: ${report.count} outputs (oracle: ${report.expectedCount}); `
    + `PSNR vs the oracle frame min ${db(report.minPsnr)}, vs neighbour frames max ${db(report.maxNeighbourPsnr)}`
    + (run.peer ? `; vs ${run.peer.label} min ${db(report.minPeerPsnr)}` : ''),
  ];
  for (const problem of report.problems.slice(0, PROBLEMS_SHOWN)) lines.push(`       ${problem}`);
  if (report.problems.length > PROBLEMS_SHOWN) lines.push(`       … and ${report.problems.length - PROBLEMS_SHOWN} more`);
  return lines;
}

function db(value) {
  return Number.isFinite(value) ? `${value.toFixed(1)} dB` : value === Infinity ? 'identical' : 'n/a';
}
