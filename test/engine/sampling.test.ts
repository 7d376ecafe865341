/**
 * The sampling options of the library (start, end, count, times, with
 * interval and mode), on both backends, proven against the oracle of the
 * rule (test/helpers/sampling-oracle.ts, worked out from ffprobe): which
 * frames come out, in which order, answering which target times; that the
 * images are those frames; and every bad value refused with
 * VSNAP_INVALID_OPTION (or VSNAP_LIMIT_EXCEEDED) naming the option, before a
 * frame is decoded, never an empty success.
 *
 * The fixtures: mp4-h264 (30 fps, keyframes at 0, 1.5 and 3 s, 4 s long),
 * mp4-long-gop (15 fps, keyframes at 0 and 10 s only, 12 s), which tells
 * keyframe mode's window apart from the nearest keyframe overall, and
 * mp4-vfr (gaps of 1.5 s and more between frames).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdown, VsnapError, type BackendName, type SamplingMode, type SnapshotOptions } from '../../src/index.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { decodeImage, matchPsnr, minPsnr, referenceFrames, type ProbedVideo } from '../helpers/oracle.js';
import { expectedSamples, videoEndSeconds, type SamplingSpec } from '../helpers/sampling-oracle.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

const backends: readonly BackendName[] = ['native', 'wasm'];
const modes: readonly SamplingMode[] = ['exact', 'keyframe'];

interface SamplingCase {
  fixture: 'mp4-h264' | 'mp4-long-gop' | 'mp4-vfr' | 'mkv-start-offset' | 'ts-h264' | 'mp4-edit-list';
  spec: SamplingSpec;
  /** What the case is there for. */
  why: string;
}

const cases: SamplingCase[] = [
  { fixture: 'mp4-h264', spec: { interval: 0.5, start: 1.2, end: 3.1 }, why: 'a window inside the video' },
  { fixture: 'mp4-h264', spec: { interval: 1, start: 2.5 }, why: 'a start, no end' },
  { fixture: 'mp4-h264', spec: { start: 3.2 }, why: 'a start with the default interval' },
  { fixture: 'mp4-h264', spec: { interval: 0.7, end: 10 }, why: "an end past the video's, cut to it" },
  { fixture: 'mp4-h264', spec: { interval: 0.3, start: 0.9, end: 3 }, why: 'targets on frame times exactly (0.9 + 0.3k)' },
  { fixture: 'mp4-h264', spec: { count: 5 }, why: 'a count over the whole video' },
  { fixture: 'mp4-h264', spec: { count: 3 }, why: 'targets at 2/3, 2 and 10/3 s: on frame times exactly, as no decimal is' },
  { fixture: 'mp4-h264', spec: { interval: 0.75 }, why: 'targets midway between keyframes: the earlier one' },
  { fixture: 'mp4-h264', spec: { count: 4, start: 1, end: 3 }, why: 'a count in a window' },
  { fixture: 'mp4-h264', spec: { count: 7, end: 2 }, why: 'a count from 0 to an end' },
  { fixture: 'mp4-h264', spec: { count: 1, start: 3.9 }, why: 'one target near the end' },
  { fixture: 'mp4-h264', spec: { times: [1.5, 0, 3.95, 2.2, 1.5, 0.75] }, why: 'chosen times out of order, one twice' },
  { fixture: 'mp4-h264', spec: { times: [3.99] }, why: "one time just before the video's end" },
  { fixture: 'mp4-long-gop', spec: { interval: 1, start: 0, end: 10 }, why: 'a window holding keyframe 0 only: none from 10 s' },
  { fixture: 'mp4-long-gop', spec: { interval: 1, start: 5, end: 12 }, why: 'a window holding keyframe 10 s only: none from 0' },
  { fixture: 'mp4-long-gop', spec: { interval: 2, start: 1, end: 9.5 }, why: 'a window holding no keyframe: the nearest outside' },
  { fixture: 'mp4-long-gop', spec: { count: 3, start: 2, end: 8 }, why: 'a count in a window holding no keyframe' },
  { fixture: 'mp4-long-gop', spec: { times: [11, 4, 6] }, why: 'chosen times sharing a keyframe, out of order' },
  { fixture: 'mp4-h264', spec: { interval: 0.5, end: 2 }, why: 'an end on a frame time, not a target' },
  { fixture: 'mp4-h264', spec: { count: 4, start: 2, end: 100 }, why: "a count whose end is past the video's" },
  { fixture: 'mp4-h264', spec: { count: 200 }, why: 'more targets than frames: frames repeat in exact mode' },
  { fixture: 'mkv-start-offset', spec: { interval: 1, start: 0.5, end: 2.5 }, why: 'a window on a timeline that starts at 5 s' },
  { fixture: 'ts-h264', spec: { count: 3, start: 0.25 }, why: 'a count on a 90 kHz timeline that starts near 1.4 s' },
  { fixture: 'mp4-edit-list', spec: { count: 3, start: 0.2 }, why: 'a count on a video whose first frame is no keyframe' },
  { fixture: 'mp4-edit-list', spec: { times: [0, 2.5] }, why: 'chosen times on a video whose first frame is no keyframe' },
  { fixture: 'mp4-vfr', spec: { count: 6, start: 0.5, end: 5 }, why: 'a count over a variable frame rate' },
  { fixture: 'mp4-vfr', spec: { times: [1.5, 2, 3.22, 4.5] }, why: 'chosen times in the gaps of a variable frame rate' },
];

const videos = new Map<string, ProbedVideo>();
const paths = new Map<string, string>();

beforeAll(async () => {
  for (const name of new Set(cases.map((c) => c.fixture))) {
    const fixture = fixtureNamed(name);
    videos.set(name, await fixtureVideo(fixture));
    paths.set(name, await fixturePath(fixture));
  }
});

afterAll(shutdown);

describe.each(backends)('%s backend', (backend) => {
  describe.each(modes)('%s mode', (mode) => {
    it.each(cases)('$fixture $spec: $why', async ({ fixture, spec }) => {
      const video = videos.get(fixture)!;
      const expected = expectedSamples(video, spec, mode);
      expect(expected.length).toBeGreaterThan(0);
      const { outputs } = await collect(paths.get(fixture)!, { ...spec, mode, backend } as SnapshotOptions);
      expect(outputs.map(({ outputIndex, frameIndex, frameTime }) => ({ outputIndex, frameIndex, frameTime })))
        .toEqual(expected.map(({ outputIndex, frameIndex, frameTime }) => ({ outputIndex, frameIndex, frameTime })));
      outputs.forEach((output, i) => expect(output.targetTime, `output ${i}'s target time`).toBeCloseTo(expected[i].targetTime, 9));
    });
  });

  it('shows the frames picked: chosen times out of order, every output against the reference decode', async () => {
    const video = videos.get('mp4-h264')!;
    const spec = { times: [2.2, 0.5, 3.5, 1] };
    const expected = expectedSamples(video, spec, 'exact');
    const { outputs } = await collect(paths.get('mp4-h264')!, { ...spec, format: 'png', backend });
    const neighbours = (i: number) => [i - 1, i + 1];
    const references = await referenceFrames(video, expected.flatMap((e) => [e.frameIndex, ...neighbours(e.frameIndex)]));
    expect(outputs).toHaveLength(expected.length);
    for (const [i, output] of outputs.entries()) {
      const { pixels } = await decodeImage(output.data);
      const match = matchPsnr('png', pixels, references.get(expected[i].frameIndex)!);
      expect(match, `output ${i}: PSNR against frame ${expected[i].frameIndex}`).toBeGreaterThanOrEqual(minPsnr.png);
      for (const n of neighbours(expected[i].frameIndex)) {
        expect(matchPsnr('png', pixels, references.get(n)!), `output ${i}: PSNR against frame ${n}`).toBeLessThan(match);
      }
    }
  });

  it("shows the keyframe the window prefers (keyframe mode from 5 s to the end: 10 s's, not 0 s's)", async () => {
    const video = videos.get('mp4-long-gop')!;
    const spec = { interval: 1, start: 5 };
    const expected = expectedSamples(video, spec, 'keyframe');
    expect(expected.map((e) => e.frameIndex)).toEqual([150]);
    const { outputs } = await collect(paths.get('mp4-long-gop')!, { ...spec, mode: 'keyframe', format: 'png', backend });
    const references = await referenceFrames(video, [0, 150]);
    const { pixels } = await decodeImage(outputs[0].data);
    expect(matchPsnr('png', pixels, references.get(150)!)).toBeGreaterThanOrEqual(minPsnr.png);
    expect(matchPsnr('png', pixels, references.get(0)!)).toBeLessThan(minPsnr.png);
  });

  describe('times the video cannot answer', () => {
    // mp4-h264 ends at 4 s, where its last frame (from 3.967 s) stops being shown.
    const rows: { name: string; options: SnapshotOptions; option: string }[] = [
      { name: "a start at the video's end", options: { start: 4 }, option: 'start' },
      { name: 'a start past the end', options: { start: 4.5, end: 9 }, option: 'start' },
      { name: 'a start past the end, in keyframe mode', options: { start: 60, mode: 'keyframe' }, option: 'start' },
      { name: 'a count whose window starts past the end', options: { count: 3, start: 5 }, option: 'start' },
      { name: "a chosen time at the video's end", options: { times: [1, 4] }, option: 'times[1]' },
      { name: 'a chosen time past the end', options: { times: [4.2, 1] }, option: 'times[0]' },
      { name: 'a chosen time past the end, in keyframe mode', options: { times: [0.5, 2, 100], mode: 'keyframe' }, option: 'times[2]' },
    ];

    it.each(rows)('$name: VSNAP_INVALID_OPTION naming $option', async ({ options, option }) => {
      const video = videos.get('mp4-h264')!;
      expect(videoEndSeconds(video)).toBe(4);
      const error = await failureOf(() => collect(paths.get('mp4-h264')!, { ...options, backend }));
      expect(error).toBeInstanceOf(VsnapError);
      expect(error).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option });
      expect((error as Error).message).toContain(`for ${option} but received`);
      expect((error as Error).message).toContain("before the video's end, 4 s");
    });

    it.each([
      { name: 'a count over maxTargets', options: { count: 4 } },
      { name: 'chosen times over maxTargets', options: { times: [0, 1, 2, 3] } },
      { name: 'an interval over maxTargets in a window', options: { interval: 0.5, start: 1, end: 3 } },
    ])('$name: VSNAP_LIMIT_EXCEEDED before any frame', async ({ options }) => {
      const error = await failureOf(() => collect(paths.get('mp4-h264')!, { ...options, limits: { maxTargets: 3 }, backend }));
      expect(error).toMatchObject({ code: 'VSNAP_LIMIT_EXCEEDED' });
      expect((error as Error).message).toContain('(maxTargets)');
    });

    it('takes exactly maxTargets targets', async () => {
      const { outputs } = await collect(paths.get('mp4-h264')!, { count: 3, limits: { maxTargets: 3 }, backend });
      expect(outputs).toHaveLength(3);
    });
  });
});

describe('bad sampling options', () => {
  const rows: { name: string; options: Record<string, unknown>; option: string; expects: string }[] = [
    { name: 'a negative start', options: { start: -1 }, option: 'start', expects: 'a number of seconds from 0 to 1000000000' },
    { name: 'a start as text', options: { start: '1' }, option: 'start', expects: 'a number of seconds from 0' },
    { name: 'a start of null', options: { start: null }, option: 'start', expects: 'a number of seconds from 0' },
    { name: 'an infinite start', options: { start: Number.POSITIVE_INFINITY }, option: 'start', expects: 'a number of seconds from 0' },
    { name: 'a start of NaN', options: { start: Number.NaN }, option: 'start', expects: 'a number of seconds from 0' },
    { name: 'an end of 0', options: { end: 0 }, option: 'end', expects: 'a number of seconds above 0' },
    { name: 'a negative end', options: { end: -2 }, option: 'end', expects: 'a number of seconds above 0' },
    { name: 'an end as text', options: { end: 'end' }, option: 'end', expects: 'a number of seconds above 0' },
    { name: 'an end at the start', options: { start: 2, end: 2 }, option: 'end', expects: 'a time after start (2 s)' },
    { name: 'an end before the start', options: { start: 3, end: 1 }, option: 'end', expects: 'a time after start (3 s)' },
    { name: 'an end before the start, with a count', options: { count: 2, start: 3, end: 1.5 }, option: 'end', expects: 'a time after start' },
    { name: 'a count of 0', options: { count: 0 }, option: 'count', expects: 'an integer between 1 and 100000' },
    { name: 'a negative count', options: { count: -3 }, option: 'count', expects: 'an integer between 1 and 100000' },
    { name: 'a fractional count', options: { count: 1.5 }, option: 'count', expects: 'an integer between 1 and 100000' },
    { name: 'a count as text', options: { count: '3' }, option: 'count', expects: 'an integer between 1 and 100000' },
    { name: 'a count over the list limit', options: { count: 100_001 }, option: 'count', expects: 'an integer between 1 and 100000' },
    { name: 'a count with an interval', options: { count: 3, interval: 1 }, option: 'count', expects: 'no value when interval is given' },
    { name: 'no chosen times', options: { times: [] }, option: 'times', expects: 'a list of 1 to 100000 numbers of seconds' },
    { name: 'a negative chosen time', options: { times: [1, -1] }, option: 'times', expects: 'a list of 1 to 100000 numbers of seconds' },
    { name: 'a chosen time as text', options: { times: [1, 'a'] }, option: 'times', expects: 'a list of 1 to 100000 numbers of seconds' },
    { name: 'a chosen time of NaN', options: { times: [Number.NaN] }, option: 'times', expects: 'a list of 1 to 100000 numbers of seconds' },
    { name: 'times as text', options: { times: '1.5,7' }, option: 'times', expects: 'a list of 1 to 100000 numbers of seconds' },
    { name: 'a single time, not a list', options: { times: 2 }, option: 'times', expects: 'a list of 1 to 100000 numbers of seconds' },
    { name: 'times with a start', options: { times: [1], start: 0.5 }, option: 'times', expects: 'no value when start is given' },
    { name: 'times with an end', options: { times: [1], end: 3 }, option: 'times', expects: 'no value when end is given' },
    { name: 'times with an interval', options: { times: [1], interval: 2 }, option: 'times', expects: 'no value when interval is given' },
    { name: 'times with a count', options: { times: [1], count: 2 }, option: 'times', expects: 'no value when count is given' },
    { name: 'an interval of 0 in a window', options: { interval: 0, start: 1 }, option: 'interval', expects: 'a number of seconds from 0.001' },
    { name: 'an unknown mode', options: { mode: 'nearest' }, option: 'mode', expects: 'one of exact, keyframe' },
  ];

  it.each(rows)('$name: VSNAP_INVALID_OPTION naming $option, before the input is opened', async ({ options, option, expects }) => {
    // The input does not exist: an option error must come first.
    const error = await failureOf(() => collect('/nonexistent/video.mp4', options as SnapshotOptions));
    expect(error).toBeInstanceOf(VsnapError);
    expect(error).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option });
    expect((error as Error).message).toMatch(new RegExp(`^Expected ${escape(expects)}.* for ${escape(option)} but received `));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
