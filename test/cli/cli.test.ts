/**
 * bin/vsnap as a user runs it, in a child process: `extract --json` and
 * `probe --json` print exactly one JSON line of the documented shape, the
 * files are there, the frames are the oracle's; every failure exits non-zero
 * with exactly one line on stderr (`vsnap: <message> (<CODE>)`) and nothing
 * on stdout. Runs the build (dist/), so `npm run build` first.
 */

import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { oneLine, runCli } from '../helpers/cli-run.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { hdr10WithMetadata, sdrTagged } from '../helpers/hdr-videos.js';
import { canMake, fixturePath, scratchPath } from '../helpers/made-file.js';
import { fixtureVideo } from '../helpers/fixture-videos.js';
import { audioOnlyFiles, scratchFile, truncatedFile } from '../helpers/bad-inputs.js';
import { expectedOutputs, keyframeTimes, type Mode } from '../helpers/oracle.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const vsnap = runCli;

const statKeys = [
  'bytesRead', 'damagedFrames', 'decodeErrors', 'framesDecoded', 'packetsRead', 'requests', 'scanPackets', 'seekRecoveries', 'seeks',
  'seeksAvoided',
];

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'vsnap-cli.cjs'))) throw new Error('bin/vsnap runs dist/: run `npm run build` first');
});

describe('vsnap extract --json', () => {
  const cases: { fixture: string; mode: Mode; interval: number; format: 'jpg' | 'png'; extra: string[] }[] = [
    { fixture: 'mp4-bframes', mode: 'exact', interval: 1, format: 'png', extra: [] },
    { fixture: 'mp4-long-gop', mode: 'keyframe', interval: 1, format: 'jpg', extra: ['--quality', '60'] },
    { fixture: 'mp4-vfr', mode: 'exact', interval: 0.5, format: 'jpg', extra: [] },
    { fixture: 'mp4-rotate-cw90', mode: 'exact', interval: 2, format: 'png', extra: [] },
  ];

  it.each(cases)('$fixture, $mode every $interval s as $format: one JSON line, the oracle frames, the files', async (c) => {
    const fixture = fixtureNamed(c.fixture);
    const video = await fixtureVideo(fixture);
    const out = await scratchPath(`cli-out-${c.fixture}-${c.mode}`);
    await rm(out, { recursive: true, force: true });
    const result = await vsnap([
      'extract', await fixturePath(fixture), '--interval', String(c.interval), '--mode', c.mode,
      ...(c.format === 'png' ? ['--format', 'png'] : []), ...c.extra, '--out', out, '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);

    const printed = JSON.parse(oneLine(result.stdout));
    expect(Object.keys(printed).sort()).toEqual(['data', 'stats', 'usage']);
    expect(Object.keys(printed.usage)).toEqual(['image_count']);
    expect(Object.keys(printed.stats).sort()).toEqual(statKeys);
    for (const entry of printed.data) expect(Object.keys(entry).sort()).toEqual(['frame_index', 'frame_time', 'height', 'path', 'width']);
    // Each image's size, upright.
    for (const entry of printed.data) expect([entry.width, entry.height]).toEqual([video.displayWidth, video.displayHeight]);

    const expected = expectedOutputs(video, c.interval, c.mode);
    expect(printed.data.map((d: { frame_index: number; frame_time: number }) => [d.frame_index, d.frame_time]))
      .toEqual(expected.map((e) => [e.frameIndex, e.frameTime]));
    expect(printed.usage.image_count).toBe(expected.length);

    const ext = c.format;
    expect(printed.data.map((d: { path: string }) => d.path)).toEqual(expected.map((_, k) => join(out, `snapshot_${k}.${ext}`)));
    expect((await readdir(out)).sort()).toEqual(expected.map((_, k) => `snapshot_${k}.${ext}`).sort());
    const first = await sharp(join(out, `snapshot_0.${ext}`)).metadata();
    expect([first.format, first.width, first.height]).toEqual([ext === 'jpg' ? 'jpeg' : 'png', video.displayWidth, video.displayHeight]);
  });

  it('creates a missing output directory with its parents', async () => {
    const out = join(await scratchPath('cli-out-nested'), 'a', 'b');
    await rm(join(out, '..', '..'), { recursive: true, force: true });
    const result = await vsnap(['extract', await fixturePath(fixtureNamed('mkv-h264')), '--out', out, '--json']);
    expect(result.exitCode).toBe(0);
    const { usage } = JSON.parse(oneLine(result.stdout));
    expect((await readdir(out)).length).toBe(usage.image_count);
    expect((await stat(join(out, 'snapshot_0.jpg'))).size).toBeGreaterThan(0);
  });
});

describe('vsnap probe --json', () => {
  it('prints the video info as one JSON line, as ffprobe reads the file', async () => {
    const fixture = fixtureNamed('mp4-rotate-cw90');
    const video = await fixtureVideo(fixture);
    const result = await vsnap(['probe', await fixturePath(fixture), '--json']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const info = JSON.parse(oneLine(result.stdout));
    expect({
      codec: info.codec,
      width: info.width,
      height: info.height,
      rotation: info.rotation,
      displayWidth: info.displayWidth,
      displayHeight: info.displayHeight,
      frameCount: info.frameCount,
      keyframes: info.keyframes,
    }).toEqual({
      codec: video.codec,
      width: video.width,
      height: video.height,
      rotation: video.rotation,
      displayWidth: video.displayWidth,
      displayHeight: video.displayHeight,
      frameCount: video.pts.length,
      keyframes: keyframeTimes(video),
    });
  });
});

describe('vsnap extract --tonemap', () => {
  it('tone-maps HDR by default and leaves it unmapped with --tonemap off; the wasm backend refuses auto', async () => {
    const input = await fixturePath(hdr10WithMetadata);
    const means: number[] = [];
    for (const flags of [[], ['--tonemap', 'off']]) {
      const out = await scratchPath(`cli-tonemap-${flags.length}`);
      const run = await vsnap(['extract', input, '--out', out, '--times', '0.5', '--format', 'png', ...flags]);
      expect(run.exitCode, run.stderr).toBe(0);
      const { channels } = await sharp(join(out, 'snapshot_0.png')).stats();
      means.push(channels.reduce((sum, c) => sum + c.mean, 0) / channels.length);
    }
    // PQ read as SDR gamma is dark and grey; mapped, the SDR grade (mean about 124) is near.
    expect(means[0]).toBeGreaterThan(means[1] + 15);
    const wasm = await vsnap(['extract', input, '--out', await scratchPath('cli-tonemap-wasm'), '--times', '0.5', '--backend', 'wasm']);
    expect(wasm.exitCode).toBe(1);
    expect(wasm.stderr).toContain('VSNAP_UNSUPPORTED_INPUT');
  });
});

describe('vsnap probe, colour', () => {
  it('names the matrix, primaries, transfer and range, and HDR10 metadata where the video has it', async () => {
    const hdr = await vsnap(['probe', await fixturePath(hdr10WithMetadata)]);
    expect(hdr.exitCode, hdr.stderr).toBe(0);
    expect(hdr.stdout).toMatch(
      /^colour\s+bt2020nc matrix, bt2020 primaries, smpte2084 \(PQ\) transfer, limited range; mastering display 0\.005 to 1000 cd\/m², MaxCLL 1000, MaxFALL 400$/m,
    );
    const sdr = await vsnap(['probe', await fixturePath(sdrTagged)]);
    expect(sdr.stdout).toMatch(/^colour\s+bt709 matrix, bt709 primaries, bt709 transfer, limited range$/m);
  });
});

describe('vsnap --backend', () => {
  it('probes and extracts with the backend named, and probe says which', async () => {
    const file = await fixturePath(fixtureNamed('mp4-bframes'));
    const frames: { frame_index: number; frame_time: number }[][] = [];
    for (const backend of ['native', 'wasm']) {
      const probed = await vsnap(['probe', file, '--backend', backend, '--json']);
      expect(probed.exitCode, probed.stderr).toBe(0);
      expect(JSON.parse(oneLine(probed.stdout)).backend).toBe(backend);
      const human = await vsnap(['probe', file, '--backend', backend]);
      expect(human.stdout).toMatch(new RegExp(`^backend\\s+${backend}$`, 'm'));
      const out = await scratchPath(`cli-backend-${backend}`);
      const extracted = await vsnap(['extract', file, '--backend', backend, '--interval', '1', '--out', out, '--json']);
      expect(extracted.exitCode, extracted.stderr).toBe(0);
      frames.push(JSON.parse(oneLine(extracted.stdout)).data.map(({ frame_index, frame_time }: { frame_index: number; frame_time: number }) => ({ frame_index, frame_time })));
    }
    expect(frames[1]).toEqual(frames[0]);
  });
});

describe('vsnap failures', async () => {
  const audio = audioOnlyFiles.find((f) => f.name === 'audio-aac')!;
  const video = fixtureNamed('mp4-h264');
  const failures: { name: string; args: () => Promise<string[]>; code: string; available: boolean; names?: string }[] = [
    { name: 'a missing file', args: async () => ['extract', await scratchPath('no-such-video.mp4'), '--out', await scratchPath('cli-fail')], code: 'VSNAP_INPUT_NOT_FOUND', available: true },
    { name: 'a text file', args: async () => ['extract', await scratchFile('cli-not-a-video.txt', 'not a video\n'), '--out', await scratchPath('cli-fail')], code: 'VSNAP_UNSUPPORTED_INPUT', available: true },
    { name: 'an audio-only file', args: async () => ['extract', await fixturePath(audio), '--out', await scratchPath('cli-fail')], code: 'VSNAP_NO_VIDEO_STREAM', available: await canMake(audio) },
    { name: 'a truncated MP4', args: async () => ['extract', await truncatedFile(video, 0.5, 'cli-truncated.mp4'), '--out', await scratchPath('cli-fail')], code: 'VSNAP_CORRUPT_INPUT', available: true },
    { name: 'probe of a missing file', args: async () => ['probe', await scratchPath('no-such-video.mp4'), '--json'], code: 'VSNAP_INPUT_NOT_FOUND', available: true },
    { name: 'probe of an audio-only file', args: async () => ['probe', await fixturePath(audio), '--json'], code: 'VSNAP_NO_VIDEO_STREAM', available: await canMake(audio) },
    { name: '--interval 0', args: async () => ['extract', await fixturePath(video), '--interval', '0', '--out', await scratchPath('cli-fail'), '--json'], code: 'VSNAP_INVALID_OPTION', available: true, names: '--interval' },
    { name: '--interval abc', args: async () => ['extract', await fixturePath(video), '--interval', 'abc', '--out', await scratchPath('cli-fail')], code: 'VSNAP_INVALID_OPTION', available: true, names: '--interval' },
    { name: '--format gif', args: async () => ['extract', await fixturePath(video), '--format', 'gif', '--out', await scratchPath('cli-fail')], code: 'VSNAP_INVALID_OPTION', available: true, names: '--format' },
    { name: '--mode fast', args: async () => ['extract', await fixturePath(video), '--mode', 'fast', '--out', await scratchPath('cli-fail')], code: 'VSNAP_INVALID_OPTION', available: true, names: '--mode' },
    { name: '--quality 101', args: async () => ['extract', await fixturePath(video), '--quality', '101', '--out', await scratchPath('cli-fail')], code: 'VSNAP_INVALID_OPTION', available: true, names: '--quality' },
    { name: '--backend gpu', args: async () => ['probe', await fixturePath(video), '--backend', 'gpu'], code: 'VSNAP_INVALID_OPTION', available: true, names: '--backend' },
    { name: 'a missing --out', args: async () => ['extract', await fixturePath(video), '--json'], code: 'VSNAP_INVALID_OPTION', available: true, names: '--out' },
    { name: '--out without its value', args: async () => ['extract', await fixturePath(video), '--out'], code: 'VSNAP_INVALID_OPTION', available: true, names: '--out' },
    { name: 'an unknown flag', args: async () => ['extract', await fixturePath(video), '--speed', '2', '--out', await scratchPath('cli-fail')], code: 'VSNAP_INVALID_OPTION', available: true, names: '--speed' },
    { name: 'no input', args: async () => ['extract', '--out', await scratchPath('cli-fail')], code: 'VSNAP_INVALID_OPTION', available: true },
    { name: 'an unknown command', args: async () => ['snap', await fixturePath(video)], code: 'VSNAP_INVALID_OPTION', available: true },
  ];

  it.for(failures)('$name: exits non-zero with one line on stderr naming $code, nothing on stdout', async (row, { skip }) => {
    if (!row.available) skip();
    const result = await vsnap(await row.args());
    expect(result.stdout).toBe('');
    const line = oneLine(result.stderr);
    expect(line).toMatch(new RegExp(`^vsnap: .+ \\(${row.code}\\)$`));
    if (row.names !== undefined) expect(line).toContain(row.names);
    expect(result.exitCode).toBe(row.code === 'VSNAP_INVALID_OPTION' ? 2 : 1);
  });
});
