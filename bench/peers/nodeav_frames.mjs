// node-av peer of a model-input call (`count`, `width`, `height`, `fit: 'fill'`,
// `format: 'raw'`): frames at chosen times, scaled to SIZE x SIZE packed RGB24,
// kept in memory, the way a Node program does it with node-av's FFmpeg
// bindings (npm node-av, prebuilt binaries).
//
// For every time t (seconds since the first displayed frame) it seeks to the
// keyframe at or before t, flushes the decoder and decodes forward to the
// last frame whose time is <= t, then scales that frame with swscale
// (Lanczos, as vsnap scales) to RGB24. It uses node-av's synchronous calls,
// its fastest path (no hop to the thread pool per packet), and FFmpeg's
// frame threading, as for PyAV.
//
// Usage: node nodeav_frames.mjs INPUT --times T1,T2,... --size N [--out DIR]
// Prints one JSON line: {"outputs": [{"frame_time"}], "frames_decoded", "call": {"wall_ms", "cpu_ms"}}.
// The extraction runs twice in this process and the second is timed: the
// cost per video of a program that has node-av loaded already. With --out,
// each frame is written to DIR/frame_K.rgb for the benchmark's check.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Codec, CodecContext, FormatContext, Frame, Packet } from 'node-av';
import { Scaler } from 'node-av/api';
import { AVERROR_EAGAIN, AVERROR_EOF, AVMEDIA_TYPE_VIDEO, AVSEEK_FLAG_BACKWARD, SWS_LANCZOS } from 'node-av/constants';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { times: { type: 'string' }, size: { type: 'string' }, out: { type: 'string' } },
});
const [input] = positionals;
if (input === undefined || values.times === undefined || values.size === undefined) {
  throw new Error('usage: nodeav_frames.mjs INPUT --times T1,T2,... --size N [--out DIR]');
}
const times = values.times.split(',').map(Number);
const size = Number(values.size);

async function extract() {
  const format = new FormatContext();
  check(await format.openInput(input), 'openInput');
  check(await format.findStreamInfo(), 'findStreamInfo');
  const index = format.findBestStream(AVMEDIA_TYPE_VIDEO);
  const stream = format.streams[index];
  const codec = Codec.findDecoder(stream.codecpar.codecId);
  const context = new CodecContext();
  context.allocContext3(codec);
  check(context.parametersToContext(stream.codecpar), 'parametersToContext');
  context.threadCount = 0;
  check(await context.open2(codec), 'open2');
  const scaler = new Scaler({ flags: SWS_LANCZOS });
  const packet = new Packet();
  packet.alloc();
  const frame = new Frame();
  frame.alloc();
  const { num, den } = stream.timeBase;
  let framesDecoded = 0;

  /** Decodes on from where the demuxer is; calls `take(frame)` for each frame until it returns false. */
  function decodeOn(take) {
    for (;;) {
      const read = format.readFrameSync(packet);
      const ended = read < 0;
      if (!ended && packet.streamIndex !== index) {
        packet.unref();
        continue;
      }
      context.sendPacketSync(ended ? null : packet);
      packet.unref();
      for (;;) {
        const received = context.receiveFrameSync(frame);
        if (received === AVERROR_EAGAIN || received === AVERROR_EOF) break;
        check(received, 'receiveFrame');
        framesDecoded++;
        if (!take(frame)) return;
      }
      if (ended) return;
    }
  }

  let origin;
  decodeOn((f) => {
    origin = f.bestEffortTimestamp;
    return false;
  });
  const outputs = [];
  const images = [];
  for (const t of times) {
    const target = origin + BigInt(Math.floor((t * den) / num));
    check(format.seekFrameSync(index, target, AVSEEK_FLAG_BACKWARD), 'seekFrame');
    context.flushBuffers();
    let chosen;
    let chosenPts;
    decodeOn((f) => {
      const pts = f.bestEffortTimestamp;
      if (pts > target) return false;
      chosen?.free();
      chosen = f.clone();
      chosenPts = pts;
      return true;
    });
    if (chosen === undefined) throw new Error(`the seek for ${t} s landed past it`);
    images.push(scaler.toBufferSync(chosen, { resize: { width: size, height: size }, format: 'rgb' }));
    chosen.free();
    outputs.push({ frame_time: Math.round((Number(chosenPts - origin) * num * 1000) / den) / 1000 });
  }
  scaler.close();
  frame.free();
  packet.free();
  context.freeContext();
  await format.closeInput();
  return { outputs, images, framesDecoded };
}

function check(code, what) {
  if (typeof code === 'number' && code < 0) throw new Error(`${what} failed: ${code}`);
  return code;
}

await extract();
const cpu = process.cpuUsage();
const start = process.hrtime.bigint();
const { outputs, images, framesDecoded } = await extract();
const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
const { user, system } = process.cpuUsage(cpu);
if (values.out !== undefined) {
  mkdirSync(values.out, { recursive: true });
  images.forEach((image, k) => writeFileSync(join(values.out, `frame_${k}.rgb`), image));
}
process.stdout.write(`${JSON.stringify({ outputs, frames_decoded: framesDecoded, call: { wall_ms: wallMs, cpu_ms: (user + system) / 1000 } })}\n`);
