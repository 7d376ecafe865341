// Shot detection measured against known shots (bench/lib/shot-videos.mjs):
// precision, recall and F1 of each detector, and its time, as a user runs
// it. The peers a user would pick instead:
//
//   ffmpeg scene   `ffmpeg -i IN -vf "select='gt(scene,T)',showinfo" -f null -`:
//                  a frame is a cut when its scene score is over T
//   ffmpeg scdet   `ffmpeg -i IN -vf scdet=threshold=T -f null -`
//   OpenCV         PySceneDetect's content detector written with OpenCV
//                  (bench/peers/opencv_scenes.py), minimum shot 15 frames
//
// Each detector's every score is read once per video (FFmpeg's through
// metadata=print), and the threshold that gives it its best mean F1 over
// all the videos is found by sweeping: one threshold, as a user would set
// it, reported with its figures. A detection finds a hard cut within one
// frame of it, and a dissolve or fade anywhere from the frame before its
// span to the frame after; each truth is found at most once, and every
// other detection is a false one (a detector that fires on every frame of
// a dissolve pays for it in precision).
import { formatCommand, run, runMeasured } from './process.mjs';
import { shotTruth } from './shot-videos.mjs';

const python = '/usr/bin/python3';
const opencvScript = new URL('../peers/opencv_scenes.py', import.meta.url).pathname;
const minSceneFrames = 15;

/** Per-frame scores from FFmpeg's frame metadata (metadata=print on stdout). */
async function ffmpegScores(path, filter, key) {
  const { stdout } = await run(['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-i', path, '-an',
    '-vf', `${filter},metadata=print:file=-`, '-f', 'null', '-']);
  const scores = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('frame:')) scores.push(0);
    const at = line.indexOf(`${key}=`);
    if (at >= 0 && scores.length > 0) scores[scores.length - 1] = Number(line.slice(at + key.length + 1));
  }
  return scores;
}

/** The peers: how each scores a video's frames, turns scores into cuts, and runs as a user runs it. */
export const shotPeers = [
  {
    name: 'ffmpeg scene',
    scores: (path) => ffmpegScores(path, "select='gte(scene,0)'", 'lavfi.scene_score'),
    cutsAt: (scores, threshold) => scores.flatMap((s, n) => (n > 0 && s > threshold ? [n] : [])),
    argv: (path, threshold) => ['ffmpeg', '-hide_banner', '-loglevel', 'info', '-nostdin', '-i', path, '-an',
      '-vf', `select='gt(scene,${threshold})',showinfo`, '-f', 'null', '-'],
  },
  {
    name: 'ffmpeg scdet',
    scores: (path) => ffmpegScores(path, 'scdet=threshold=100', 'lavfi.scd.score'),
    // scdet's score is 0-100 and it reports a frame whose score reaches the threshold.
    cutsAt: (scores, threshold) => scores.flatMap((s, n) => (n > 0 && s >= threshold ? [n] : [])),
    argv: (path, threshold) => ['ffmpeg', '-hide_banner', '-loglevel', 'info', '-nostdin', '-i', path, '-an',
      '-vf', `scdet=threshold=${threshold}`, '-f', 'null', '-'],
  },
  {
    name: 'OpenCV content detector',
    scores: async (path) => JSON.parse((await run([python, opencvScript, path])).stdout).scores,
    cutsAt: (scores, threshold) => {
      const cuts = [];
      let last = 0;
      scores.forEach((s, n) => {
        if (n > 0 && s >= threshold && n - last >= minSceneFrames) {
          cuts.push(n);
          last = n;
        }
      });
      return cuts;
    },
    argv: (path, threshold) => [python, opencvScript, path, '--threshold', String(threshold), '--min-scene-len', String(minSceneFrames)],
  },
];

/** Precision, recall and F1 of `detected` (frame indices) against the truth of a shot video. */
export function scoreCuts(detected, truth) {
  const found = new Set();
  let correct = 0;
  for (const n of [...detected].sort((a, b) => a - b)) {
    const hard = truth.cuts.findIndex((c, k) => !found.has(`c${k}`) && Math.abs(n - c) <= 1);
    if (hard >= 0) {
      found.add(`c${hard}`);
      correct++;
      continue;
    }
    const soft = truth.dissolves.findIndex((d, k) => !found.has(`d${k}`) && n >= d.first - 1 && n <= d.last + 1);
    if (soft >= 0) {
      found.add(`d${soft}`);
      correct++;
    }
  }
  const truths = truth.cuts.length + truth.dissolves.length;
  const precision = detected.length === 0 ? 1 : correct / detected.length;
  const recall = truths === 0 ? 1 : correct / truths;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { detected: detected.length, truths, correct, precision, recall, f1 };
}

/**
 * One peer over `videos` ([{ spec, path }]): the threshold of its best mean
 * F1 over them (candidates: the scores it gave), with each video's figures.
 */
export async function bestThreshold(peer, videos) {
  const scored = [];
  for (const video of videos) scored.push({ ...video, truth: shotTruth(video.spec), scores: await peer.scores(video.path) });
  const candidates = [...new Set(scored.flatMap((v) => v.scores.slice(1)))].sort((a, b) => a - b);
  // Every distinct score is a threshold at which the cuts change; keep the sweep to about 400 of them.
  const step = Math.max(1, Math.floor(candidates.length / 400));
  let best;
  for (let i = 0; i < candidates.length; i += step) {
    // Just under a score, so that `>` and `>=` detectors both keep that frame.
    const threshold = candidates[i] - 1e-9;
    const results = scored.map((v) => scoreCuts(peer.cutsAt(v.scores, threshold), v.truth));
    const meanF1 = results.reduce((sum, r) => sum + r.f1, 0) / results.length;
    if (best === undefined || meanF1 > best.meanF1) best = { threshold, meanF1, results };
  }
  return { name: peer.name, threshold: best.threshold, meanF1: best.meanF1, videos: scored.map((v, k) => ({ name: v.spec.name, ...best.results[k] })) };
}

/** Times `peer` at `threshold` on `path`, `runs` times: resolves { runs: [ms], command }. */
export async function timePeer(peer, threshold, path, runs) {
  const argv = peer.argv(path, Number(threshold.toFixed(4)));
  const times = [];
  for (let k = 0; k < runs; k++) times.push((await runMeasured(argv)).wallMs);
  return { runs: times, command: formatCommand(argv) };
}
