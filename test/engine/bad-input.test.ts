/**
 * Inputs that are not a readable video, and options out of range: each one
 * a row, each row one documented error code, the same on both backends.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { probe, shutdown, snapshot, snapshotToFiles, VsnapError, type BackendName, type SnapshotInput } from '../../src/index.js';
import {
  audioOnlyFiles,
  faststartMp4,
  scratchFile,
  stillImage,
  truncatedBytes,
  truncatedFile,
} from '../helpers/bad-inputs.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { canMake, fixturePath, scratchPath, type MadeFile } from '../helpers/made-file.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

afterAll(shutdown);

interface BadInput {
  name: string;
  /** The made file it comes from; its tests are skipped when this FFmpeg cannot make it. */
  source?: MadeFile;
  input: () => Promise<SnapshotInput>;
  /** The codes the spec allows. */
  codes: readonly string[];
  /**
   * Whether probe() must fail too. A truncated file whose header survives can
   * be probed; only reading its frames meets the damage.
   */
  probeFails: boolean;
}

const moovAtEnd = fixtureNamed('mp4-h264');

const badInputs: BadInput[] = [
  {
    name: 'a missing file',
    input: () => scratchPath('no-such-video.mp4'),
    codes: ['VSNAP_INPUT_NOT_FOUND'],
    probeFails: true,
  },
  {
    name: 'a text file',
    input: () => scratchFile('not-a-video.txt', 'This is a text file, not a video.\n'.repeat(40)),
    codes: ['VSNAP_UNSUPPORTED_INPUT'],
    probeFails: true,
  },
  {
    name: 'a PNG image',
    source: stillImage,
    input: () => fixturePath(stillImage),
    codes: ['VSNAP_UNSUPPORTED_INPUT'],
    probeFails: true,
  },
  {
    name: 'a PNG image in a Buffer',
    source: stillImage,
    input: async () => readFile(await fixturePath(stillImage)),
    codes: ['VSNAP_UNSUPPORTED_INPUT'],
    probeFails: true,
  },
  {
    name: 'an empty file',
    input: () => scratchFile('empty.mp4', ''),
    codes: ['VSNAP_UNSUPPORTED_INPUT'],
    probeFails: true,
  },
  {
    name: 'an empty Buffer',
    input: async () => Buffer.alloc(0),
    codes: ['VSNAP_INVALID_OPTION', 'VSNAP_UNSUPPORTED_INPUT'],
    probeFails: true,
  },
  ...audioOnlyFiles.map(
    (file): BadInput => ({
      name: `an audio-only ${file.ext} (${file.name})`,
      source: file,
      input: () => fixturePath(file),
      codes: ['VSNAP_NO_VIDEO_STREAM'],
      probeFails: true,
    }),
  ),
  {
    name: 'an MP4 cut at 50%, index first (faststart)',
    source: faststartMp4,
    input: () => truncatedFile(faststartMp4, 0.5, 'truncated-faststart.mp4'),
    codes: ['VSNAP_CORRUPT_INPUT'],
    probeFails: false,
  },
  {
    name: 'an MP4 cut at 50%, index first, in a Buffer',
    source: faststartMp4,
    input: () => truncatedBytes(faststartMp4, 0.5),
    codes: ['VSNAP_CORRUPT_INPUT'],
    probeFails: false,
  },
  {
    name: 'an MP4 cut at 50%, index last (lost)',
    source: moovAtEnd,
    input: () => truncatedFile(moovAtEnd, 0.5, 'truncated-moov-at-end.mp4'),
    codes: ['VSNAP_CORRUPT_INPUT'],
    probeFails: true,
  },
  {
    name: 'an MP4 cut at 50%, index last (lost), in a Buffer',
    source: moovAtEnd,
    input: () => truncatedBytes(moovAtEnd, 0.5),
    codes: ['VSNAP_CORRUPT_INPUT'],
    probeFails: true,
  },
];

function expectVsnapError(error: unknown, codes: readonly string[]): void {
  expect(error).toBeInstanceOf(VsnapError);
  const { code, message } = error as VsnapError;
  expect(codes).toContain(code);
  expect(message.length).toBeGreaterThan(0);
  expect(message).not.toContain('\n');
}

const backends: readonly BackendName[] = ['native', 'wasm'];

describe.each(backends)('bad inputs on the %s backend', async (backend) => {
  const makeable = await Promise.all(badInputs.map(async (row) => ({ ...row, available: !row.source || (await canMake(row.source)) })));

  describe.each(makeable)('$name', (row) => {
    it.skipIf(!row.available)('makes snapshot() reject with the documented code', async () => {
      const input = await row.input();
      expectVsnapError(await failureOf(() => collect(input, { mode: 'exact', backend })), row.codes);
    });

    it.skipIf(!row.available)('makes keyframe mode and snapshotToFiles() reject the same way', async () => {
      const input = await row.input();
      expectVsnapError(await failureOf(() => collect(input, { mode: 'keyframe', backend })), row.codes);
      const dir = await scratchPath(`bad-input-out-${backend}-${row.name.replace(/\W+/g, '-')}`);
      expectVsnapError(await failureOf(() => snapshotToFiles(input, dir, { backend })), row.codes);
    });

    it.skipIf(!row.available || !row.probeFails)('makes probe() reject with the documented code', async () => {
      expectVsnapError(await failureOf(async () => probe(await row.input(), { backend })), row.codes);
    });
  });
});

describe('bad options', async () => {
  const path = await fixturePath(moovAtEnd);

  const badOptions: { option: string; options: Record<string, unknown> }[] = [
    { option: 'interval', options: { interval: 0 } },
    { option: 'interval', options: { interval: -1 } },
    { option: 'interval', options: { interval: NaN } },
    { option: 'interval', options: { interval: '1' } },
    { option: 'interval', options: { interval: Infinity } },
    { option: 'format', options: { format: 'gif' } },
    { option: 'format', options: { format: 'JPG' } },
    { option: 'mode', options: { mode: 'fast' } },
    { option: 'quality', options: { quality: 0 } },
    { option: 'quality', options: { quality: 101 } },
    { option: 'quality', options: { quality: 1.5 } },
    { option: 'compression', options: { compression: 10 } },
    { option: 'signal', options: { signal: 'abort' } },
    { option: 'backend', options: { backend: 'gpu' } },
    { option: 'speed', options: { speed: 2 } },
  ];

  it.each(badOptions)('refuses $options at once, naming $option', ({ option, options }) => {
    let thrown: unknown;
    try {
      snapshot(path, options);
    } catch (error) {
      thrown = error;
    }
    expectVsnapError(thrown, ['VSNAP_INVALID_OPTION']);
    expect((thrown as VsnapError).option).toBe(option);
    expect((thrown as VsnapError).message).toContain(option);
  });

  it.each(badOptions)('makes snapshotToFiles() reject $options, naming $option', async ({ option, options }) => {
    const error = await failureOf(async () => snapshotToFiles(path, await scratchPath('bad-options-out'), options));
    expectVsnapError(error, ['VSNAP_INVALID_OPTION']);
    expect((error as VsnapError).option).toBe(option);
  });
});
