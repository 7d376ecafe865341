// What a results file says about where it was measured: the machine, its
// load at a moment, and the versions of vsnap and of every peer.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { run } from './process.mjs';

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
  };
}
