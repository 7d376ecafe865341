/**
 * HDR video as a player shows it (native/core/ToneMap.h), against the SDR
 * footage the HDR clips were mastered from (test/helpers/hdr-videos.ts) and
 * against the standards' own formulas, written out here (SMPTE ST 2084,
 * ITU-R BT.2390's EETF, BT.2100 HLG with BT.2408's reference white, BT.1886):
 *
 *   PQ graded within SDR (MaxCLL 100)   >= 30 dB PSNR of the SDR source
 *   PQ from a 1000 cd/m² master, or without metadata (1000 assumed): the
 *       EETF compresses the top of SDR's range, >= 24 dB; the same bytes
 *   HLG made from SDR by BT.2100's formulas >= 30 dB
 *   HLG with SDR white at reference white >= 20 dB (zimg, which made it,
 *       sets saturated colours' light otherwise than BT.2100's OOTF); a
 *       grade with SDR white at 100 cd/m² comes out as BT.2100 shows it, darker
 *   BT.2020 blue in HLG  the luminance BT.2100's OOTF gives, within 1% and
 *       a code value's rounding
 *   grey ramps  each code value within 2 of the formulas
 *   BT.2020 green (outside BT.709)  its luminance kept (within 3%), no
 *       channel clipped into a flat band
 *   Dolby Vision 8.4  the HLG it carries; profile 5 refused with 'auto'
 *   rotation, sizes, lanes  the same mapping
 *   SDR input  byte for byte what tonemap 'off' gives
 *   wasm  HDR with 'auto' is refused (VSNAP_UNSUPPORTED_INPUT), 'off' works
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotRun } from '../../src/engine/snapshot.js';
import { shutdown, VsnapError, type BackendName, type SnapshotOptions } from '../../src/index.js';
import { resolveInput, resolveSnapshotOptions } from '../../src/options.js';
import {
  hdr10WithMetadata,
  hdrSize,
  hdrVideos,
  hlg,
  hlgDim,
  hlgBlueRamp,
  hlgBt2100,
  hlgGreyRamp,
  hlgPortrait,
  pqGreenRamp,
  pqGreyRamp,
  pqMaxCll100,
  pqWithoutMetadata,
  rampSize,
  sdrTagged,
} from '../helpers/hdr-videos.js';
import { withDolbyVisionRecord } from '../helpers/dolby-vision.js';
import { fixturePath, scratchPath, type MadeFile } from '../helpers/made-file.js';
import { psnr } from '../helpers/oracle.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

afterAll(shutdown);

const made = new Map<MadeFile, string>();

beforeAll(async () => {
  for (const file of hdrVideos) made.set(file, await fixturePath(file));
}, 300_000);

const pathOf = (file: MadeFile) => made.get(file)!;
const times = [0.2, 0.9, 1.6];

/** Raw RGB24 images of `file` at `times`. */
async function images(file: MadeFile, options: SnapshotOptions = {}): Promise<Buffer[]> {
  const { outputs } = await collect(pathOf(file), { times, format: 'raw', backend: 'native', ...options });
  return outputs.map((o) => o.data);
}

/** The lowest PSNR of the images of `file` against the SDR source's. */
async function worstPsnr(file: MadeFile, options: SnapshotOptions = {}): Promise<number> {
  const [hdr, sdr] = [await images(file, options), await images(sdrTagged, options)];
  return Math.min(...hdr.map((image, k) => psnr(image, sdr[k])));
}

// ---- the standards' formulas ------------------------------------------------

const pq = { m1: 2610 / 16384, m2: (2523 / 4096) * 128, c1: 3424 / 4096, c2: (2413 / 4096) * 32, c3: (2392 / 4096) * 32 };
const pqToNits = (e: number) => {
  const p = e ** (1 / pq.m2);
  return 10000 * (Math.max(p - pq.c1, 0) / (pq.c2 - pq.c3 * p)) ** (1 / pq.m1);
};
const nitsToPq = (nits: number) => {
  const y = (nits / 10000) ** pq.m1;
  return ((pq.c1 + pq.c2 * y) / (1 + pq.c3 * y)) ** pq.m2;
};

/** ITU-R BT.2390 EETF to a 100 cd/m² display, black 0: cd/m² out for PQ code `e` of a `peak` source. */
function eetfNits(e: number, peak: number): number {
  const top = nitsToPq(peak);
  const maxLum = nitsToPq(100) / top;
  const e1 = Math.min(e / top, 1);
  const ks = 1.5 * maxLum - 0.5;
  if (e1 < ks) return pqToNits(e);
  const t = (e1 - ks) / (1 - ks);
  const e2 = (2 * t ** 3 - 3 * t ** 2 + 1) * ks + (t ** 3 - 2 * t ** 2 + t) * (1 - ks) + (-2 * t ** 3 + 3 * t ** 2) * maxLum;
  return pqToNits(e2 * top);
}

const hlgConst = { a: 0.17883277, b: 1 - 4 * 0.17883277, c: 0.5 - 0.17883277 * Math.log(4 * 0.17883277) };
const hlgToScene = (e: number) => (e <= 0.5 ? (e * e) / 3 : (Math.exp((e - hlgConst.c) / hlgConst.a) + hlgConst.b) / 12);
/** BT.2100 display light (cd/m²) of grey HLG code `e` on a 1000 cd/m² display (system gamma 1.2). */
const hlgGreyNits = (e: number) => 1000 * hlgToScene(e) ** 1.2;
/** BT.2408's reference white: HLG 75%. */
const hlgWhite = hlgGreyNits(0.75);

/** BT.1886 (black 0, gamma 2.4): the 8-bit code of relative light `l` (1 = SDR white). */
const bt1886Code = (l: number) => Math.round(255 * Math.min(Math.max(l, 0), 1) ** (1 / 2.4));
const bt1886Light = (code: number) => (code / 255) ** 2.4;

/** The ramp's 10-bit code value (4x across) at column x, as a fraction. */
const rampCode = (x: number) => (4 * x) / 1023;

async function rampRow(file: MadeFile): Promise<Buffer> {
  const { outputs } = await collect(pathOf(file), { times: [0], format: 'raw', backend: 'native' });
  const row = Math.floor(rampSize.height / 2) * rampSize.width * 3;
  return outputs[0].data.subarray(row, row + rampSize.width * 3);
}

describe('tonemap: HDR as a player shows it', () => {
  it('gives PQ graded within SDR (MaxCLL 100, in SEI) as its SDR source, >= 30 dB', async () => {
    expect(await worstPsnr(pqMaxCll100)).toBeGreaterThanOrEqual(30);
    // Unmapped, the same clip is far from it: the mapping is what brings it there.
    expect(await worstPsnr(pqMaxCll100, { tonemap: 'off' })).toBeLessThan(15);
  });

  it('maps PQ from a 1000 cd/m² master, and PQ without metadata as one, to >= 24 dB', async () => {
    expect(await worstPsnr(hdr10WithMetadata)).toBeGreaterThanOrEqual(24);
    const [withMetadata, without] = [await images(hdr10WithMetadata), await images(pqWithoutMetadata)];
    // 1000 cd/m² is assumed without metadata, so both clips map alike (their encodes differ a little).
    for (const [k, image] of withMetadata.entries()) expect(psnr(image, without[k])).toBeGreaterThan(40);
  });

  it('gives HLG made with SDR white at reference white >= 20 dB of its source (zscale\'s HLG is not BT.2100\'s on colours)', async () => {
    // Grey matches (the ramp below), as do colours where BT.2100's formulas
    // make them (the blue ramp); zscale (zimg), which made this clip from
    // SDR, sets saturated colours' HLG light otherwise than BT.2100's
    // luminance-based OOTF does: a saturated blue comes out 20% dimmer.
    expect(await worstPsnr(hlg)).toBeGreaterThanOrEqual(20);
    expect(await worstPsnr(hlg, { tonemap: 'off' })).toBeLessThan(await worstPsnr(hlg));
  });

  it('gives HLG made from SDR by BT.2100\'s formulas (SDR white at reference white) as its SDR source, >= 30 dB', async () => {
    expect(await worstPsnr(hlgBt2100)).toBeGreaterThanOrEqual(30);
  });

  it('shows an HLG grade with SDR white at 100 cd/m² as BT.2100 does: its white 100/203 of SDR white', async () => {
    const [dim, sdr] = [await images(hlgDim), await images(sdrTagged)];
    // Light ratio per pixel, where the SDR source is bright enough to measure it.
    const ratios: number[] = [];
    for (let i = 0; i < sdr[0].length; i += 3) {
      if (sdr[0][i + 1] > 150) ratios.push(bt1886Light(dim[0][i + 1]) / bt1886Light(sdr[0][i + 1]));
    }
    ratios.sort((a, b) => a - b);
    expect(ratios[Math.floor(ratios.length / 2)]).toBeCloseTo(100 / hlgWhite, 1);
  });

  it('maps every code value of a grey PQ ramp as the BT.2390 EETF from 1000 cd/m² does, within 2', async () => {
    const row = await rampRow(pqGreyRamp);
    for (let x = 0; x < rampSize.width; x++) {
      const expected = bt1886Code(eetfNits(rampCode(x), 1000) / 100);
      for (let c = 0; c < 3; c++) expect(Math.abs(row[3 * x + c] - expected), `column ${x}`).toBeLessThanOrEqual(2);
    }
  });

  it('maps every code value of a grey HLG ramp as BT.2100 with reference white at SDR white does, within 2', async () => {
    const row = await rampRow(hlgGreyRamp);
    for (let x = 0; x < rampSize.width; x++) {
      const expected = bt1886Code(hlgGreyNits(rampCode(x)) / hlgWhite);
      for (let c = 0; c < 3; c++) expect(Math.abs(row[3 * x + c] - expected), `column ${x}`).toBeLessThanOrEqual(2);
    }
  });

  it('keeps the luminance of BT.2020 green that BT.709 cannot show, without a clipped band', async () => {
    const row = await rampRow(pqGreenRamp);
    // BT.2020 green's luminance is 0.6780 of its light; clipping per channel would give BT.709 green 1.1329 of it (0.81).
    let checked = 0;
    let previousGreen = 0;
    for (let x = 0; x < rampSize.width; x++) {
      const [r, g, b] = [row[3 * x], row[3 * x + 1], row[3 * x + 2]];
      expect(g, `column ${x}`).toBeGreaterThanOrEqual(previousGreen);
      previousGreen = g;
      const light = eetfNits(rampCode(x), 1000) / 100;
      const expected = 0.678 * light;
      // Where a code value's step is under 3% of the light.
      if (expected < 0.05) continue;
      const luminance = 0.2126 * bt1886Light(r) + 0.7152 * bt1886Light(g) + 0.0722 * bt1886Light(b);
      expect(luminance / expected, `column ${x}`).toBeGreaterThan(0.97);
      expect(luminance / expected, `column ${x}`).toBeLessThan(1.03);
      // Moved toward grey: blue, which BT.2020 green lacks in BT.709, is lifted above 0.
      expect(b, `column ${x}`).toBeGreaterThan(0);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('gives BT.2020 blue in HLG the luminance of BT.2100\'s luminance-based OOTF, brighter than SDR white scaled down whole', async () => {
    const row = await rampRow(hlgBlueRamp);
    let checked = 0;
    for (let x = 0; x < rampSize.width; x++) {
      const [r, g, b] = [row[3 * x], row[3 * x + 1], row[3 * x + 2]];
      const scene = hlgToScene(rampCode(x));
      // Fd = 1000 * Ys^(1.2 - 1) * E, Ys = 0.0593 E (BT.2020 blue's luminance), SDR white at reference white.
      const light = Math.min((1000 * (0.0593 * scene) ** 0.2 * scene) / hlgWhite, 1);
      const expected = 0.0593 * light;
      if (expected < 0.005) continue;
      const luminance = 0.2126 * bt1886Light(r) + 0.7152 * bt1886Light(g) + 0.0722 * bt1886Light(b);
      // Within 1%, and a code value of each channel (the 10-bit YUV the
      // ramp went through, then 8 bits): a dark green of code 14 or 15 is
      // 18% apart in light.
      const step = (code: number) => bt1886Light(code + 0.5) - bt1886Light(Math.max(code - 0.5, 0));
      const rounding = 0.2126 * step(r) + 0.7152 * step(g) + 0.0722 * step(b);
      expect(Math.abs(luminance - expected), `column ${x}`).toBeLessThanOrEqual(0.01 * expected + rounding);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('gives Dolby Vision profile 8.4 (its record, no RPU used) as the HLG it carries, byte for byte', async () => {
    const path = await scratchPath('tonemap-dolby-vision-8.4.mp4');
    await withDolbyVisionRecord(pathOf(hlg), path, { profile: 8, level: 4, blSignalCompatibilityId: 4 });
    const { outputs } = await collect(path, { times, format: 'raw', backend: 'native' });
    const plain = await images(hlg);
    for (const [k, output] of outputs.entries()) expect(output.data.equals(plain[k])).toBe(true);
  });

  it('refuses Dolby Vision without a compatible base layer (profile 5) with tonemap auto, on both backends, and gives it with off', async () => {
    const path = await scratchPath('tonemap-dolby-vision-5.mp4');
    await withDolbyVisionRecord(pathOf(hlg), path, { profile: 5, level: 4, blSignalCompatibilityId: 0 });
    for (const backend of ['native', 'wasm'] as const) {
      const error = await failureOf(() => collect(path, { times: [0.5], backend }));
      expect((error as VsnapError).code).toBe('VSNAP_UNSUPPORTED_INPUT');
      expect((error as VsnapError).message).toMatch(/Dolby Vision profile 5 .*tonemap 'off'/);
      expect((await collect(path, { times: [0.5], backend, tonemap: 'off' })).outputs).toHaveLength(1);
    }
  });

  it('turns an HDR portrait video upright, mapped as the landscape one', async () => {
    const { outputs } = await collect(pathOf(hlgPortrait), { times, format: 'raw', backend: 'native' });
    const landscape = await images(hlg);
    for (const [k, output] of outputs.entries()) {
      expect([output.width, output.height]).toEqual([hdrSize.height, hdrSize.width]);
      // Upright is the coded picture turned 90 degrees clockwise: pixel (x, y) of the coded one lands at (H-1-y, x).
      const coded = landscape[k];
      const turned = Buffer.alloc(coded.length);
      for (let y = 0; y < hdrSize.height; y++) {
        for (let x = 0; x < hdrSize.width; x++) {
          const from = (y * hdrSize.width + x) * 3;
          const to = (x * hdrSize.height + (hdrSize.height - 1 - y)) * 3;
          coded.copy(turned, to, from, from + 3);
        }
      }
      expect(output.data.equals(turned)).toBe(true);
    }
  });

  it('maps scaled images (thumbnails, sprites) as full-size ones, >= 30 dB of the SDR source at that size', async () => {
    expect(await worstPsnr(pqMaxCll100, { width: 160 })).toBeGreaterThanOrEqual(30);
    expect(await worstPsnr(pqMaxCll100, { width: 100, height: 100, fit: 'contain' })).toBeGreaterThanOrEqual(30);
    expect(await worstPsnr(hlg, { width: 100, height: 100, fit: 'contain' })).toBeGreaterThanOrEqual(20);
  });

  it('gives the same bytes whichever lane decodes a frame: the PQ peak is the run\'s, from the first keyframe\'s SEI', async () => {
    const every = { interval: 0.1, format: 'raw' as const, backend: 'native' as const };
    const run = async (file: MadeFile, lanes: number) => {
      const outputs: Buffer[] = [];
      for await (const output of new SnapshotRun(resolveInput(pathOf(file)), resolveSnapshotOptions(every), { lanes })) outputs.push(output.data);
      return outputs;
    };
    const [one, two] = [await run(pqMaxCll100, 1), await run(pqMaxCll100, 2)];
    expect(two.length).toBe(20);
    for (const [k, image] of two.entries()) expect(image.equals(one[k])).toBe(true);
    // Every GOP's frames, not only the first's, are mapped from MaxCLL 100.
    const sdr = await run(sdrTagged, 2);
    for (const [k, image] of two.entries()) expect(psnr(image, sdr[k])).toBeGreaterThanOrEqual(30);
  });

  it('leaves SDR video byte for byte as tonemap off gives it, JPEG and raw', async () => {
    for (const format of ['raw', 'jpg'] as const) {
      const [auto, off] = [await images(sdrTagged, { format }), await images(sdrTagged, { format, tonemap: 'off' })];
      for (const [k, image] of auto.entries()) expect(image.equals(off[k])).toBe(true);
    }
  });
});

describe('tonemap on the wasm backend', () => {
  const wasm: BackendName = 'wasm';

  it('refuses HDR with tonemap auto, naming the backend, rather than give unmapped pictures', async () => {
    for (const file of [pqMaxCll100, hlg]) {
      const error = await failureOf(() => collect(pathOf(file), { times: [0.5], backend: wasm }));
      expect(error).toBeInstanceOf(VsnapError);
      expect((error as VsnapError).code).toBe('VSNAP_UNSUPPORTED_INPUT');
      expect((error as VsnapError).message).toMatch(/HDR .*wasm backend .*tonemap 'off'/);
    }
  });

  it('gives HDR unmapped with tonemap off, and SDR with auto, as the native backend does', async () => {
    for (const [file, tonemap] of [[pqMaxCll100, 'off'], [sdrTagged, 'auto']] as const) {
      const native = await images(file, { tonemap });
      const { outputs } = await collect(pathOf(file), { times, format: 'raw', backend: wasm, tonemap });
      for (const [k, output] of outputs.entries()) expect(psnr(output.data, native[k])).toBeGreaterThan(40);
    }
  });
});

describe('the tonemap option', () => {
  it('takes auto or off, and names a bad value', async () => {
    const error = await failureOf(() => collect(pathOf(sdrTagged), { tonemap: 'hable' as never }));
    expect(error).toBeInstanceOf(VsnapError);
    expect((error as VsnapError).code).toBe('VSNAP_INVALID_OPTION');
    expect((error as VsnapError).message).toContain('tonemap');
    expect((error as VsnapError).message).toContain('one of auto, off');
  });
});
