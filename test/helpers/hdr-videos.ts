/**
 * HDR clips made from SDR footage as a colourist would master them, with
 * FFmpeg's zscale: softened testsrc2 (saturation 0.7, a Gaussian blur of
 * 2 px, so that 4:2:0 chroma of the PQ signal and of the SDR one differ
 * little) in 8-bit YUV tagged BT.709, linearised with SDR white at 100 cd/m²
 * (PQ) or at HLG's reference white (203 cd/m², BT.2408), converted to BT.2020
 * primaries and encoded with the PQ (SMPTE ST 2084) or HLG (ARIB STD-B67)
 * transfer as 10-bit HEVC (x265) (and HLG by BT.2100's formulas, in a geq
 * expression), with HDR10 static metadata in the
 * bitstream (SEI, as x265 and phones write it) or without; the SDR source
 * itself, tagged; and ramps of known code values (lossless 4:4:4), which
 * test the transfer functions against their standards.
 */

import type { MadeFile } from './made-file.js';

export const hdrSeconds = 2;
export const hdrSize = { width: 320, height: 240 } as const;
const source = [
  '-f', 'lavfi', '-i',
  `testsrc2=size=${hdrSize.width}x${hdrSize.height}:rate=30:duration=${hdrSeconds},hue=s=0.7,gblur=sigma=2,format=yuv420p`,
];
const sdrTags = 'setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv';
/** A keyframe every half second, none at scene cuts: several GOPs for lanes to share. */
const gop = ['keyint=15', 'min-keyint=15', 'scenecut=0'];

type Transfer = 'smpte2084' | 'arib-std-b67';

function hdrTags(transfer: Transfer): string[] {
  return ['-color_primaries', 'bt2020', '-color_trc', transfer, '-colorspace', 'bt2020nc', '-color_range', 'tv'];
}

function x265(transfer: Transfer, params: string[]): string[] {
  const all = ['log-level=error', 'colorprim=bt2020', `transfer=${transfer}`, 'colormatrix=bt2020nc', ...params];
  return ['-c:v', 'libx265', '-x265-params', all.join(':'), '-tag:v', 'hvc1'];
}

/** `sdrWhite`: the cd/m² SDR white becomes (zscale's npl). */
function hdr(name: string, transfer: Transfer, sdrWhite: number, metadata: string[], remux?: MadeFile['remux']): MadeFile {
  const chain = [
    sdrTags,
    `zscale=transfer=linear:npl=${sdrWhite}`,
    'format=gbrpf32le',
    'zscale=primaries=bt2020',
    `zscale=transfer=${transfer}:matrix=bt2020nc:range=tv:npl=${sdrWhite}`,
    'format=yuv420p10le',
  ].join(',');
  return {
    name,
    ext: 'mp4',
    encoder: 'libx265',
    encode: [...source, '-vf', chain, ...x265(transfer, ['crf=12', ...gop, ...metadata]), ...hdrTags(transfer)],
    remux,
  };
}

const p3Display = 'G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)';

/** HDR10: PQ with a 1000 cd/m² mastering display (P3 primaries, D65) and MaxCLL 1000, MaxFALL 400, in SEI. */
export const hdr10WithMetadata = hdr('hdr10-pq-sei', 'smpte2084', 100, [`master-display=${p3Display}L(10000000,50)`, 'max-cll=1000,400']);

/** PQ footage graded within SDR's range: MaxCLL 100 cd/m² (the mastering display 1000), in SEI. */
export const pqMaxCll100 = hdr('hdr10-pq-maxcll100', 'smpte2084', 100, [`master-display=${p3Display}L(10000000,50)`, 'max-cll=100,50']);

/** PQ without static metadata. */
export const pqWithoutMetadata = hdr('hdr-pq-bare', 'smpte2084', 100, []);

/** HLG, as phones record by default, SDR white at HLG's reference white (75%). */
export const hlg = hdr('hdr-hlg', 'arib-std-b67', 203, []);

/**
 * HLG made from the SDR footage by BT.2100's own formulas, in a geq
 * expression: SDR R'G'B' -> BT.1886 light, SDR white at 203 cd/m² on a 1000
 * cd/m² display -> BT.2020 -> the inverse of the luminance-based OOTF (gamma
 * 1.2) -> the HLG OETF. zscale's HLG (above) sets saturated colours'
 * light otherwise.
 */
function bt2100HlgExpression(): string {
  const light = (c: string) => `pow(${c}(X,Y)/65535,2.4)*0.203`;
  const [r, g, b] = [light('r'), light('g'), light('b')];
  const toBt2020 = [
    `st(0,0.6274*${r}+0.3293*${g}+0.0433*${b})`,
    `st(1,0.0691*${r}+0.9195*${g}+0.0114*${b})`,
    `st(2,0.0164*${r}+0.0880*${g}+0.8956*${b})`,
    // Ys^(1 - gamma) with Ys = Yd^(1/gamma): the inverse OOTF's gain.
    'st(3,pow(max(0.2627*ld(0)+0.6780*ld(1)+0.0593*ld(2),1e-12),-0.2/1.2))',
  ].join(';');
  const oetf = (k: number) =>
    `st(4,ld(${k})*ld(3));65535*if(lte(ld(4),1/12),sqrt(3*ld(4)),0.17883277*log(max(12*ld(4)-0.28466892,1e-12))+0.55991073)`;
  return `geq=r='${toBt2020};${oetf(0)}':g='${toBt2020};${oetf(1)}':b='${toBt2020};${oetf(2)}'`;
}

export const hlgBt2100: MadeFile = {
  name: 'hdr-hlg-bt2100',
  ext: 'mp4',
  encoder: 'libx265',
  encode: [
    ...source,
    '-vf',
    [sdrTags, 'format=gbrp16le', bt2100HlgExpression(), 'setparams=color_primaries=bt2020:color_trc=arib-std-b67',
      'zscale=matrix=bt2020nc:range=tv', 'format=yuv420p10le'].join(','),
    ...x265('arib-std-b67', ['crf=12', ...gop]),
    ...hdrTags('arib-std-b67'),
  ],
};

/** HLG made with SDR white at 100 cd/m² on its 1000 cd/m² display (zscale's npl=100): a darker grade. */
export const hlgDim = hdr('hdr-hlg-dim', 'arib-std-b67', 100, []);

/**
 * The HLG clip as a phone's portrait video: its display matrix turns it
 * clockwise (FFmpeg 5.1 writes the `rotate` tag as one on stream copy; 270
 * makes ffprobe say -90).
 */
export const hlgPortrait = hdr('hdr-hlg-portrait', 'arib-std-b67', 203, [], { input: [], output: ['-metadata:s:v:0', 'rotate=270'] });

/** The SDR footage, tagged BT.709. */
export const sdrTagged: MadeFile = {
  name: 'sdr-bt709-tagged',
  ext: 'mp4',
  encoder: 'libx264',
  encode: [...source, '-vf', sdrTags, '-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv420p',
    '-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709', '-color_range', 'tv'],
};

export const rampSize = { width: 256, height: 32 } as const;

/**
 * A ramp of 10-bit code values 4x across (0 .. 1020), in R'G'B' `channels`
 * ('rgb': grey; 'g' or 'b': BT.2020's green or blue alone), lossless 4:4:4 in BT.2020.
 */
function ramp(name: string, transfer: Transfer, channels: 'rgb' | 'g' | 'b', metadata: string[]): MadeFile {
  const value = (channel: string) => (channels === 'rgb' || channels === channel ? 'X*4' : '0');
  const chain = [
    'format=gbrp10le',
    `geq=r='${value('r')}':g='${value('g')}':b='${value('b')}'`,
    `setparams=color_primaries=bt2020:color_trc=${transfer}`,
    'zscale=matrix=bt2020nc:range=tv',
    'format=yuv444p10le',
  ].join(',');
  return {
    name,
    ext: 'mp4',
    encoder: 'libx265',
    encode: ['-f', 'lavfi', '-i', `nullsrc=size=${rampSize.width}x${rampSize.height}:rate=30:duration=0.2`, '-vf', chain,
      ...x265(transfer, ['lossless=1', ...metadata]), ...hdrTags(transfer)],
  };
}

/** Grey PQ code values across, from a 1000 cd/m² master (MaxCLL 1000). */
export const pqGreyRamp = ramp('ramp-pq-grey', 'smpte2084', 'rgb', [`master-display=${p3Display}L(10000000,50)`, 'max-cll=1000,400']);
/** BT.2020's green alone, PQ, from a 1000 cd/m² master: colours outside BT.709. */
export const pqGreenRamp = ramp('ramp-pq-green', 'smpte2084', 'g', [`master-display=${p3Display}L(10000000,50)`, 'max-cll=1000,400']);
/** Grey HLG code values across. */
export const hlgGreyRamp = ramp('ramp-hlg-grey', 'arib-std-b67', 'rgb', []);
/** BT.2020's blue alone, HLG: a saturated colour whose light the OOTF sets from its luminance. */
export const hlgBlueRamp = ramp('ramp-hlg-blue', 'arib-std-b67', 'b', []);

/** Every file above, for the global setup to make once per run. */
export const hdrVideos: readonly MadeFile[] = [
  hdr10WithMetadata, pqMaxCll100, pqWithoutMetadata, hlg, hlgBt2100, hlgDim, hlgPortrait, sdrTagged, pqGreyRamp, pqGreenRamp, hlgGreyRamp, hlgBlueRamp,
];
