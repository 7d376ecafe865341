// The vsnap build under test, frozen: a copy of what `bin/vsnap` runs (bin/,
// dist/, the native addon, package.json), so that the verification and every
// timed run use one build even if the checkout is rebuilt meanwhile. The copy
// lies inside the checkout, so Node resolves its dependencies from the
// checkout's node_modules, the nearest one up the tree.
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const BUILD_FILES = ['bin/vsnap', 'bin/package.json', 'dist', 'build/Release/vsnap.node', 'package.json'];

export function assertVsnapBuilt(repoRoot) {
  for (const file of BUILD_FILES) {
    if (!existsSync(join(repoRoot, file))) throw new Error(`${file} is missing: build vsnap first with "npm run build"`);
  }
}

export async function freezeVsnapBuild(repoRoot, dir) {
  await mkdir(dir, { recursive: true });
  for (const file of BUILD_FILES) {
    await cp(join(repoRoot, file), join(dir, file), { recursive: true, preserveTimestamps: true });
  }
  return dir;
}

/** The file URL of the library entry of the build at `root`, as its package.json names it (dist/src/index.js, or dist/index.js in builds before wasm/ moved to the top level). */
export function libraryEntry(root) {
  const { main } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return pathToFileURL(join(root, main)).href;
}
