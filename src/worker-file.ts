/**
 * Where a worker thread's module is. The compiled worker sits next to the
 * module that starts it, in dist/ (dist/src/encode/, dist/wasm/: the build
 * mirrors the source tree). Under vitest that module runs from its
 * TypeScript source, which worker threads cannot load, and in the bundled
 * command line from dist/vsnap-cli.cjs, so the worker of the last
 * `npm run build:ts` is looked for in dist/ too.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { backendUnavailable } from './errors.js';
import { packageRoot } from './package-root.js';

/**
 * The file URL of worker `name` (e.g. 'worker.js') beside `moduleUrl`, whose
 * folder relative to the package root is `folder` (e.g. 'src/encode' or
 * 'wasm'); `what` names it in the VSNAP_BACKEND_UNAVAILABLE error when
 * neither exists.
 */
export function workerFileUrl(moduleUrl: string, folder: string, name: string, what: string): string {
  const candidates = [fileURLToPath(new URL(`./${name}`, moduleUrl)), join(packageRoot(), 'dist', folder, name)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found !== undefined) return pathToFileURL(found).href;
  throw backendUnavailable(
    what,
    candidates.map((candidate) => ({ candidate, reason: 'no such file' })),
    'Build it with `npm run build:ts`',
  );
}
