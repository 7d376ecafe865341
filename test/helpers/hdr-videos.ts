/**
 * HDR clips made from SDR footage as a colourist would master them, with
 * FFmpeg's zscale: testsrc2 tagged BT.709, linearised with 100 nits at
 * SDR white, converted to BT.2020 primaries and encoded with the PQ
 * (SMPTE ST 2084) or HLG (ARIB STD-B67) transfer as 10-bit HEVC (x265),
 * with HDR10 static metadata in the bitstream (SEI, as x265 and phones
 * write it) or without; and the SDR source itself, tagged.
 */

import type { MadeFile } from './made-file.js';

const seconds = 1;
const source = ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${seconds}`];
const sdrTags = 'setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv';

function hdr(name: string, transfer: 'smpte2084' | 'arib-std-b67', metadata: string[]): MadeFile {
  const chain = [
    sdrTags,
    'zscale=transfer=linear:npl=100',
    'format=gbrpf32le',
    'zscale=primaries=bt2020',
    `zscale=transfer=${transfer}:matrix=bt2020nc:range=tv:npl=100`,
    'format=yuv420p10le',
  ].join(',');
  const x265 = ['log-level=error', 'colorprim=bt2020', `transfer=${transfer}`, 'colormatrix=bt2020nc', ...metadata];
  return {
    name,
    ext: 'mp4',
    encoder: 'libx265',
    encode: [...source, '-vf', chain, '-c:v', 'libx265', '-x265-params', x265.join(':'), '-tag:v', 'hvc1',
      '-color_primaries', 'bt2020', '-color_trc', transfer, '-colorspace', 'bt2020nc', '-color_range', 'tv'],
  };
}

/** HDR10: PQ with a 1000-nit mastering display (P3 primaries, D65) and MaxCLL 1000, MaxFALL 400, in SEI. */
export const hdr10WithMetadata = hdr('hdr10-pq-sei', 'smpte2084', [
  'master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)',
  'max-cll=1000,400',
]);

/** PQ without static metadata. */
export const pqWithoutMetadata = hdr('hdr-pq-bare', 'smpte2084', []);

/** HLG, as phones record by default. */
export const hlg = hdr('hdr-hlg', 'arib-std-b67', []);

/** The SDR footage, tagged BT.709. */
export const sdrTagged: MadeFile = {
  name: 'sdr-bt709-tagged',
  ext: 'mp4',
  encoder: 'libx264',
  encode: [...source, '-vf', sdrTags, '-c:v', 'libx264', '-pix_fmt', 'yuv420p',
    '-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709', '-color_range', 'tv'],
};
