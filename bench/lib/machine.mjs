// What a results file says about where it was measured: the machine, its
// load at a moment, and the versions of vsnap and of every peer.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { CLEARED_VARIABLES, contenderEnvironment, run, runMeasured } from './process.mjs';

export function machineState() {
  return { loadAverage: os.loadavg(), freeMemMiB: Math.round(os.freemem() / 2 ** 20) };
}

/** `packageRoot`: the vsnap measured; `opencv`: also ask OpenCV's version (it is installed only for `npm run bench`). */
export async function versions(packageRoot, { opencv = false } = {}) {
  const firstLine = async (argv) => (await run(argv)).stdout.split('\n')[0].trim();
  const pkg = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8'));
  return {
    cpu: os.cpus()[0].model,
    cores: os.cpus().length,
    memMiB: Math.round(os.totalmem() / 2 ** 20),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    vsnap: pkg.version,
    ffmpeg: (await firstLine(['ffmpeg', '-version'])).match(/^ffmpeg version (\S+)/)?.[1],
    pyav: await firstLine(['/usr/bin/python3', '-c', 'import av, PIL; print(f"PyAV {av.__version__}, Pillow {PIL.__version__}")']),
    ...(opencv ? { opencv: await firstLine(['/usr/bin/python3', '-c', 'import cv2; print(cv2.__version__)']) } : {}),
    clearedEnvironment: await clearedEnvironment(),
  };
}

/**
 * The variables of CLEARED_VARIABLES the caller had set, and what they cost:
 * the wall time of `node -e 0`, median of 7 runs each, with the caller's
 * environment and with the one contenders get. undefined when none was set.
 */
export async function clearedEnvironment() {
  const set = CLEARED_VARIABLES.filter((name) => process.env[name] !== undefined);
  if (set.length === 0) return undefined;
  const median = async (env) => {
    const times = [];
    for (let i = 0; i < 7; i++) times.push((await runMeasured([process.execPath, '-e', '0'], { env })).wallMs);
    return times.sort((a, b) => a - b)[3];
  };
  const inheritedMs = await median(process.env);
  const clearedMs = await median(contenderEnvironment());
  return { variables: set, nodeStartMs: { inherited: Math.round(inheritedMs), cleared: Math.round(clearedMs) } };
}
