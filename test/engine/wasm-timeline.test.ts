/**
 * The wasm backend's time model (wasm/timeline.ts) is a port of
 * native/core/Timeline.cpp and must plan exactly what it plans. Hand-made
 * packet lists pin each rule; then, for clips the ffmpeg CLI makes, the plan
 * from ffprobe's packets must equal the native engine's snapshots.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decimal } from '../../src/engine/sampling.js';
import { VsnapError } from '../../src/errors.js';
import { defaultLimits } from '../../src/limits.js';
import { probe, shutdown, type SamplingMode } from '../../src/index.js';
import {
  checkDeclaredEnd,
  fallbackDuration,
  frameTimeOf,
  Timeline,
  type PlannedTarget,
  type TimeBase,
  type TimelinePacket,
} from '../../wasm/timeline.js';
import { ffmpeg, ffmpegEncoders, ffprobeJson } from '../helpers/ffmpeg.js';
import { timelineTargets } from '../helpers/plan.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

interface PacketOptions {
  key?: boolean;
  discard?: boolean;
  /** Defaults to pts. */
  dts?: number;
  duration?: number;
}

/** A packet with times in ticks; pts undefined as AVI stores them. */
function packet(pts: number | undefined, options: PacketOptions = {}): TimelinePacket {
  const { key = false, discard = false, dts = pts, duration } = options;
  const big = (value: number | undefined): bigint | undefined => (value === undefined ? undefined : BigInt(value));
  return { pts: big(pts), dts: big(dts), duration: big(duration), keyframe: key, discard };
}

/** `count` frames `step` ticks apart from `start`, a keyframe every `gop`, decode order = display order. */
function constantRate(count: number, step: number, gop: number, start = 0): TimelinePacket[] {
  return Array.from({ length: count }, (_, i) => packet(start + i * step, { key: i % gop === 0, duration: step }));
}

/** What a plan shows of each output, less the target it answers. */
function shown(targets: readonly PlannedTarget[]): Omit<PlannedTarget, 'pts' | 'targetIndex'>[] {
  return targets.map(({ frameIndex, frameTime, startKeyPts }) => ({ frameIndex, frameTime, startKeyPts }));
}

/** Timeline.plan for targets every `interval` seconds of the whole stream, as a run plans them (sampling.ts). */
function planEvery(timeline: Timeline, mode: SamplingMode, interval: number): PlannedTarget[] {
  const { times, window } = timelineTargets(timeline, interval);
  return timeline.plan(mode, times, window);
}

async function corruptMessage(action: () => unknown): Promise<string> {
  const error = await failureOf(action);
  expect(error).toBeInstanceOf(VsnapError);
  expect((error as VsnapError).code).toBe('VSNAP_CORRUPT_INPUT');
  return (error as VsnapError).message;
}

const mp4: TimeBase = { num: 1, den: 12800 };
const ms: TimeBase = { num: 1, den: 1000 };

describe('a constant-rate stream (25 fps, a keyframe every second)', () => {
  const timeline = Timeline.fromPackets(constantRate(100, 512, 25), mp4, 512n);

  it('has its frames, end and keyframes', () => {
    expect(timeline.frameCount).toBe(100);
    expect(timeline.origin).toBe(0n);
    expect(timeline.end).toBe(100n * 512n);
    expect(timeline.variableFrameRate()).toBe(false);
    expect(timeline.keyframeTimes()).toEqual([0, 1, 2, 3]);
  });

  it('plans the frame shown at each target in exact mode', () => {
    expect(shown(planEvery(timeline, 'exact', 1))).toEqual(
      [0, 25, 50, 75].map((i) => ({ frameIndex: i, frameTime: i / 25, startKeyPts: BigInt(i * 512) })),
    );
    expect(planEvery(timeline, 'exact', 0.7).map((t) => t.frameIndex)).toEqual([0, 17, 35, 52, 70, 87]);
    // Target 6 * 3/10 s is 1.8 s exactly, frame 45's time (in doubles 6 * 0.3 is 1.7999999999999998 s, before it).
    expect(planEvery(timeline, 'exact', 0.3).map((t) => t.frameIndex)[6]).toBe(45);
    expect(planEvery(timeline, 'exact', 0.7)[3]).toEqual({
      pts: 52n * 512n,
      frameIndex: 52,
      frameTime: 2.08,
      startKeyPts: 50n * 512n,
      targetIndex: 3,
    });
  });

  it('plans each nearest keyframe once in keyframe mode', () => {
    // Targets 0.7 and 1.4 both pick the keyframe at 1 s, 2.8 and 3.5 the one at 3 s.
    expect(planEvery(timeline, 'keyframe', 0.7).map((t) => t.frameIndex)).toEqual([0, 25, 50, 75]);
    // Each answers the first target that picks it: 0, 0.7 (of 0.7 and 1.4), 2.1 and 2.8 (of 2.8 and 3.5) s.
    expect(planEvery(timeline, 'keyframe', 0.7).map((t) => t.targetIndex)).toEqual([0, 1, 3, 4]);
  });

  it('answers each target in order in exact mode, one output a target', () => {
    expect(planEvery(timeline, 'exact', 0.7).map((t) => t.targetIndex)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('has the targets of the sampling rule over its end, and more than maxTargets are refused before any is made', () => {
    expect(timelineTargets(timeline, 1).times).toEqual([0n, 1n, 2n, 3n].map((num) => ({ num, den: 1n })));
    expect(timelineTargets(timeline, 0.7).times.length).toBe(6);
    // 4 s every 1e-12 s: 4e12 targets, counted, never made.
    expect(() => timelineTargets(timeline, 1e-12, defaultLimits.maxTargets)).toThrow(
      expect.objectContaining({
        code: 'VSNAP_LIMIT_EXCEEDED',
        message: 'the plan has 4000000000000 targets, more than the limit of 100000 (maxTargets)',
      }),
    );
  });

  it('finds a frame by its pts, and lists the keyframes by pts', () => {
    expect(timeline.frameIndexOf(52n * 512n)).toBe(52);
    expect(timeline.frameIndexOf(52n * 512n + 1n)).toBe(-1);
    expect(timeline.keyframePts()).toEqual([0n, 12800n, 25600n, 38400n]);
  });
});

describe('decode order and display order', () => {
  // Ticks of 0.1 s, B-frames: decode order 0 2 1 4 3 | 5 7 6 9 8, keyframes 0 and 5.
  const packets = [0, 2, 1, 4, 3, 5, 7, 6, 9, 8].map((pts, i) =>
    packet(pts, { key: pts % 5 === 0, dts: i - 1, duration: pts === 8 ? 3 : 1 }),
  );
  const timeline = Timeline.fromPackets(packets, { num: 1, den: 10 }, 1n);

  it('sorts frames into display order; the end follows the last displayed frame, not the last packet', () => {
    expect(timeline.frameCount).toBe(10);
    expect(timeline.end).toBe(10n);
    expect(timeline.keyframeTimes()).toEqual([0, 0.5]);
  });

  it('decodes each frame from the last keyframe shown no later', () => {
    expect(shown(planEvery(timeline, 'exact', 0.25))).toEqual([
      { frameIndex: 0, frameTime: 0, startKeyPts: 0n },
      { frameIndex: 2, frameTime: 0.2, startKeyPts: 0n },
      { frameIndex: 5, frameTime: 0.5, startKeyPts: 5n },
      { frameIndex: 7, frameTime: 0.7, startKeyPts: 5n },
    ]);
    expect(timeline.decodeStartFor(4n)).toBe(0n);
    expect(timeline.decodeStartFor(9n)).toBe(5n);
    expect(timeline.decodeStartFor(-1n)).toBeUndefined();
  });
});

describe('discarded packets (before an edit list starts)', () => {
  // A keyframe at 0 with frames up to 120 ms discarded; the next keyframe at 200 ms.
  const packets = constantRate(10, 40, 5).map((p) => ({ ...p, discard: p.pts! < 120n }));
  const timeline = Timeline.fromPackets(packets, ms, 40n);

  it('are not displayed frames', () => {
    expect(timeline.origin).toBe(120n);
    expect(timeline.frameCount).toBe(7);
    expect(timeline.keyframeTimes()).toEqual([0.08]);
  });

  it('can still be where decoding starts', () => {
    expect(shown(planEvery(timeline, 'exact', 0.1))).toEqual([
      { frameIndex: 0, frameTime: 0, startKeyPts: 0n },
      { frameIndex: 2, frameTime: 0.08, startKeyPts: 200n },
      { frameIndex: 5, frameTime: 0.2, startKeyPts: 200n },
    ]);
  });

  it('are not keyframes to sample in keyframe mode', async () => {
    expect(shown(planEvery(timeline, 'keyframe', 0.1))).toEqual([{ frameIndex: 2, frameTime: 0.08, startKeyPts: 200n }]);
    const onlyDiscardedKey = Timeline.fromPackets(packets.slice(0, 5), ms, 40n);
    expect(planEvery(onlyDiscardedKey, 'exact', 1)[0].startKeyPts).toBe(0n);
    expect(await corruptMessage(() => planEvery(onlyDiscardedKey, 'keyframe', 1))).toBe('the video stream has no keyframes');
  });
});

describe('packets without a pts', () => {
  it('use their dts, as AVI stores them', () => {
    const packets = Array.from({ length: 10 }, (_, i) => packet(undefined, { key: i % 5 === 0, dts: i }));
    const timeline = Timeline.fromPackets(packets, { num: 1, den: 25 }, 1n);
    expect(timeline.frameCount).toBe(10);
    expect(timeline.end).toBe(10n);
    expect(planEvery(timeline, 'exact', 0.2).map((t) => [t.pts, t.startKeyPts])).toEqual([
      [0n, 0n],
      [5n, 5n],
    ]);
  });

  it('are left out when they have no dts either, keyframe or not', () => {
    const packets = [
      packet(undefined, { key: true }),
      ...constantRate(3, 40, 10, 80),
      packet(undefined),
      packet(undefined, { key: true }),
    ];
    const timeline = Timeline.fromPackets(packets, ms, 40n);
    expect(timeline.frameCount).toBe(3);
    expect(timeline.keyframeTimes()).toEqual([0]);
    expect(timeline.decodeStartFor(200n)).toBe(80n);
  });

  it('make no stream when no packet has a time', async () => {
    expect(await corruptMessage(() => Timeline.fromPackets([packet(undefined)], ms, 1n))).toBe('the video stream has no frames');
  });
});

describe('variable frame rate', () => {
  const withGaps = (...gaps: number[]): Timeline =>
    Timeline.fromPackets(
      [0, ...gaps].map((_, i) => packet(gaps.slice(0, i).reduce((a, b) => a + b, 0), { key: i === 0 })),
      ms,
      1n,
    );

  it.each([
    { gaps: [40, 40, 80], variable: true },
    { gaps: [40, 40, 40], variable: false },
    // 30 fps in milliseconds: gaps of 33 and 34 ticks are rounding.
    { gaps: [33, 34, 33, 33, 34], variable: false },
    { gaps: [33, 35, 33], variable: true },
    // Large gaps tolerate 1 %.
    { gaps: [3000, 3030], variable: false },
    { gaps: [3000, 3031], variable: true },
    // Two frames cannot tell.
    { gaps: [40], variable: false },
  ])('gaps $gaps: variable $variable', ({ gaps, variable }) => {
    expect(withGaps(...gaps).variableFrameRate()).toBe(variable);
  });

  it('lets one frame answer two targets in exact mode', () => {
    // Frames at 0, 0.5, then nothing until 2.5 and 3 s.
    const packets = [0, 500, 2500, 3000].map((pts) => packet(pts, { key: pts === 0, duration: 500 }));
    const timeline = Timeline.fromPackets(packets, ms, 1n);
    expect(timeline.end).toBe(3500n);
    expect(planEvery(timeline, 'exact', 1).map((t) => [t.frameIndex, t.frameTime])).toEqual([
      [0, 0],
      [1, 0.5],
      [1, 0.5],
      [3, 3],
    ]);
  });
});

describe('keyframe mode', () => {
  // Keyframes at 0, 2 and 4 s of 5 s.
  const timeline = Timeline.fromPackets(constantRate(125, 512, 50), mp4, 512n);

  it('takes the earlier keyframe on a tie', () => {
    // Target 3 s is as near to 2 s as to 4 s.
    expect(shown(planEvery(timeline, 'keyframe', 3))).toEqual([
      { frameIndex: 0, frameTime: 0, startKeyPts: 0n },
      { frameIndex: 50, frameTime: 2, startKeyPts: 50n * 512n },
    ]);
  });

  it('outputs a keyframe once when consecutive targets pick it', () => {
    // Targets 1 and 3 s repeat the keyframes before them.
    expect(planEvery(timeline, 'keyframe', 1).map((t) => t.frameIndex)).toEqual([0, 50, 100]);
  });

  it('takes the last keyframe for targets beyond it, and the first for targets before it', () => {
    // Keyframes at 0.48 s and 1 s of a 4 s stream.
    const packets = constantRate(100, 40, 200).map((p) => ({ ...p, keyframe: p.pts === 480n || p.pts === 1000n }));
    const timeline = Timeline.fromPackets(packets, ms, 40n);
    expect(planEvery(timeline, 'keyframe', 1).map((t) => t.pts)).toEqual([480n, 1000n]);
    // 0.25 and 0.5 s pick the keyframe at 0.48 s, 0.75 s the one at 1 s.
    expect(planEvery(timeline, 'keyframe', 0.25).map((t) => t.pts)).toEqual([480n, 1000n]);
  });
});

describe('the last frame of unknown duration', () => {
  it('lasts as long as the gap before it', () => {
    const packets = [packet(0, { key: true, duration: 40 }), packet(40, { duration: 40 }), packet(100)];
    const timeline = Timeline.fromPackets(packets, ms, 33n);
    expect(timeline.end).toBe(160n);
    const zero = Timeline.fromPackets([packet(0, { key: true, duration: 40 }), packet(100, { duration: 0 })], ms, 33n);
    expect(zero.end).toBe(200n);
  });

  it('lasts the fallback duration when it is the only frame, and at least a tick', () => {
    expect(Timeline.fromPackets([packet(7, { key: true })], ms, 33n).end).toBe(40n);
    expect(Timeline.fromPackets([packet(7, { key: true })], ms, 0n).end).toBe(8n);
  });

  it.each([
    { rate: '30/1', timeBase: { num: 1, den: 90000 }, ticks: 3000n },
    { rate: '30000/1001', timeBase: { num: 1, den: 90000 }, ticks: 3003n },
    { rate: '30000/1001', timeBase: ms, ticks: 33n },
    { rate: '24000/1001', timeBase: ms, ticks: 42n },
    { rate: '25/1', timeBase: mp4, ticks: 512n },
    { rate: '24/1', timeBase: { num: 1, den: 90 }, ticks: 4n },
    // Halves round up: 0.5 tick is 1.
    { rate: '2/1', timeBase: { num: 1, den: 1 }, ticks: 1n },
    { rate: '25/1', timeBase: { num: 1, den: 1 }, ticks: 0n },
    { rate: '0/0', timeBase: ms, ticks: 1n },
    { rate: undefined, timeBase: ms, ticks: 1n },
  ])('fallbackDuration($rate, $timeBase.num/$timeBase.den) is $ticks as av_rescale_q gives', ({ rate, timeBase, ticks }) => {
    expect(fallbackDuration(rate, timeBase)).toBe(ticks);
  });
});

describe('times', () => {
  it.each([
    // The decimal JavaScript prints for the number, exactly (sampling.ts), as both backends take it.
    { seconds: 1, num: 1n, den: 1n },
    { seconds: 10, num: 10n, den: 1n },
    { seconds: 0.5, num: 1n, den: 2n },
    { seconds: 0.1, num: 1n, den: 10n },
    { seconds: 2.5, num: 5n, den: 2n },
    { seconds: 1e-3, num: 1n, den: 1000n },
    { seconds: 0.7, num: 7n, den: 10n },
    { seconds: 0.3, num: 3n, den: 10n },
    { seconds: 29.97, num: 2997n, den: 100n },
    { seconds: 1 / 3, num: 3333333333333333n, den: 10000000000000000n },
    { seconds: 0.123456789, num: 123456789n, den: 1000000000n },
    { seconds: 123456.789, num: 123456789n, den: 1000n },
    { seconds: 16777217, num: 16777217n, den: 1n },
    { seconds: 1e-9, num: 1n, den: 1000000000n },
    { seconds: 3e9, num: 3000000000n, den: 1n },
  ])('a time of $seconds s is $num/$den', ({ seconds, num, den }) => {
    expect(decimal(seconds)).toEqual({ num, den });
  });

  it('rounds frame times to the millisecond, halves away from zero as std::round', () => {
    expect(frameTimeOf(3003n, 0n, { num: 1, den: 90000 })).toBe(0.033);
    expect(frameTimeOf(1n, 0n, { num: 1, den: 2000 })).toBe(0.001);
    expect(frameTimeOf(0n, 1n, { num: 1, den: 2000 })).toBe(-0.001);
    expect(frameTimeOf(5040n, 5000n, ms)).toBe(0.04);
  });
});

describe('checkDeclaredEnd', () => {
  // 25 frames of 40 ms from `start` ms: frames end 1 s after the first.
  const oneSecond = (start = 0): Timeline => Timeline.fromPackets(constantRate(25, 40, 25, start), ms, 40n);

  it.each([0, 1.4, 1.5])('accepts a declared end of %s s for frames ending at 1 s', (declared) => {
    expect(() => checkDeclaredEnd(declared, oneSecond())).not.toThrow();
  });

  it.each([
    { declared: 1.6, start: 0, message: 'declares 1.600 s but its frames end at 1.000 s' },
    { declared: 10, start: 0, message: 'declares 10.000 s but its frames end at 1.000 s' },
    { declared: 11, start: 5000, message: 'declares 6.000 s but its frames end at 1.000 s' },
  ])('refuses a declared end of $declared s for frames from $start ms ending 1 s later', async ({ declared, start, message }) => {
    const refusal = await corruptMessage(() => checkDeclaredEnd(declared, oneSecond(start)));
    expect(refusal).toBe(`truncated data: the video stream ${message}`);
  });

  it('allows 2 % of a long declared duration', () => {
    const lasting = (milliseconds: number): Timeline =>
      Timeline.fromPackets([packet(0, { key: true, duration: milliseconds })], ms, 1n);
    expect(() => checkDeclaredEnd(100, lasting(98_500))).not.toThrow();
    expect(() => checkDeclaredEnd(100, lasting(97_900))).toThrow('declares 100.000 s but its frames end at 97.900 s');
  });

  it('rounds halfway thousandths to even as printf does', () => {
    const tick = Timeline.fromPackets([packet(0, { key: true, duration: 1 })], { num: 1, den: 16 }, 1n);
    expect(() => checkDeclaredEnd(1.0625, tick)).toThrow('declares 1.062 s but its frames end at 0.062 s');
  });
});

// ---- against the native engine ----------------------------------------------

interface Clip {
  name: string;
  /** ffmpeg arguments before the output path; `dir` holds the clips made before this one. */
  make: (dir: string) => string[];
}

const testsrc = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=6'];
const clips: Clip[] = [
  {
    name: 'b-frames.mp4',
    make: () => [...testsrc, '-c:v', 'libx264', '-bf', '2', '-g', '40', '-pix_fmt', 'yuv420p'],
  },
  {
    // Cut with stream copy: the packets of the GOP before 1.3 s are discarded.
    name: 'edit-list.mp4',
    make: (dir) => ['-ss', '1.3', '-i', join(dir, 'b-frames.mp4'), '-c', 'copy'],
  },
  {
    // Millisecond time base; a gap from 1 to 2.5 s, every 4th frame after 4 s.
    name: 'vfr.mkv',
    make: () => [
      ...testsrc,
      '-vf', 'select=lt(t\\,1)+between(t\\,2.5\\,3)+gt(t\\,4)*not(mod(n\\,4))', '-fps_mode', 'vfr',
      '-c:v', 'libx264', '-bf', '2', '-g', '20', '-pix_fmt', 'yuv420p',
    ],
  },
];

/** What ffprobe writes for the fields asked for; a time it does not know is left out. */
interface FfprobeOutput {
  streams: { time_base: string; avg_frame_rate: string }[];
  packets: { pts?: number; dts?: number; duration?: number; flags: string }[];
}

const hasX264 = (await ffmpegEncoders()).has('libx264');

describe.skipIf(!hasX264)('plans equal the native engine', () => {
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vsnap-timeline-'));
    for (const clip of clips) await ffmpeg(['-y', ...clip.make(dir), join(dir, clip.name)]);
  });

  afterAll(async () => {
    await shutdown();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** The timeline of the packets ffprobe reads, as the wasm backend builds it. */
  async function timelineOf(path: string): Promise<Timeline> {
    const json = (await ffprobeJson([
      '-select_streams', 'v:0', '-show_streams', '-show_entries', 'packet=pts,dts,duration,flags', path,
    ])) as FfprobeOutput;
    const [num, den] = json.streams[0].time_base.split('/').map(Number);
    const timeBase = { num, den };
    const big = (value: number | undefined): bigint | undefined => (value === undefined ? undefined : BigInt(value));
    const packets = json.packets.map((p) => ({
      pts: big(p.pts),
      dts: big(p.dts),
      duration: big(p.duration),
      keyframe: p.flags.includes('K'),
      discard: p.flags.includes('D'),
    }));
    return Timeline.fromPackets(packets, timeBase, fallbackDuration(json.streams[0].avg_frame_rate, timeBase));
  }

  it.each(clips.map((c) => c.name))('%s: the same frames, times and keyframes', async (name) => {
    const path = join(dir, name);
    const timeline = await timelineOf(path);
    const info = await probe(path, { backend: 'native' });
    const tb = timeline.timeBase.num / timeline.timeBase.den;
    expect({
      frameCount: timeline.frameCount,
      duration: Number(timeline.end - timeline.origin) * tb,
      variable: timeline.variableFrameRate(),
      keyframes: timeline.keyframeTimes(),
    }).toEqual({
      frameCount: info.frameCount,
      duration: info.duration,
      variable: info.frameRate.variable,
      keyframes: info.keyframes,
    });
  });

  const runs = clips.flatMap((c) =>
    (['exact', 'keyframe'] as SamplingMode[]).flatMap((mode) => [1, 0.7].map((interval) => ({ name: c.name, mode, interval }))),
  );
  it.each(runs)('$name: $mode every $interval s', async ({ name, mode, interval }) => {
    const path = join(dir, name);
    const timeline = await timelineOf(path);
    const native = await collect(path, { mode, interval, backend: 'native' });
    const planned = planEvery(timeline, mode, interval).map(({ frameIndex, frameTime }) => ({ frameIndex, frameTime }));
    expect(planned.length).toBeGreaterThan(0);
    expect(planned).toEqual(native.outputs.map(({ frameIndex, frameTime }) => ({ frameIndex, frameTime })));
  });
});
