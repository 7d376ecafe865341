// The benchmarks of the sampling and output controls (bench/controls.mjs,
// and three gated rows of bench/ci.mjs), each checked before it is timed:
//
//   model input  `count: 16, width: 224, height: 224, fit: 'fill', format: 'raw'`
//                as a library call (model-input-call.mjs) against what a
//                user would write instead with node-av, PyAV and OpenCV
//                (bench/peers/*_frames.*): seek, decode, scale to 224 x 224
//                RGB24, all in memory, each timed as a second call inside
//                its process. Checked first: vsnap's frames are the exact
//                rule's for its targets (the oracle, video.mjs), each peer
//                reports the same frame times, and its pictures match
//                vsnap's (luma PSNR >= MIN_PSNR_DB; scalers differ a little).
//                node-av and PyAV get the targets; OpenCV, which rounds a
//                position to the nearest frame, gets the chosen frames' times.
//   thumbnails   `vsnap extract --mode keyframe --interval 10 --width 320`
//                against the same at full size, from the command line:
//                the same frames, smaller images.
//   sprites      `vsnap extract --interval 10 --sprite 10x10` (cells 160
//                wide) in keyframe and exact mode against
//                `ffmpeg -i IN -vf fps=1/10,scale=160:-1,tile=10x10 OUT%d.jpg`.
//                Checked first: as many sheets as ffmpeg lays, a cue per
//                cell, and the first cell, frame 0 in both, matches
//                ffmpeg's (luma PSNR >= MIN_SHEET_PSNR_DB: ffmpeg scales
//                with bicubic, vsnap with Lanczos, and on the noisy bench
//                video the two differ by some 23 dB; the fps filter takes
//                the first frame of each 10 s slot's rounding window, at
//                5 s, 15 s, ..., so the other cells are other frames).
//
// Contenders run in turn, round after round, so a disturbance of the shared
// machine falls on all of them; each figure is the median of its runs.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hdrRatios, hdrTable } from './hdr.mjs';
import { psnr } from './images.mjs';
import { formatCommand, run, runMeasured } from './process.mjs';
import { describeVideo, ensureVideo, probeTimeline } from './video.mjs';

export const MODEL_INPUT = { count: 16, size: 224 };
export const SPRITE = { interval: 10, grid: '10x10', cellWidth: 160 };
export const THUMBNAIL = { interval: 10, width: 320 };
const MIN_PSNR_DB = 30;
const MIN_SHEET_PSNR_DB = 20;
const python = '/usr/bin/python3';

const peersDir = new URL('../peers/', import.meta.url).pathname;
const modelInputScript = new URL('./model-input-call.mjs', import.meta.url).pathname;

/**
 * The model-input comparison on one video: resolves
 * { video, contenders: [{ name, runs: [ms], medianMs }], checks: [lines] }.
 */
export async function modelInputBench({ vsnapRoot, spec, cacheDir, workDir, runs, log }) {
  const { path } = await ensureVideo(spec, cacheDir);
  const video = describeVideo(spec);
  const oracle = await probeTimeline(path);
  const size = String(MODEL_INPUT.size);
  const vsnapArgv = (out) => [process.execPath, modelInputScript, vsnapRoot, path, '--count', String(MODEL_INPUT.count), '--size', size, ...out];

  // vsnap first: its frames give OpenCV its times.
  const vsnapDir = join(workDir, 'model-vsnap');
  const vsnap = JSON.parse((await run(vsnapArgv(['--out', vsnapDir]))).stdout);
  const checks = [checkAgainstOracle(vsnap.outputs, oracle)];
  const targets = vsnap.outputs.map((o) => String(o.target_time)).join(',');
  const chosen = vsnap.outputs.map((o) => String(o.frame_time)).join(',');
  const peers = [
    { name: 'node-av', argv: (out) => [process.execPath, join(peersDir, 'nodeav_frames.mjs'), path, '--times', targets, '--size', size, ...out] },
    { name: 'PyAV', argv: (out) => [python, join(peersDir, 'pyav_frames.py'), path, '--times', targets, '--size', size, ...out] },
    { name: 'OpenCV', argv: (out) => [python, join(peersDir, 'opencv_frames.py'), path, '--times', chosen, '--size', size, ...out] },
  ];
  for (const peer of peers) {
    const dir = join(workDir, `model-${peer.name}`);
    const report = JSON.parse((await run(peer.argv(['--out', dir]))).stdout);
    checks.push(await checkPeer(peer.name, report.outputs, vsnap.outputs, dir, vsnapDir));
  }
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) throw new Error(`model input, ${video}: ${failed.map((c) => c.line).join('; ')}`);

  const contenders = [{ name: 'vsnap', argv: vsnapArgv([]) }, ...peers.map((p) => ({ name: p.name, argv: p.argv([]) }))].map((c) => ({ ...c, runs: [] }));
  for (let round = 1; round <= runs; round++) {
    for (const contender of contenders) {
      const { stdout } = await run(contender.argv);
      const ms = JSON.parse(stdout).call.wall_ms;
      contender.runs.push(ms);
      log(`${video}: model input, run ${round}/${runs}: ${contender.name}: ${(ms / 1000).toFixed(2)} s`);
    }
  }
  return {
    video,
    command: formatCommand(contenders[0].argv),
    contenders: contenders.map(({ name, runs: times }) => ({ name, runs: times, medianMs: median(times) })),
    checks: checks.map((c) => c.line),
  };
}

/** vsnap's frames against the exact rule over the video's own packet times. */
function checkAgainstOracle(outputs, oracle) {
  const wrong = outputs.filter((o) => {
    let index = 0;
    while (index + 1 < oracle.frameCount && oracle.frameTime(index + 1) <= o.target_time + 1e-9) index += 1;
    return o.frame_index !== index;
  });
  const ok = outputs.length === MODEL_INPUT.count && wrong.length === 0;
  return { ok, line: `vsnap: ${outputs.length} frames, ${wrong.length} not the frame shown at their target` };
}

async function checkPeer(name, outputs, expected, dir, vsnapDir) {
  const times = outputs.filter((o, k) => Math.abs(o.frame_time - expected[k]?.frame_time) > 0.0015).length;
  let worst = Infinity;
  for (let k = 0; k < expected.length; k++) {
    const [a, b] = await Promise.all([readFile(join(vsnapDir, `frame_${k}.rgb`)), readFile(join(dir, `frame_${k}.rgb`))]);
    worst = Math.min(worst, psnr(luma(a), luma(b)));
  }
  const ok = outputs.length === expected.length && times === 0 && worst >= MIN_PSNR_DB;
  return { ok, line: `${name}: ${outputs.length} frames, ${times} at another time than vsnap's, luma PSNR against vsnap's ≥ ${worst.toFixed(1)} dB` };
}

/**
 * Thumbnails (keyframe mode, width 320 against full size) and sprites
 * (keyframe and exact against ffmpeg's tile filter) on one video, from the
 * command line: resolves { video, thumbnails: {...}, sprites: {...} }.
 */
export async function cliControlsBench({ vsnapRoot, spec, cacheDir, workDir, runs, log }) {
  const { path } = await ensureVideo(spec, cacheDir);
  const video = describeVideo(spec);
  const vsnap = (out, ...flags) => [process.execPath, join(vsnapRoot, 'bin/vsnap'), 'extract', path, ...flags, '--out', out, '--json'];
  const thumbnailFlags = ['--mode', 'keyframe', '--interval', String(THUMBNAIL.interval)];
  const spriteFlags = (mode) => ['--mode', mode, '--interval', String(SPRITE.interval), '--sprite', SPRITE.grid];
  const cases = [
    { group: 'thumbnails', name: `vsnap keyframe, width ${THUMBNAIL.width}`, argv: (out) => vsnap(out, ...thumbnailFlags, '--width', String(THUMBNAIL.width)) },
    { group: 'thumbnails', name: 'vsnap keyframe, full size', argv: (out) => vsnap(out, ...thumbnailFlags) },
    { group: 'sprites', name: 'vsnap keyframe sprite', argv: (out) => vsnap(out, ...spriteFlags('keyframe')) },
    { group: 'sprites', name: 'vsnap exact sprite', argv: (out) => vsnap(out, ...spriteFlags('exact')) },
    {
      group: 'sprites',
      name: 'ffmpeg fps + scale + tile',
      argv: (out) => ['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', path,
        '-vf', `fps=1/${SPRITE.interval},scale=${SPRITE.cellWidth}:-1,tile=${SPRITE.grid}`, join(out, 'OUT%d.jpg')],
    },
  ].map((c) => ({ ...c, runs: [] }));

  const checks = await checkCliCases(cases, workDir);
  for (let round = 1; round <= runs; round++) {
    for (const c of cases) {
      const out = join(workDir, 'timed');
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      const { wallMs } = await runMeasured(c.argv(out));
      c.runs.push(wallMs);
      log(`${video}: ${c.group}, run ${round}/${runs}: ${c.name}: ${(wallMs / 1000).toFixed(2)} s`);
    }
  }
  const summary = (group) => cases.filter((c) => c.group === group).map(({ name, runs: times, argv }) => ({
    name, runs: times, medianMs: median(times), command: formatCommand(argv('OUT')),
  }));
  return { video, thumbnails: summary('thumbnails'), sprites: summary('sprites'), checks };
}

/** Runs each case once and checks what it wrote; throws on a disagreement. */
async function checkCliCases(cases, workDir) {
  const outputs = new Map();
  for (const c of cases) {
    const out = join(workDir, `check-${cases.indexOf(c)}`);
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const { stdout } = await run(c.argv(out));
    outputs.set(c, { out, report: stdout.trim() === '' ? undefined : JSON.parse(stdout) });
  }
  const [small, full, keyframeSprite, exactSprite, ffmpeg] = cases.map((c) => outputs.get(c));
  const problems = [];
  const indices = (r) => r.report.data.map((d) => d.frame_index).join(',');
  if (indices(small) !== indices(full)) problems.push('the 320-wide thumbnails are other frames than the full-size ones');
  if (small.report.data.some((d) => d.width !== THUMBNAIL.width)) problems.push(`a thumbnail is not ${THUMBNAIL.width} wide`);
  const sheets = (await readdir(ffmpeg.out)).filter((f) => f.endsWith('.jpg')).sort();
  const exactSheets = (await readdir(exactSprite.out)).filter((f) => f.startsWith('sprite_'));
  if (exactSheets.length !== sheets.length) problems.push(`vsnap wrote ${exactSheets.length} sheets, ffmpeg ${sheets.length}`);
  const cells = exactSprite.report.data.length;
  if (!exactSprite.report.data.every((d) => d.path.includes('#xywh='))) problems.push('a sprite output has no cell reference');
  const vtt = await readFile(join(exactSprite.out, 'thumbnails.vtt'), 'utf8');
  if ((vtt.match(/-->/g) ?? []).length !== cells) problems.push(`thumbnails.vtt has not ${cells} cues`);
  const worst = await sheetPsnr(join(exactSprite.out, 'sprite_0.jpg'), join(ffmpeg.out, sheets[0]));
  if (worst < MIN_SHEET_PSNR_DB) problems.push(`the exact sheet's first cell matches ffmpeg's at ${worst.toFixed(1)} dB only`);
  if (keyframeSprite.report.data.length === 0) problems.push('the keyframe sprite has no cells');
  if (problems.length > 0) throw new Error(`controls: ${problems.join('; ')}`);
  return [
    `thumbnails: ${small.report.data.length} keyframes at width ${THUMBNAIL.width} and full size, the same frames`,
    `sprites: ${exactSheets.length} sheet(s) of ${cells} cells in exact mode, ${keyframeSprite.report.data.length} in keyframe mode, as ffmpeg's ${sheets.length}; `
      + `first cell against ffmpeg's: luma PSNR ${worst.toFixed(1)} dB`,
  ];
}

/** Luma PSNR of the first cell of vsnap's sheet against ffmpeg's: both are frame 0, scaled to the same size. */
async function sheetPsnr(vsnapSheet, ffmpegSheet) {
  const { default: sharp } = await import('sharp');
  const { height } = await sharp(ffmpegSheet).metadata();
  const rows = Number(SPRITE.grid.split('x')[1]);
  const cell = { left: 0, top: 0, width: SPRITE.cellWidth, height: Math.floor(height / rows) };
  const [a, b] = await Promise.all([vsnapSheet, ffmpegSheet].map((sheet) => sharp(sheet).extract(cell).greyscale().raw().toBuffer()));
  return psnr(a, b);
}

/** The ratios: model input of vsnap against each peer; thumbnails full ÷ small; sprites ffmpeg ÷ vsnap; HDR (hdr.mjs). */
export function controlsRatios({ modelInput = [], cli = [], hdr }, gated) {
  const ratios = [];
  const medianOf = (list, name) => list.find((c) => c.name === name)?.medianMs;
  for (const m of modelInput) {
    const vsnap = medianOf(m.contenders, 'vsnap');
    for (const peer of ['node-av', 'PyAV', 'OpenCV']) {
      ratios.push({ name: `model input (16 × 224² raw) vs ${peer}`, video: m.video, higher: true, gated: gated && peer !== 'OpenCV', value: medianOf(m.contenders, peer) / vsnap });
    }
  }
  for (const c of cli) {
    ratios.push({
      name: `thumbnails @ 10 s: full size ÷ width ${THUMBNAIL.width}`,
      video: c.video,
      higher: true,
      gated: false,
      value: medianOf(c.thumbnails, 'vsnap keyframe, full size') / medianOf(c.thumbnails, `vsnap keyframe, width ${THUMBNAIL.width}`),
    });
    const ffmpeg = medianOf(c.sprites, 'ffmpeg fps + scale + tile');
    for (const mode of ['keyframe', 'exact']) {
      ratios.push({ name: `sprite 10×10 @ 10 s, ${mode} vs ffmpeg tile`, video: c.video, higher: true, gated, value: ffmpeg / medianOf(c.sprites, `vsnap ${mode} sprite`) });
    }
  }
  ratios.push(...hdrRatios(hdr));
  return ratios;
}

/** The Markdown tables of the results, as docs/performance.md shows them. */
export function controlsTables({ modelInput = [], cli = [], hdr }) {
  const lines = [];
  const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
  if (modelInput.length > 0) {
    lines.push('| video | vsnap | node-av | PyAV | OpenCV |', '|---|---|---|---|---|');
    for (const m of modelInput) {
      const by = Object.fromEntries(m.contenders.map((c) => [c.name, c.medianMs]));
      const cell = (name) => (name === 'vsnap' ? seconds(by.vsnap) : `${seconds(by[name])} (${(by[name] / by.vsnap).toFixed(1)}×)`);
      lines.push(`| ${m.video} | ${['vsnap', 'node-av', 'PyAV', 'OpenCV'].map(cell).join(' | ')} |`);
    }
    lines.push('');
  }
  if (cli.length > 0) {
    lines.push('| video | case | wall (median) | ratio |', '|---|---|---|---|');
    for (const c of cli) {
      const [small, full] = c.thumbnails;
      lines.push(`| ${c.video} | ${small.name} | ${seconds(small.medianMs)} | ${(full.medianMs / small.medianMs).toFixed(2)}× faster than full size |`);
      lines.push(`| ${c.video} | ${full.name} | ${seconds(full.medianMs)} | |`);
      const ffmpeg = c.sprites.find((s) => s.name.startsWith('ffmpeg'));
      for (const s of c.sprites) {
        const ratio = s === ffmpeg ? '' : `${(ffmpeg.medianMs / s.medianMs).toFixed(1)}× ffmpeg`;
        lines.push(`| ${c.video} | ${s.name} | ${seconds(s.medianMs)} | ${ratio} |`);
      }
    }
  }
  if (hdr !== undefined) lines.push('', hdrTable(hdr));
  return lines.join('\n');
}

function luma(rgb) {
  const y = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < y.length; i++) y[i] = Math.round(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
  return y;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
