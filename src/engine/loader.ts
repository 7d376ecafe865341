/**
 * Finds the decode backend. Nothing happens at import: the first call to
 * `loadBackend()` tries the candidates in order, and its outcome, a backend
 * or the error, is kept for every later call.
 *
 * Native module candidates, in order:
 *   1. $VSNAP_NATIVE_PATH, when set
 *   2. <package root>/build/Release/vsnap.node
 *   3. <package root>/build/Debug/vsnap.node
 * The first one that loads, has the shape of binding.ts and reports its
 * contract version (a stale build of an older vsnap does not) wins. When none
 * does, one VSNAP_BACKEND_UNAVAILABLE error lists every candidate with the
 * reason it failed and says how to build the module.
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { backendUnavailable, type LoadAttempt, type VsnapError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { Backend } from './backend.js';
import { bindingVersion, type NativeBinding } from './binding.js';
import { createNativeBackend } from './native-backend.js';

const buildHint =
  'Build the native module with `npm run build:native` (needs cmake, a C++17 compiler and the FFmpeg ' +
  'development libraries libavformat, libavcodec, libswscale and libavutil), ' +
  'or set VSNAP_NATIVE_PATH to a built vsnap.node';

type Outcome = { ok: true; backend: Backend } | { ok: false; error: VsnapError };

let outcome: Outcome | undefined;

export function loadBackend(): Backend {
  outcome ??= tryLoadBackend();
  if (!outcome.ok) throw outcome.error;
  return outcome.backend;
}

function tryLoadBackend(): Outcome {
  const attempts: LoadAttempt[] = [];
  const binding = loadNativeBinding(attempts);
  if (binding !== undefined) return { ok: true, backend: createNativeBackend(binding) };
  return { ok: false, error: backendUnavailable('The vsnap decode backend', attempts, buildHint) };
}

function nativeCandidates(): string[] {
  const root = packageRoot();
  const candidates: string[] = [];
  const fromEnv = process.env.VSNAP_NATIVE_PATH;
  if (fromEnv !== undefined && fromEnv !== '') candidates.push(fromEnv);
  candidates.push(join(root, 'build', 'Release', 'vsnap.node'), join(root, 'build', 'Debug', 'vsnap.node'));
  return candidates;
}

function loadNativeBinding(attempts: LoadAttempt[]): NativeBinding | undefined {
  const require = createRequire(import.meta.url);
  for (const candidate of nativeCandidates()) {
    if (!existsSync(candidate)) {
      attempts.push({ candidate, reason: 'no such file' });
      continue;
    }
    // require() would run any other file as JavaScript.
    if (!candidate.endsWith('.node')) {
      attempts.push({ candidate, reason: 'not a .node file' });
      continue;
    }
    let loaded: unknown;
    try {
      loaded = require(candidate);
    } catch (error) {
      attempts.push({ candidate, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const missing = missingExports(loaded);
    if (missing.length > 0) {
      attempts.push({ candidate, reason: `not a vsnap module (missing ${missing.join(', ')})` });
      continue;
    }
    const binding = loaded as NativeBinding;
    const version = binding.versions().binding;
    if (version !== bindingVersion) {
      attempts.push({ candidate, reason: `built for binding version ${String(version)}, this vsnap needs ${bindingVersion} (a stale build)` });
      continue;
    }
    return binding;
  }
  return undefined;
}

function missingExports(loaded: unknown): string[] {
  const exports = (typeof loaded === 'object' && loaded !== null ? loaded : {}) as Record<string, unknown>;
  return (['versions', 'probe', 'Extractor'] as const).filter((name) => typeof exports[name] !== 'function');
}
