// One snapshotToFiles() call timed inside a process that has made one
// already: what an application embedding vsnap pays per video once the
// library is loaded (its encode workers started, FFmpeg's libraries
// loaded). The first call, on the same input, writes to a scratch directory
// and is not timed.
//
// Usage: node library-call.mjs VSNAP_ROOT INPUT --interval S --mode exact|keyframe --quality Q --out DIR
// Prints one JSON line, the CLI's `--json` shape plus
// "call": {"wall_ms", "cpu_ms"} (CPU of the whole process: every thread).
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { libraryEntry } from './vsnap-build.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { interval: { type: 'string' }, mode: { type: 'string' }, quality: { type: 'string' }, out: { type: 'string' } },
});
const [vsnapRoot, input] = positionals;
if (vsnapRoot === undefined || input === undefined || values.out === undefined) {
  throw new Error('usage: library-call.mjs VSNAP_ROOT INPUT --interval S --mode M --quality Q --out DIR');
}
const { snapshotToFiles, shutdown } = await import(libraryEntry(vsnapRoot));
const options = { interval: Number(values.interval), mode: values.mode, format: 'jpg', quality: Number(values.quality) };

const scratch = `${values.out}-first-call`;
await snapshotToFiles(input, scratch, options);
await rm(scratch, { recursive: true, force: true });

const cpu = process.cpuUsage();
const start = process.hrtime.bigint();
const result = await snapshotToFiles(input, values.out, options);
const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
const { user, system } = process.cpuUsage(cpu);
await shutdown();

process.stdout.write(`${JSON.stringify({
  data: result.files.map((f) => ({ frame_index: f.frameIndex, frame_time: f.frameTime, path: f.path })),
  usage: { image_count: result.files.length },
  stats: result.stats,
  call: { wall_ms: wallMs, cpu_ms: (user + system) / 1000 },
})}\n`);
