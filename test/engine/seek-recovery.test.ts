/**
 * Exact after every seek (native/core/Decoder.h; the wasm backend's runs in
 * wasm-backend.ts): on the committed videos of test/fixtures/seek/
 * (scripts/make-seek-fixtures.mjs), whose keyframes do not all decode on
 * their own or whose bitstream is damaged, every output is, byte for byte,
 * the picture a sequential decode of the whole stream gives (the ffmpeg CLI,
 * one thread: frame threads conceal damage differently with each thread
 * count), on both backends and in both modes; its frame is the one the
 * oracle names; and the stats say what was recovered and what is damaged
 * in the stream itself.
 */

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdown, type BackendName, type SamplingMode } from '../../src/index.js';
import { ffmpeg } from '../helpers/ffmpeg.js';
import { decodeImage, expectedOutputs, probeVideo, psnr, type ProbedVideo } from '../helpers/oracle.js';
import { collect } from '../helpers/snapshot-run.js';
import { PacketIndex } from '../../wasm/decode-runs.js';
import { Timeline } from '../../wasm/timeline.js';
import { WasmFfmpeg } from '../../wasm/wasm-ffmpeg.js';

interface SeekFixture {
  name: string;
  /** Intervals per mode; the last one's outputs decide the stats expected. */
  intervals: Record<SamplingMode, number>;
  /** What the run must report, per mode; undefined where it depends on which lane decodes what. */
  recovers: Record<SamplingMode, boolean | undefined>;
  /** Where the wasm backend's runs differ from that (they seek with the ffmpeg CLI's -ss). */
  wasmRecovers?: Record<SamplingMode, boolean | undefined>;
  damaged: Record<SamplingMode, boolean>;
}

const fixtures: readonly SeekFixture[] = [
  // Every 2.25 s: the target at 4.5 s (and the keyframe at 4 s) is decoded
  // by a lane that decoded only frames before 3 s, where the second part's
  // parameter sets are, so its decode after the seek is damaged.
  { name: 'splice-pps', intervals: { exact: 2.25, keyframe: 2.25 }, recovers: { exact: true, keyframe: true }, damaged: { exact: false, keyframe: false } },
  // Every segment: a lane that decoded the keyframe at 3 s keeps its parameter sets; one that did not recovers.
  { name: 'splice-pps', intervals: { exact: 0.5, keyframe: 1 }, recovers: { exact: undefined, keyframe: undefined }, damaged: { exact: false, keyframe: false } },
  { name: 'sync-p-frames', intervals: { exact: 0.5, keyframe: 1 }, recovers: { exact: false, keyframe: false }, damaged: { exact: false, keyframe: false } },
  // Every sample is a sync sample to the index, so the CLI's -ss can land past a keyframe.
  { name: 'no-stss', intervals: { exact: 0.5, keyframe: 1 }, recovers: { exact: false, keyframe: false }, wasmRecovers: { exact: undefined, keyframe: false }, damaged: { exact: false, keyframe: false } },
  // The CLI's run of keyframes only (-skip_frame nokey) loses a frame of an open GOP: decoded again in full.
  { name: 'open-gop', intervals: { exact: 0.5, keyframe: 1 }, recovers: { exact: false, keyframe: false }, wasmRecovers: { exact: false, keyframe: true }, damaged: { exact: false, keyframe: false } },
  { name: 'intra-refresh', intervals: { exact: 0.5, keyframe: 1 }, recovers: { exact: true, keyframe: true }, damaged: { exact: false, keyframe: false } },
  // Frame 45 (1.5 s) references the damaged P-frame; the keyframes do not.
  { name: 'damaged', intervals: { exact: 0.5, keyframe: 1 }, recovers: { exact: true, keyframe: false }, damaged: { exact: true, keyframe: false } },
];

const backends: readonly BackendName[] = ['native', 'wasm'];
const modes: readonly SamplingMode[] = ['exact', 'keyframe'];

function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/seek/${name}.mp4`, import.meta.url));
}

/**
 * Every frame of a sequential decode, packed RGB24 in display order: by the
 * ffmpeg CLI on one thread for the native backend, and by the wasm core
 * itself for the wasm backend, one run from the stream's start, since its
 * swscale (no SIMD) rounds RGB differently (52 dB from the CLI's, measured).
 */
const sequentialDecodes = new Map<string, Promise<Buffer>>();
function sequentialDecode(name: string, backend: BackendName): Promise<Buffer> {
  const key = `${name}/${backend}`;
  let decode = sequentialDecodes.get(key);
  if (decode === undefined) {
    const path = fixturePath(name);
    decode =
      backend === 'native'
        ? ffmpeg(['-threads', '1', '-i', path, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'])
        : wasmSequentialDecode(path);
    sequentialDecodes.set(key, decode);
  }
  return decode;
}

async function wasmSequentialDecode(path: string): Promise<Buffer> {
  const core = await WasmFfmpeg.create();
  try {
    core.setInput(new Uint8Array(await readFile(path)));
    const probe = await core.probe();
    const timeline = Timeline.fromProbe(probe);
    const index = new PacketIndex(probe, timeline);
    const windows = timeline.framePts.map((_, i) => index.windowOf(i));
    const run = { seekSeconds: undefined, keyframesOnly: false, windows, codec: probe.stream.codec, sizing: [] };
    const { frames } = await core.decodeRun(run, probe.stream.width * probe.stream.height * 3);
    if (frames === undefined) throw new Error(`the wasm core did not decode every frame of ${path}`);
    return Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength);
  } finally {
    core.close();
  }
}

const videos = new Map<string, Promise<ProbedVideo>>();
function fixtureVideo(name: string): Promise<ProbedVideo> {
  let video = videos.get(name);
  if (video === undefined) {
    video = probeVideo(fixturePath(name));
    videos.set(name, video);
  }
  return video;
}

afterAll(shutdown);

describe.each(backends)('%s backend', (backend) => {
  describe.each(fixtures)('$name', (fixture) => {
    it.each(modes)('%s mode: every output is the sequential decode of its frame', async (mode) => {
      const interval = fixture.intervals[mode];
      const video = await fixtureVideo(fixture.name);
      const frames = await sequentialDecode(fixture.name, backend);
      const run = await collect(fixturePath(fixture.name), { backend, mode, interval, format: 'png' });

      const expected = expectedOutputs(video, interval, mode);
      expect(run.outputs.map((o) => o.frameIndex)).toEqual(expected.map((e) => e.frameIndex));
      expect(run.outputs.map((o) => o.frameTime)).toEqual(expected.map((e) => e.frameTime));
      const frameBytes = video.width * video.height * 3;
      expect(frames.length).toBe(frameBytes * video.pts.length);
      for (const output of run.outputs) {
        const image = await decodeImage(output.data);
        const reference = frames.subarray(output.frameIndex * frameBytes, (output.frameIndex + 1) * frameBytes);
        expect(psnr(image.pixels, reference), `frame ${output.frameIndex}`).toBe(Infinity);
      }

      const { seekRecoveries, damagedFrames, framesDecoded } = run.stats;
      const recovers = (backend === 'wasm' ? fixture.wasmRecovers : undefined) ?? fixture.recovers;
      if (recovers[mode] !== undefined) expect(seekRecoveries > 0, 'seekRecoveries').toBe(recovers[mode]);
      expect(damagedFrames > 0, 'damagedFrames').toBe(fixture.damaged[mode]);
      // A stream whose seeks fail costs at most about one sequential decode more than one (native lanes).
      if (backend === 'native') expect(framesDecoded).toBeLessThanOrEqual(2 * video.pts.length + 2 * 30);
    });
  });
});
