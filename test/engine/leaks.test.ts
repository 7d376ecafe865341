/**
 * Memory settles over many extractions in one process, on the native backend:
 * a child process (node --expose-gc, the built library) extracts from one
 * fixture of every container and codec, in both modes and both formats, plus
 * inputs that fail (cut in half, bytes overwritten), round after round
 * (52 extractions a round). After a warm-up round, the resident memory once
 * the worker pools are stopped and garbage collected must stop growing: the peak of the later rounds may
 * pass the peak of the earlier ones by a margin only. Resident memory moves
 * by tens of MiB between rounds on its own (the allocator's arenas, the wasm
 * core's instances, freed when V8 collects them), so the margin is 24 MiB;
 * a leak of a frame (230 kB here) per extraction would add 60 MiB over the
 * later rounds, and one of 100 kB about 26 MiB.
 *
 * Not the wasm backend yet: the same loop on it grows by 1.5 to 12 MiB a
 * round (a 20-round run here: 174 to 209 MiB), whether from a leak or from
 * how late V8 frees worker isolates, wasm code and shared buffers is not
 * known; until it is, a check with a margin wide enough to pass would not
 * catch a frame-sized leak.
 */

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { corruptedBytes, truncatedBytes } from '../helpers/bad-inputs.js';
import { fixtureCases } from '../helpers/fixture-videos.js';
import { fixturePath, scratchPath } from '../helpers/made-file.js';

const run = promisify(execFile);
const loop = fileURLToPath(new URL('../helpers/leak-loop.mjs', import.meta.url));

/** One per container and codec. */
const chosen = ['mp4-h264', 'mp4-hevc', 'mov-h264', 'mkv-h264', 'webm-vp8', 'webm-vp9', 'webm-av1', 'avi-mpeg4', 'flv-flv1', 'ts-h264', 'mkv-10bit'];
const rounds = 10;
/** Growth allowed from the earlier rounds' peak to the later rounds' peak, in MiB. */
const marginMiB = 24;

describe.each(['native'])('the %s backend', (backend) => {
  it(`holds steady memory over ${rounds} rounds of extractions, failing ones included`, async ({ annotate }) => {
    const cases = (await fixtureCases()).filter((f) => f.available && chosen.includes(f.name));
    const inputs: string[] = [];
    for (const fixture of cases) inputs.push(await fixturePath(fixture));
    const broken = cases[0];
    const half = await scratchPath(`leak-half-${broken.name}.mp4`);
    await writeFile(half, await truncatedBytes(broken, 0.5));
    const damaged = await scratchPath(`leak-damaged-${broken.name}.mp4`);
    await writeFile(damaged, await corruptedBytes(broken, 7, 400));
    inputs.push(half, damaged);

    const { stdout } = await run(process.execPath, ['--expose-gc', loop, backend, String(rounds), ...inputs], {
      // Fewer malloc arenas: less of the resident size is fragmentation that comes and goes.
      env: { ...process.env, MALLOC_ARENA_MAX: '2' },
      maxBuffer: 1 << 20,
      timeout: 240_000,
    });
    const report = JSON.parse(stdout) as { rssMiB: number[]; runs: number; failures: number };
    expect(report.runs).toBe(rounds * inputs.length * 4);
    // The cut input fails in every mode and format (the damaged one may decode, with errors).
    expect(report.failures).toBeGreaterThanOrEqual(rounds * 4);
    const settled = report.rssMiB.slice(1);
    const middle = Math.floor(settled.length / 2);
    const growth = Math.max(...settled.slice(middle)) - Math.max(...settled.slice(0, middle));
    await annotate(`RSS after each round (MiB): ${report.rssMiB.map((v) => v.toFixed(0)).join(', ')}; growth ${growth.toFixed(1)} MiB`);
    expect(growth).toBeLessThan(marginMiB);
  }, 300_000);
});
