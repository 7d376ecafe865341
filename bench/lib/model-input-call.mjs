// vsnap's side of the model-input comparison (bench/lib/controls.mjs): one
// library call, `count` frames scaled to SIZE x SIZE (`fit: 'fill'`) as raw
// RGB24 kept in memory, timed in a process that has made the same call
// already, as the peers in bench/peers/*_frames.* are.
//
// Usage: node model-input-call.mjs VSNAP_ROOT INPUT --count N --size S [--out DIR]
// Prints one JSON line: {"outputs": [{"frame_index", "frame_time", "target_time"}], "stats", "call": {"wall_ms", "cpu_ms"}}.
// With --out, each frame is written to DIR/frame_K.rgb for the check.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { libraryEntry } from './vsnap-build.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string' }, size: { type: 'string' }, out: { type: 'string' } },
});
const [vsnapRoot, input] = positionals;
if (vsnapRoot === undefined || input === undefined || values.count === undefined || values.size === undefined) {
  throw new Error('usage: model-input-call.mjs VSNAP_ROOT INPUT --count N --size S [--out DIR]');
}
const { snapshot, shutdown } = await import(libraryEntry(vsnapRoot));
const size = Number(values.size);
const options = { count: Number(values.count), width: size, height: size, fit: 'fill', format: 'raw' };

async function call() {
  const run = snapshot(input, options);
  const frames = [];
  for await (const frame of run) frames.push(frame);
  return { frames, stats: run.stats() };
}

await call();
const cpu = process.cpuUsage();
const start = process.hrtime.bigint();
const { frames, stats } = await call();
const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
const { user, system } = process.cpuUsage(cpu);
await shutdown();
if (values.out !== undefined) {
  await mkdir(values.out, { recursive: true });
  for (const [k, frame] of frames.entries()) await writeFile(join(values.out, `frame_${k}.rgb`), frame.data);
}
process.stdout.write(`${JSON.stringify({
  outputs: frames.map((f) => ({ frame_index: f.frameIndex, frame_time: f.frameTime, target_time: f.targetTime })),
  stats,
  call: { wall_ms: wallMs, cpu_ms: (user + system) / 1000 },
})}\n`);
