// The HDR row of bench:controls: what tone mapping costs (native/core/ToneMap.h).
//
// One piece of content encoded twice as HEVC Main10 at the same bitrate
// (x265, so that decoding costs the same): as SDR (BT.709) and as HDR10 (PQ,
// BT.2020, zscale from the same frames, MaxCLL 1000 so that the BT.2390
// EETF compresses). `vsnap extract` at 1 s intervals in exact and keyframe
// mode runs on the SDR video, on the HDR10 one tone-mapped (the default,
// tonemap auto) and unmapped (--tonemap off); and the user's alternative,
// ffmpeg's fps filter with the zscale + tonemap recipe (hable) at one frame
// a second, on the HDR10 video.
//
// Checked before timing: the tone-mapped images are nearer the SDR ones
// than the unmapped (luma PSNR of the first image, MIN_MAPPED_PSNR_DB at
// least: the EETF from 1000 cd/m² darkens the top of SDR's range).
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { psnr } from './images.mjs';
import { formatCommand, run, runMeasured } from './process.mjs';
import { median } from './report.mjs';

const MIN_MAPPED_PSNR_DB = 20;
const p3Display = 'G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)';

/** The content, `seconds` long at `height` lines, GOP 2 s. */
export function hdrSpec(height, seconds) {
  return { width: (height * 16) / 9, height, fps: 30, gop: 60, seconds };
}

function describe(spec) {
  return `HEVC Main10 ${spec.height}p, GOP 2 s, ${spec.seconds} s`;
}

async function ensureHevc(spec, cacheDir, kind) {
  const path = join(cacheDir, `testsrc2-hevc10-${kind}-${spec.height}p${spec.fps}-${spec.seconds}s-g${spec.gop}.mp4`);
  if (existsSync(path)) return path;
  await mkdir(cacheDir, { recursive: true });
  const sdrTags = 'setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv';
  const chain = kind === 'sdr'
    ? `${sdrTags},format=yuv420p10le`
    : `${sdrTags},zscale=transfer=linear:npl=100,format=gbrpf32le,zscale=primaries=bt2020,`
      + 'zscale=transfer=smpte2084:matrix=bt2020nc:range=tv:npl=100,format=yuv420p10le';
  const colour = kind === 'sdr'
    ? { prim: 'bt709', trc: 'bt709', matrix: 'bt709', extra: [] }
    : { prim: 'bt2020', trc: 'smpte2084', matrix: 'bt2020nc', extra: [`master-display=${p3Display}L(10000000,50)`, 'max-cll=1000,400'] };
  const x265 = [
    'log-level=error', `keyint=${spec.gop}`, `min-keyint=${spec.gop}`, 'scenecut=0',
    'bitrate=6000', 'vbv-maxrate=6000', 'vbv-bufsize=12000',
    `colorprim=${colour.prim}`, `transfer=${colour.trc}`, `colormatrix=${colour.matrix}`, ...colour.extra,
  ].join(':');
  const partial = `${path}.partial`;
  await run([
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.seconds},hue=s=0.7,noise=alls=8:allf=t,format=yuv420p`,
    '-vf', chain, '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', x265, '-tag:v', 'hvc1',
    '-color_primaries', colour.prim, '-color_trc', colour.trc, '-colorspace', colour.matrix, '-color_range', 'tv',
    '-movflags', '+faststart', '-f', 'mp4', partial,
  ]);
  await rename(partial, path);
  return path;
}

/**
 * Times the cases on one piece of content: resolves
 * { video, cases: [{ name, mode, runs, medianMs, command }], checks }.
 */
export async function hdrBench({ vsnapRoot, spec, cacheDir, workDir, runs, log }) {
  const sdr = await ensureHevc(spec, cacheDir, 'sdr');
  const hdr = await ensureHevc(spec, cacheDir, 'hdr10');
  const video = describe(spec);
  const vsnap = (input, mode, ...flags) => (out) => [
    process.execPath, join(vsnapRoot, 'bin/vsnap'), 'extract', input, '--mode', mode, '--interval', '1', ...flags, '--out', out,
  ];
  const tonemapChain = 'zscale=transfer=linear:npl=100,format=gbrpf32le,zscale=primaries=bt709,'
    + 'tonemap=tonemap=hable:desat=0,zscale=transfer=bt709:matrix=bt709:range=tv,format=yuv420p';
  const cases = [
    ...['exact', 'keyframe'].flatMap((mode) => [
      { name: `vsnap ${mode}, SDR`, mode, argv: vsnap(sdr, mode) },
      { name: `vsnap ${mode}, HDR10 tone-mapped`, mode, argv: vsnap(hdr, mode) },
      { name: `vsnap ${mode}, HDR10 --tonemap off`, mode, argv: vsnap(hdr, mode, '--tonemap', 'off') },
    ]),
    {
      name: 'ffmpeg fps=1 + zscale + tonemap, HDR10',
      mode: 'exact',
      argv: (out) => ['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', hdr,
        '-vf', `fps=1,${tonemapChain}`, join(out, 'OUT%d.jpg')],
    },
  ].map((c) => ({ ...c, runs: [] }));

  const checks = [await checkMapping(cases, workDir)];
  for (let round = 1; round <= runs; round++) {
    for (const c of cases) {
      const out = join(workDir, 'hdr-timed');
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      const { wallMs } = await runMeasured(c.argv(out));
      c.runs.push(wallMs);
      log(`${video}: HDR, run ${round}/${runs}: ${c.name}: ${(wallMs / 1000).toFixed(2)} s`);
    }
  }
  return {
    video,
    cases: cases.map(({ name, mode, runs: times, argv }) => ({ name, mode, runs: times, medianMs: median(times), command: formatCommand(argv('OUT')) })),
    checks,
  };
}

/** The first exact image of each vsnap case: mapped nearer SDR than unmapped. */
async function checkMapping(cases, workDir) {
  const { default: sharp } = await import('sharp');
  const firstImage = async (c) => {
    const out = join(workDir, `hdr-check-${cases.indexOf(c)}`);
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    await run(c.argv(out));
    return sharp(join(out, 'snapshot_0.jpg')).greyscale().raw().toBuffer();
  };
  const [sdr, mapped, unmapped] = await Promise.all(cases.slice(0, 3).map(firstImage));
  const [good, bad] = [psnr(sdr, mapped), psnr(sdr, unmapped)];
  if (!(good >= MIN_MAPPED_PSNR_DB && good > bad)) {
    throw new Error(`HDR: the tone-mapped image is ${good.toFixed(1)} dB from the SDR one, the unmapped ${bad.toFixed(1)} dB`);
  }
  return `HDR10 tone-mapped against SDR: luma PSNR ${good.toFixed(1)} dB (unmapped: ${bad.toFixed(1)} dB)`;
}

/** Tone-mapped ÷ SDR per mode (lower is better; the bound is 1.3), and ffmpeg's recipe ÷ vsnap. */
export function hdrRatios(hdr) {
  if (hdr === undefined) return [];
  const medianOf = (name) => hdr.cases.find((c) => c.name === name).medianMs;
  return [
    ...['exact', 'keyframe'].map((mode) => ({
      name: `HDR10 tone-mapped ÷ SDR, ${mode} @ 1 s`,
      video: hdr.video,
      higher: false,
      gated: false,
      value: medianOf(`vsnap ${mode}, HDR10 tone-mapped`) / medianOf(`vsnap ${mode}, SDR`),
    })),
    {
      name: 'HDR10 @ 1 s: ffmpeg zscale + tonemap ÷ vsnap exact',
      video: hdr.video,
      higher: true,
      gated: false,
      value: medianOf('ffmpeg fps=1 + zscale + tonemap, HDR10') / medianOf('vsnap exact, HDR10 tone-mapped'),
    },
  ];
}

/** The HDR table, as docs/performance.md shows it. */
export function hdrTable(hdr) {
  const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const sdrOf = (mode) => hdr.cases.find((c) => c.name === `vsnap ${mode}, SDR`).medianMs;
  const lines = ['| video | case | wall (median) | ratio |', '|---|---|---|---|'];
  for (const c of hdr.cases) {
    const ratio = c.name.startsWith('vsnap') && !c.name.endsWith('SDR') ? `${(c.medianMs / sdrOf(c.mode)).toFixed(2)}× SDR` : '';
    lines.push(`| ${hdr.video} | ${c.name} | ${seconds(c.medianMs)} | ${ratio} |`);
  }
  return lines.join('\n');
}
