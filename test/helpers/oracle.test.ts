/**
 * The oracle's reading of the timeline rule, on small made-up streams whose
 * answers are worked out by hand in the comments. Every engine test trusts
 * the oracle, so its edge cases are pinned here.
 */

import { describe, expect, it } from 'vitest';
import { decimalFraction, expectedOutputs, frameTimeOf, isVariableFrameRate, videoFromFfprobe, type FfprobeEntry } from './oracle.js';

interface MadePacket {
  pts: number;
  duration?: number;
  key?: boolean;
  discard?: boolean;
}

/** A stream in time base 1/tbDen whose packets are given in decode order; every packet not discarded is displayed. */
function made(tbDen: number, packets: MadePacket[]) {
  const entries: FfprobeEntry[] = packets.map((p) => ({
    type: 'packet',
    pts: p.pts,
    ...(p.duration === undefined ? {} : { duration: p.duration }),
    flags: `${p.key ? 'K' : '_'}${p.discard ? 'D' : '_'}`,
  }));
  const shown = packets.filter((p) => !p.discard).map((p) => p.pts).sort((a, b) => a - b);
  entries.push(...shown.map((pts): FfprobeEntry => ({ type: 'frame', pts })));
  return videoFromFfprobe('made', {
    packets_and_frames: entries,
    streams: [{ codec_name: 'h264', pix_fmt: 'yuv420p', width: 2, height: 2, time_base: `1/${tbDen}` }],
    format: { format_name: 'made' },
  });
}

const pick = (outputs: { frameIndex: number }[]) => outputs.map((o) => o.frameIndex);

describe('the oracle', () => {
  it('exact mode takes the last frame at or before each target, repeating it across a gap', () => {
    // Frames at 0, 0.4, 0.9 and 2.5 s, the last lasting 0.5 s: end 3.0, targets 0, 1, 2 (3 is not < 3).
    const video = made(10, [{ pts: 0, key: true }, { pts: 4 }, { pts: 9 }, { pts: 25, duration: 5 }]);
    expect(pick(expectedOutputs(video, 1, 'exact'))).toEqual([0, 2, 2]);
  });

  it('exact mode takes a frame exactly at the target', () => {
    // Frames every 0.5 s: target 1 is frame 2's own time.
    const video = made(10, [{ pts: 0, key: true }, { pts: 5 }, { pts: 10 }, { pts: 15, duration: 5 }]);
    expect(pick(expectedOutputs(video, 1, 'exact'))).toEqual([0, 2]);
  });

  it('measures from the first displayed frame, not from 0', () => {
    const video = made(10, [{ pts: 50, key: true }, { pts: 55 }, { pts: 60 }, { pts: 65, duration: 5 }]);
    expect(expectedOutputs(video, 1, 'exact').map((o) => [o.frameIndex, o.frameTime])).toEqual([[0, 0], [2, 1]]);
  });

  it('lets the last frame last as long as the gap before it when its packet has no duration', () => {
    // Frames every 0.3 s to 2.7 s, the last without a duration: end 3.0, so target 3 is left out;
    // with a 0.4 s duration the end is 3.1 and target 3 takes the last frame.
    const pts = [0, 3, 6, 9, 12, 15, 18, 21, 24, 27];
    const without = made(10, pts.map((p, i) => ({ pts: p, key: i === 0 })));
    const longer = made(10, pts.map((p, i) => ({ pts: p, key: i === 0, duration: i === 9 ? 4 : 3 })));
    expect(pick(expectedOutputs(without, 1, 'exact'))).toEqual([0, 3, 6]);
    expect(pick(expectedOutputs(longer, 1, 'exact'))).toEqual([0, 3, 6, 9]);
  });

  it('keyframe mode takes the nearest keyframe, the earlier on a tie, each once', () => {
    // Keyframes at 0 and 10 s, frames every second to 11 s: targets 0..5 go to 0 (5 is a tie), 6..11 to 10.
    const video = made(1, Array.from({ length: 12 }, (_, i) => ({ pts: i, key: i % 10 === 0, duration: 1 })));
    expect(pick(expectedOutputs(video, 1, 'keyframe'))).toEqual([0, 10]);
    expect(pick(expectedOutputs(video, 5, 'keyframe'))).toEqual([0, 10]);
    // Targets 0, 4 and 8 go to 0, 0 and 10.
    expect(pick(expectedOutputs(video, 4, 'keyframe'))).toEqual([0, 10]);
  });

  it('keyframe mode may output a keyframe after the first frame', () => {
    // The only displayed keyframe is at 1.2 s: every target takes it, once.
    const video = made(10, Array.from({ length: 30 }, (_, i) => ({ pts: i, key: i === 12, duration: 1 })));
    expect(expectedOutputs(video, 1, 'keyframe').map((o) => [o.frameIndex, o.frameTime])).toEqual([[12, 1.2]]);
  });

  it('does not display discarded packets, yet decodes from a discarded keyframe', () => {
    // Packets at -2 s and -1 s are discarded; the first displayed frame (0 s) is no keyframe.
    const video = made(1, [
      { pts: -2, key: true, discard: true },
      { pts: -1, discard: true },
      { pts: 0 },
      { pts: 1, key: true },
      { pts: 2, duration: 1 },
    ]);
    expect(video.pts).toEqual([0n, 1n, 2n]);
    expect(expectedOutputs(video, 1, 'exact').map((o) => [o.frameIndex, o.decodeStart])).toEqual([
      [0, -2n],
      [1, 1n],
      [2, 1n],
    ]);
    expect(pick(expectedOutputs(video, 1, 'keyframe'))).toEqual([1]);
  });

  it('compares a decimal interval exactly', () => {
    // 0.1 s steps in a 1/10 time base: target k is frame k exactly (a float sum would drift).
    const video = made(10, Array.from({ length: 50 }, (_, i) => ({ pts: i, key: i === 0, duration: 1 })));
    expect(pick(expectedOutputs(video, 0.1, 'exact'))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(decimalFraction(0.25)).toEqual({ num: 25n, den: 100n });
    expect(() => decimalFraction(1e-7)).toThrow();
  });

  it('rounds frame times to the millisecond, half up', () => {
    const video = made(2000, [{ pts: 0, key: true }, { pts: 1 }, { pts: 3, duration: 1 }]);
    expect([frameTimeOf(video, 1n), frameTimeOf(video, 3n)]).toEqual([0.001, 0.002]);
  });

  it('calls a millisecond of jitter constant and larger gaps variable', () => {
    const steady = made(1000, [0, 33, 67, 100, 133].map((pts, i) => ({ pts, key: i === 0 })));
    const uneven = made(1000, [0, 33, 67, 200, 233].map((pts, i) => ({ pts, key: i === 0 })));
    expect([isVariableFrameRate(steady), isVariableFrameRate(uneven)]).toEqual([false, true]);
  });
});
