// One video read twice by the library in one process, after an untimed
// call that loads it: from its local file, then by URL (the URL serves the
// same file). What `bench/remote.mjs` times and counts.
//
// Usage: node url-call.mjs VSNAP_ROOT FILE URL --mode exact|keyframe --interval S
// Prints one JSON line: { local: { wall_ms, images }, url: { wall_ms, images, stats } }.
import { parseArgs } from 'node:util';
import { libraryEntry } from './vsnap-build.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { mode: { type: 'string' }, interval: { type: 'string' } },
});
const [vsnapRoot, file, url] = positionals;
if (vsnapRoot === undefined || file === undefined || url === undefined) {
  throw new Error('usage: url-call.mjs VSNAP_ROOT FILE URL --mode M --interval S');
}
const { snapshot, shutdown } = await import(libraryEntry(vsnapRoot));
const options = { mode: values.mode, interval: Number(values.interval), format: 'jpg' };

/** One whole run: its wall time, images and stats. */
async function timed(input) {
  const start = process.hrtime.bigint();
  const run = snapshot(input, options);
  let images = 0;
  for await (const _ of run) images += 1;
  return { wall_ms: Number(process.hrtime.bigint() - start) / 1e6, images, stats: run.stats() };
}

await timed(file);
const local = await timed(file);
const remote = await timed({ url });
await shutdown();
process.stdout.write(`${JSON.stringify({ local: { wall_ms: local.wall_ms, images: local.images }, url: remote })}\n`);
