/**
 * The package's root directory: the nearest directory above this module
 * that holds package.json. This module runs at three depths, as
 * src/package-root.ts (vitest), dist/src/package-root.js (the build) and
 * inside dist/vsnap-cli.cjs (the bundled command line), so the root is
 * looked for rather than counted. Found once, on first need.
 */

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  root ??= findRoot(dirname(fileURLToPath(import.meta.url)));
  return root;
}

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`vsnap's package.json is not in ${start} or any directory above it`);
  }
}
