#!/usr/bin/env node
/**
 * Makes the committed videos of test/fixtures/seek/: files whose index
 * promises more than their bitstream keeps, so that a decode started at a
 * keyframe differs from the decode of the whole stream, and one whose
 * bitstream is damaged for every decoder. test/engine/seek-recovery.test.ts
 * proves vsnap's images of them equal a sequential decode's.
 *
 *   node scripts/make-seek-fixtures.mjs [OUT_DIR]   (default test/fixtures/seek)
 *
 * They are committed rather than made at test time because what they test
 * is their exact bytes (an x264 or muxer update could quietly mend them).
 * Needs the ffmpeg and ffprobe command-line tools with libx264.
 *
 *   splice-pps.mp4       two encoder sessions spliced: the second one's
 *                        parameter sets (no 8x8 transform, another chroma QP
 *                        offset) ride in-band at its first keyframe only;
 *                        the MP4's avcC holds the first session's. A seek to
 *                        a later keyframe of the second part decodes it with
 *                        the wrong PPS: grey garbage, "top block unavailable
 *                        for requested intra mode". Keyframes every second.
 *   sync-p-frames.mp4    an MP4 whose stss also lists a P-frame in the middle
 *                        of each 2-second GOP (B-frames, 30 fps).
 *   no-stss.mp4          the same stream with no stss box at all: for ISO
 *                        BMFF every sample is then a sync sample, so every
 *                        seek lands on a frame that references earlier ones.
 *   open-gop.mp4         x264 open GOPs: the I-frames after the first are
 *                        recovery points, not IDRs, and the muxer marks them
 *                        sync; B-frames before each one in display order
 *                        reference the GOP before.
 *   intra-refresh.mp4    x264 periodic intra refresh: no IDR after the first
 *                        frame; each "keyframe" is a P-frame with a recovery
 *                        point SEI that FFmpeg marks key, whose picture is
 *                        whole only a GOP later. Decoded from its own
 *                        keyframe, a frame is missing (H.264 does not output
 *                        pictures before their recovery point).
 *   damaged.mp4          bytes of a P-frame overwritten in the middle of the
 *                        second GOP: a sequential decode is damaged there too.
 *
 * FFmpeg's H.264 parser, not the MP4 index, marks packets key (an IDR or a
 * recovery point), so the sync samples that sync-p-frames.mp4 and
 * no-stss.mp4 add reach vsnap only through the demuxer's seek index and the
 * planner that reads it.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const outDir = resolve(process.argv[2] ?? 'test/fixtures/seek');
const work = mkdtempSync(join(tmpdir(), 'vsnap-seek-fixtures-'));

const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'];
const gop = (frames) => ['-g', String(frames), '-keyint_min', String(frames)];
const testsrc2 = (seconds, size = '320x240') => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30:duration=${seconds}`];

function ffmpeg(...args) {
  execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function ffprobeJson(...args) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', ...args], { maxBuffer: 64 << 20 }).toString());
}

// ---- MP4 boxes ---------------------------------------------------------------

/** The boxes in bytes [start, end): type, where each starts, its header and total size. */
function boxes(bytes, start = 0, end = bytes.length) {
  const found = [];
  for (let at = start; at + 8 <= end; ) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > end) throw new Error(`make-seek-fixtures: box ${type} at ${at} has size ${size}`);
    found.push({ type, start: at, size });
    at += size;
  }
  return found;
}

/**
 * The chain of boxes from the top level down to the video track's `leaf`
 * (moov > trak > mdia > minf > stbl > leaf), or the chain to stbl when
 * `leaf` is missing and `optional`.
 */
function videoTrackPath(bytes, leaf, optional = false) {
  const moov = boxes(bytes).find((box) => box.type === 'moov');
  const mdat = boxes(bytes).find((box) => box.type === 'mdat');
  // The edits change moov's size; before mdat, that would move every chunk.
  if (!moov || !mdat || moov.start < mdat.start) throw new Error('make-seek-fixtures: expected moov after mdat');
  for (const trak of boxes(bytes, moov.start + 8, moov.start + moov.size).filter((box) => box.type === 'trak')) {
    const chain = [moov, trak];
    let parent = trak;
    for (const type of ['mdia', 'minf', 'stbl']) {
      parent = boxes(bytes, parent.start + 8, parent.start + parent.size).find((box) => box.type === type);
      if (!parent) break;
      chain.push(parent);
    }
    if (chain.length < 5) continue;
    const children = boxes(bytes, parent.start + 8, parent.start + parent.size);
    if (!children.some((box) => box.type === 'stsd' && bytes.includes('avc1', box.start, 'latin1'))) continue;
    const target = children.find((box) => box.type === leaf);
    if (target) return [...chain, target];
    if (optional) return chain;
    throw new Error(`make-seek-fixtures: the video track has no ${leaf}`);
  }
  throw new Error('make-seek-fixtures: no H.264 video track');
}

/** Replaces the last box of `chain` with `replacement` (empty: removes it), fixing its ancestors' sizes. */
function replaceBox(bytes, chain, replacement) {
  const box = chain[chain.length - 1];
  const delta = replacement.length - box.size;
  const out = Buffer.concat([bytes.subarray(0, box.start), replacement, bytes.subarray(box.start + box.size)]);
  for (const ancestor of chain.slice(0, -1)) out.writeUInt32BE(ancestor.size + delta, ancestor.start);
  return out;
}

function stssBox(sampleNumbers) {
  const box = Buffer.alloc(16 + 4 * sampleNumbers.length);
  box.writeUInt32BE(box.length, 0);
  box.write('stss', 4, 'latin1');
  box.writeUInt32BE(sampleNumbers.length, 12);
  sampleNumbers.forEach((number, i) => box.writeUInt32BE(number, 16 + 4 * i));
  return box;
}

// ---- the stream's packets and frames ---------------------------------------------

/** Packets in decode order (= MP4 sample order) with their byte position, and each frame's picture type by packet. */
function packetsWithTypes(path) {
  const { packets } = ffprobeJson('-select_streams', 'v:0', '-show_packets', '-show_entries', 'packet=pts,pos,size,flags', path);
  const { frames } = ffprobeJson('-select_streams', 'v:0', '-show_frames', '-show_entries', 'frame=pkt_pos,pict_type', path);
  const typeAt = new Map(frames.map((frame) => [Number(frame.pkt_pos), frame.pict_type]));
  return packets.map((packet, i) => ({
    sample: i + 1,
    pts: Number(packet.pts),
    pos: Number(packet.pos),
    size: Number(packet.size),
    key: packet.flags.includes('K'),
    type: typeAt.get(Number(packet.pos)),
  }));
}

/** The P-frame packet displayed nearest `pts`. */
function pFrameNear(packets, pts) {
  const candidates = packets.filter((packet) => packet.type === 'P');
  return candidates.reduce((best, packet) => (Math.abs(packet.pts - pts) < Math.abs(best.pts - pts) ? packet : best));
}

// ---- the fixtures ------------------------------------------------------------------

function spliceOfTwoSessions(out) {
  const first = join(work, 'first.mp4');
  const secondHead = join(work, 'second-head.mp4');
  const secondTail = join(work, 'second-tail.mp4');
  const second = ['-x264-params', '8x8dct=0:chroma-qp-offset=3'];
  ffmpeg(...testsrc2(3), ...x264, ...gop(30), first);
  // The second session's first GOP carries its SPS and PPS in-band; the rest relies on them.
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30:duration=1', ...x264, ...gop(30), ...second,
    '-bsf:v', 'dump_extra=freq=keyframe', secondHead);
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30:duration=4', '-ss', '1', ...x264, ...gop(30), ...second,
    '-bsf:v', 'filter_units=remove_types=7|8', secondTail);
  const list = join(work, 'list.txt');
  writeFileSync(list, [first, secondHead, secondTail].map((file) => `file '${file}'\n`).join(''));
  // auto_convert 0: no h264_mp4toannexb, which would put parameter sets before every keyframe.
  ffmpeg('-f', 'concat', '-safe', '0', '-auto_convert', '0', '-i', list, '-c', 'copy', out);
}

function syncPFrames(out) {
  const source = join(work, 'long-gop.mp4');
  ffmpeg(...testsrc2(6), ...x264, ...gop(60), source);
  const packets = packetsWithTypes(source);
  const timeBase = 15360; // ticks per second: FFmpeg's MP4 time base for 30 fps
  const bogus = [1, 3, 5].map((seconds) => pFrameNear(packets, seconds * timeBase).sample);
  const sync = [...packets.filter((packet) => packet.key).map((packet) => packet.sample), ...bogus].sort((a, b) => a - b);
  const bytes = readFileSync(source);
  writeFileSync(out, replaceBox(bytes, videoTrackPath(bytes, 'stss'), stssBox(sync)));
  return source;
}

function withoutStss(source, out) {
  const bytes = readFileSync(source);
  writeFileSync(out, replaceBox(bytes, videoTrackPath(bytes, 'stss'), Buffer.alloc(0)));
}

function openGop(out) {
  ffmpeg(...testsrc2(4), ...x264, ...gop(30), '-x264-params', 'open-gop=1', out);
}

function intraRefresh(out) {
  ffmpeg(...testsrc2(4), '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', ...gop(30), '-x264-params', 'intra-refresh=1',
    '-pix_fmt', 'yuv420p', out);
}

function damagedBitstream(out) {
  const source = join(work, 'clean.mp4');
  ffmpeg(...testsrc2(4), ...x264, ...gop(30), source);
  const packets = packetsWithTypes(source);
  const victim = pFrameNear(packets, 1.5 * 15360);
  const bytes = readFileSync(source);
  // The slice data's middle third, so that the headers parse and the macroblocks do not.
  const from = victim.pos + Math.floor(victim.size / 3);
  const to = victim.pos + Math.floor((2 * victim.size) / 3);
  for (let at = from; at < to; at += 1) bytes[at] = (at * 151) & 0xff;
  writeFileSync(out, bytes);
}

try {
  mkdirSync(outDir, { recursive: true });
  spliceOfTwoSessions(join(outDir, 'splice-pps.mp4'));
  const longGop = syncPFrames(join(outDir, 'sync-p-frames.mp4'));
  withoutStss(longGop, join(outDir, 'no-stss.mp4'));
  openGop(join(outDir, 'open-gop.mp4'));
  intraRefresh(join(outDir, 'intra-refresh.mp4'));
  damagedBitstream(join(outDir, 'damaged.mp4'));
  console.log(`make-seek-fixtures: wrote ${outDir}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
