/**
 * The FFmpeg WebAssembly core wrapper (wasm/), before it becomes
 * a backend: it loads in Node without network, its packet list is the
 * ffprobe CLI's, a frame it decodes is the native engine's image of that
 * frame, and bad inputs fail with a stable code naming the operation.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { shutdown, VsnapError } from '../../src/index.js';
import { WasmFfmpeg } from '../../wasm/wasm-ffmpeg.js';
import { audioOnlyFiles, faststartMp4 } from '../helpers/bad-inputs.js';
import { ffprobeJson } from '../helpers/ffmpeg.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { canMake, fixturePath } from '../helpers/made-file.js';
import { decodeImage, probeVideo, psnr } from '../helpers/oracle.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

// The AV1 fixture needs an AV1 encoder in the ffmpeg CLI that makes it.
const av1Available = await canMake(fixtureNamed('webm-av1'));

let core: WasmFfmpeg;

beforeAll(async () => {
  core = await WasmFfmpeg.create();
});
afterAll(async () => {
  core.close();
  await shutdown();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

async function inputOf(name: string): Promise<Buffer> {
  return readFile(await fixturePath(fixtureNamed(name)));
}

describe('loading', () => {
  it('loads without fetching anything and leaves no `self` global behind', async () => {
    const fetch = vi.fn(() => Promise.reject(new Error('no network in this test')));
    vi.stubGlobal('fetch', fetch);
    const fresh = await WasmFfmpeg.create();
    fresh.setInput(await inputOf('mp4-h264'));
    expect((await fresh.probe()).stream).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    fresh.close();
    expect(fetch).not.toHaveBeenCalled();
    expect('self' in globalThis).toBe(false);
  });
});

describe.each(['mp4-h264', 'mp4-bframes', 'mp4-edit-list', 'mp4-rotate-cw90'])('probe of %s', (name) => {
  it("lists the video stream's packets as the ffprobe CLI does", async () => {
    const path = await fixturePath(fixtureNamed(name));
    const cli = (await ffprobeJson(['-select_streams', 'v:0', '-show_packets', path])) as {
      packets: { pts?: number; dts?: number; duration?: number; flags: string; size: string }[];
    };
    core.setInput(await readFile(path));
    const { packets } = await core.probe();
    expect(packets.length).toBeGreaterThan(0);
    expect(packets).toEqual(
      cli.packets.map((p) => ({
        pts: p.pts === undefined ? undefined : BigInt(p.pts),
        dts: p.dts === undefined ? undefined : BigInt(p.dts),
        duration: p.duration === undefined ? undefined : BigInt(p.duration),
        keyframe: p.flags.includes('K'),
        discard: p.flags.includes('D'),
        size: Number(p.size),
      })),
    );
  });
});

describe.each([
  // A B-frame far from its keyframe; a rotated stream whose picture must come out upright; MPEG-TS, whose
  // seek is a search over the byte stream; FLV, whose millisecond pts come out of the decoder a tick off.
  { name: 'mp4-bframes', rotation: 0 },
  { name: 'mp4-rotate-cw90', rotation: 90 },
  { name: 'ts-h264', rotation: 0 },
  { name: 'flv-h264', rotation: 0 },
])('decoding a frame of $name', ({ name, rotation }) => {
  it("gives the native engine's image of the same frame", async () => {
    const path = await fixturePath(fixtureNamed(name));
    const video = await probeVideo(path);
    const run = await collect(path, { mode: 'exact', interval: 1, format: 'png' });
    const native = run.outputs[1];
    core.setInput(await readFile(path));
    expect((await core.probe()).stream.rotation).toBe(rotation);

    const frame = await core.decodeFrame(video.pts[native.frameIndex]);
    const image = await decodeImage(native.data);
    expect({ width: frame.width, height: frame.height }).toEqual({ width: image.width, height: image.height });
    expect(psnr(frame.pixels, image.pixels)).toBeGreaterThan(35);
    // The neighbouring frame is told apart, so the match above is of this frame and no other.
    const neighbour = await core.decodeFrame(video.pts[native.frameIndex + 1]);
    expect(psnr(neighbour.pixels, image.pixels)).toBeLessThan(30);
  });
});

describe('decoding without rotation', () => {
  it('gives the picture as coded', async () => {
    core.setInput(await inputOf('mp4-rotate-cw90'));
    const frame = await core.decodeFrame(0n, { rotate: false });
    expect({ width: frame.width, height: frame.height }).toEqual({ width: 320, height: 240 });
    expect(frame.pixels.length).toBe(320 * 240 * 3);
  });
});

describe('failures', () => {
  it.each([
    {
      what: 'bytes that are no container',
      bytes: () => Promise.resolve(Buffer.alloc(4096, 0x55)),
      code: 'VSNAP_UNSUPPORTED_INPUT',
      message: /^Probing the input with the wasm core: not a video container vsnap reads \(.*Invalid data/,
    },
    {
      what: 'an MP4 cut before its index',
      bytes: async () => (await inputOf('mp4-h264')).subarray(0, 20_000),
      code: 'VSNAP_CORRUPT_INPUT',
      message: /^Probing the input with the wasm core: truncated or corrupt mov data \(.*Invalid data/,
    },
  ])('probing $what is $code with FFmpeg\'s reason', async ({ bytes, code, message }) => {
    core.setInput(await bytes());
    const error = await failureOf(() => core.probe());
    expect(error).toBeInstanceOf(VsnapError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('decoding from media data overwritten with zeros is VSNAP_CORRUPT_INPUT with FFmpeg\'s reason', async () => {
    // The index sits before the media data, so the probe still succeeds and the damage reaches the decoder.
    const bytes = Buffer.from(await readFile(await fixturePath(faststartMp4)));
    bytes.fill(0, bytes.indexOf('mdat') + 4);
    core.setInput(bytes);
    const first = (await core.probe()).packets[0].pts ?? -1n;
    const error = await failureOf(() => core.decodeFrame(first));
    expect(error).toMatchObject({
      code: 'VSNAP_CORRUPT_INPUT',
      message: expect.stringMatching(/^Decoding a frame with the wasm core failed \(exit code \d+\): \[h264\] Invalid NAL unit size/),
    });
  });

  it('a failed run leaves nothing behind: the next one decodes', async () => {
    // FFmpeg keeps its decode error count in a global; a reused core instance would fail every later run.
    const bytes = Buffer.from(await readFile(await fixturePath(faststartMp4)));
    bytes.fill(0, bytes.indexOf('mdat') + 4);
    core.setInput(bytes);
    await failureOf(() => core.decodeFrame(0n));
    core.setInput(await inputOf('mp4-h264'));
    expect((await core.decodeFrame(512n)).pixels.length).toBe(320 * 240 * 3);
  });

  it.skipIf(!av1Available)('AV1, which the core cannot decode, is VSNAP_UNSUPPORTED_INPUT', async () => {
    core.setInput(await inputOf('webm-av1'));
    const { stream, packets } = await core.probe();
    expect(stream.codec).toBe('av1');
    expect(await failureOf(() => core.decodeFrame(packets[0].pts ?? -1n))).toMatchObject({
      code: 'VSNAP_UNSUPPORTED_INPUT',
      message: expect.stringMatching(/^Decoding a frame with the wasm core failed .*\[av1\] Your platform doesn't/),
    });
  });

  it('a file with sound only is VSNAP_NO_VIDEO_STREAM', async () => {
    core.setInput(await readFile(await fixturePath(audioOnlyFiles[0])));
    expect(await failureOf(() => core.probe())).toMatchObject({ code: 'VSNAP_NO_VIDEO_STREAM' });
  });

  it('a pts that is no frame is VSNAP_INVALID_OPTION naming pts', async () => {
    core.setInput(await inputOf('mp4-h264'));
    expect(await failureOf(() => core.decodeFrame(7n))).toMatchObject({ code: 'VSNAP_INVALID_OPTION', option: 'pts' });
  });

  it('a closed instance refuses work', async () => {
    const fresh = await WasmFfmpeg.create();
    fresh.close();
    fresh.close();
    expect(() => fresh.setInput(new Uint8Array(1))).toThrow(/WasmFfmpeg.setInput: the instance is closed/);
  });
});
