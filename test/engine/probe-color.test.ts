/**
 * probe() tells how a video's samples map to colour, on both backends: the
 * matrix, primaries, transfer and range the stream declares, as ffprobe
 * reads them, and HDR10's static metadata (mastering display, content light
 * levels) from the container or, where only the bitstream carries it, from
 * the first frame's side data, as ffprobe -show_frames reads it; and a
 * Dolby Vision configuration record.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { probe, shutdown, type BackendName, type VideoInfo } from '../../src/index.js';
import { ffprobeJson } from '../helpers/ffmpeg.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { hdr10WithMetadata, hlg, pqWithoutMetadata, sdrTagged } from '../helpers/hdr-videos.js';
import { withDolbyVisionRecord } from '../helpers/dolby-vision.js';
import { fixturePath, scratchPath, type MadeFile } from '../helpers/made-file.js';

const backends: readonly BackendName[] = ['native', 'wasm'];

afterAll(shutdown);

interface SideData {
  side_data_type?: string;
  [field: string]: string | number | undefined;
}

const fraction = (text: string | number | undefined): number => {
  const [num, den] = String(text).split('/').map(Number);
  return den === undefined ? num : num / den;
};

/** What ffprobe reads of the stream and of its first frame, in probe()'s terms. */
async function ffprobeColor(path: string): Promise<VideoInfo['color']> {
  const streams = (await ffprobeJson(['-select_streams', 'V:0', '-show_streams', path])) as {
    streams: { color_space?: string; color_primaries?: string; color_transfer?: string; color_range?: string; side_data_list?: SideData[] }[];
  };
  const frames = (await ffprobeJson(['-select_streams', 'V:0', '-read_intervals', '%+#1', '-show_frames', path])) as {
    frames: { side_data_list?: SideData[] }[];
  };
  const stream = streams.streams[0];
  const named = (name: string | undefined) => (name === undefined || name === 'unknown' ? null : name);
  const sideData = [...(stream.side_data_list ?? []), ...(frames.frames[0]?.side_data_list ?? [])];
  const display = sideData.find((d) => d.side_data_type === 'Mastering display metadata');
  const light = sideData.find((d) => d.side_data_type === 'Content light level metadata');
  const dolbyVision = sideData.find((d) => d.side_data_type === 'DOVI configuration record');
  return {
    matrix: named(stream.color_space),
    primaries: named(stream.color_primaries),
    transfer: named(stream.color_transfer),
    range: stream.color_range === 'tv' ? 'limited' : stream.color_range === 'pc' ? 'full' : null,
    masteringDisplay:
      display === undefined
        ? null
        : {
            red: [fraction(display.red_x), fraction(display.red_y)],
            green: [fraction(display.green_x), fraction(display.green_y)],
            blue: [fraction(display.blue_x), fraction(display.blue_y)],
            whitePoint: [fraction(display.white_point_x), fraction(display.white_point_y)],
            minLuminance: fraction(display.min_luminance),
            maxLuminance: fraction(display.max_luminance),
          },
    contentLight: light === undefined ? null : { maxCll: Number(light.max_content), maxFall: Number(light.max_average) },
    dolbyVision:
      dolbyVision === undefined
        ? null
        : { profile: Number(dolbyVision.dv_profile), level: Number(dolbyVision.dv_level), blSignalCompatibilityId: Number(dolbyVision.dv_bl_signal_compatibility_id) },
  };
}

const videos: { name: string; file: MadeFile; expected: Partial<VideoInfo['color']> }[] = [
  {
    name: 'HDR10 with its metadata in SEI',
    file: hdr10WithMetadata,
    expected: {
      matrix: 'bt2020nc',
      primaries: 'bt2020',
      transfer: 'smpte2084',
      range: 'limited',
      masteringDisplay: {
        red: [0.68, 0.32],
        green: [0.265, 0.69],
        blue: [0.15, 0.06],
        whitePoint: [0.3127, 0.329],
        minLuminance: 0.005,
        maxLuminance: 1000,
      },
      contentLight: { maxCll: 1000, maxFall: 400 },
    },
  },
  { name: 'PQ without metadata', file: pqWithoutMetadata, expected: { transfer: 'smpte2084', masteringDisplay: null, contentLight: null } },
  { name: 'HLG', file: hlg, expected: { transfer: 'arib-std-b67', primaries: 'bt2020', masteringDisplay: null, contentLight: null } },
  { name: 'SDR tagged BT.709', file: sdrTagged, expected: { matrix: 'bt709', primaries: 'bt709', transfer: 'bt709', range: 'limited' } },
  { name: 'SDR that declares nothing', file: fixtureNamed('mp4-h264'), expected: { matrix: null, primaries: null, transfer: null } },
];

describe.each(backends)('%s backend', (backend) => {
  it.each(videos)('$name: as ffprobe reads the stream and its first frame', async ({ file, expected }) => {
    const path = await fixturePath(file);
    const info = await probe(path, { backend });
    expect(info.color).toEqual(await ffprobeColor(path));
    expect(info.color).toMatchObject({ dolbyVision: null, ...expected });
  });

  it('Dolby Vision profile 8.4 (HLG-compatible, as phones record it): its configuration record, and HLG', async () => {
    const path = await scratchPath(`dolby-vision-8.4-${backend}.mp4`);
    await withDolbyVisionRecord(await fixturePath(hlg), path, { profile: 8, level: 4, blSignalCompatibilityId: 4 });
    const info = await probe(path, { backend });
    expect(info.color).toEqual(await ffprobeColor(path));
    expect(info.color).toMatchObject({ transfer: 'arib-std-b67', dolbyVision: { profile: 8, level: 4, blSignalCompatibilityId: 4 } });
  });
});
