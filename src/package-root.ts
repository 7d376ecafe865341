/**
 * The package's root directory, found from this module's own location: it
 * sits one level below the root both as src/package-root.ts (vitest) and as
 * dist/package-root.js (the build), so the same answer holds for both.
 */

import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  return fileURLToPath(new URL('../', import.meta.url));
}
