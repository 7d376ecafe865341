// The child process of test/engine/leaks.test.ts (run with --expose-gc, and
// --max-semi-space-size=1: see the test for why):
//   node --expose-gc --max-semi-space-size=1 leak-loop.mjs BACKEND ROUNDS INPUT...
// Extracts from every input in both modes and both formats, ROUNDS times;
// after each round stops the worker pools, collects garbage, returns the
// memory the C allocator holds free to the system (trimMemory) and notes the
// resident memory and the memory JavaScript holds (V8's heap, and external
// memory: Buffers and ArrayBuffers, the inputs and frames among them).
// Prints one JSON line: { rssMiB: [...], untrimmedMiB: [...], jsMiB: [...],
// newSpaceMiB: [...], runs, failures, trimmed } (untrimmedMiB: the resident
// memory just before each trim; newSpaceMiB: the resident size of V8's young
// generation; trimmed: the rounds after which trimMemory returned memory).
import { getHeapSpaceStatistics } from 'node:v8';
import { snapshot, shutdown, trimMemory } from '../../dist/src/index.js';

const [backend, roundsText, ...inputs] = process.argv.slice(2);
const rounds = Number(roundsText);
const rssMiB = [];
const jsMiB = [];
const newSpaceMiB = [];
let runs = 0;
let failures = 0;
let trimmed = 0;
const untrimmedMiB = [];

for (let round = 0; round < rounds; round++) {
  for (const input of inputs) {
    for (const mode of ['exact', 'keyframe']) {
      for (const format of ['jpg', 'png']) {
        runs++;
        try {
          for await (const image of snapshot(input, { backend, mode, format, interval: 0.5 })) {
            if (image.data.length === 0) throw new Error(`an empty image from ${input}`);
          }
        } catch (error) {
          if (typeof error?.code !== 'string' || !error.code.startsWith('VSNAP_')) throw error;
          failures++;
        }
      }
    }
  }
  // The worker threads (encode, wasm decode) collect their own garbage on their own schedule:
  // stopping them lets go of what they hold, and the next round starts new ones.
  await shutdown();
  // Twice: a first collection can leave finalizers to run before memory is returned.
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  globalThis.gc();
  // glibc keeps what was freed, up to hundreds of MiB, and its resident size
  // then moves by tens of MiB from round to round whatever lives.
  untrimmedMiB.push(process.memoryUsage.rss() / (1024 * 1024));
  if (trimMemory()) trimmed++;
  const memory = process.memoryUsage();
  rssMiB.push(memory.rss / (1024 * 1024));
  jsMiB.push((memory.heapUsed + memory.external) / (1024 * 1024));
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  newSpaceMiB.push((newSpace?.physical_space_size ?? 0) / (1024 * 1024));
}
console.log(JSON.stringify({ rssMiB, untrimmedMiB, jsMiB, newSpaceMiB, runs, failures, trimmed }));
