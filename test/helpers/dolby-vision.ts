/**
 * A Dolby Vision configuration record (ETSI TS 103 572's dvvC box) added to
 * an MP4 that x265 made: what marks a phone's HLG recording as Dolby Vision
 * profile 8.4 to a demuxer. FFmpeg's CLI writes the box only when copying a
 * stream that has one, so it is put into the HEVC sample entry here, after
 * its hvcC; the file's moov must follow its mdat (FFmpeg's default without
 * +faststart), so that no chunk offset moves. The bitstream carries no RPU:
 * the record alone is what vsnap reads.
 */

import { readFile, writeFile } from 'node:fs/promises';

export interface DolbyVisionRecord {
  profile: number;
  level: number;
  /** The base layer's compatibility: 1 HDR10, 2 SDR, 4 HLG, 0 none. */
  blSignalCompatibilityId: number;
}

interface Box {
  at: number;
  size: number;
}

function findBox(file: Buffer, start: number, end: number, type: string): Box | undefined {
  for (let at = start; at + 8 <= end; ) {
    const size = file.readUInt32BE(at);
    if (size < 8) return undefined;
    if (file.toString('latin1', at + 4, at + 8) === type) return { at, size };
    at += size;
  }
  return undefined;
}

function requireBox(file: Buffer, start: number, end: number, type: string): Box {
  const box = findBox(file, start, end, type);
  if (box === undefined) throw new Error(`no ${type} box`);
  return box;
}

/** The dvvC box of `record`: version 1.0, RPU and base layer present, no enhancement layer. */
function dvvC(record: DolbyVisionRecord): Buffer {
  const box = Buffer.alloc(32);
  box.writeUInt32BE(box.length, 0);
  box.write('dvvC', 4, 'latin1');
  box[8] = 1;
  box[9] = 0;
  box.writeUInt16BE((record.profile << 9) | (record.level << 3) | (1 << 2) | (0 << 1) | 1, 10);
  box[12] = record.blSignalCompatibilityId << 4;
  return box;
}

/** Writes `input` with `record` in its first HEVC (hvc1) track's sample entry to `output`. */
export async function withDolbyVisionRecord(input: string, output: string, record: DolbyVisionRecord): Promise<void> {
  const file = await readFile(input);
  const moov = requireBox(file, 0, file.length, 'moov');
  if (findBox(file, 0, moov.at, 'mdat') === undefined) throw new Error('the moov box must follow the mdat box');
  for (let start = moov.at + 8; ; ) {
    const trak = requireBox(file, start, moov.at + moov.size, 'trak');
    const mdia = requireBox(file, trak.at + 8, trak.at + trak.size, 'mdia');
    const minf = requireBox(file, mdia.at + 8, mdia.at + mdia.size, 'minf');
    const stbl = requireBox(file, minf.at + 8, minf.at + minf.size, 'stbl');
    const stsd = requireBox(file, stbl.at + 8, stbl.at + stbl.size, 'stsd');
    // stsd: header, version and flags, entry count; hvc1: header, then 78 bytes of visual sample entry.
    const hvc1 = findBox(file, stsd.at + 16, stsd.at + stsd.size, 'hvc1');
    if (hvc1 === undefined) {
      start = trak.at + trak.size;
      continue;
    }
    const hvcC = requireBox(file, hvc1.at + 8 + 78, hvc1.at + hvc1.size, 'hvcC');
    const box = dvvC(record);
    for (const parent of [moov, trak, mdia, minf, stbl, stsd, hvc1]) file.writeUInt32BE(parent.size + box.length, parent.at);
    const insertAt = hvcC.at + hvcC.size;
    await writeFile(output, Buffer.concat([file.subarray(0, insertAt), box, file.subarray(insertAt)]));
    return;
  }
}
