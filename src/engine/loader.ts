/**
 * Finds the decode backend. Nothing happens at import.
 *
 * The choice is 'native', 'wasm' or 'auto', given by the caller (the library
 * option `backend`, the CLI's --backend, the service's config) or else by
 * $VSNAP_BACKEND, else 'auto'. 'auto' takes the native module when it loads,
 * else the wasm backend, and then says so once, with the reason, as a process
 * warning (code VSNAP_WASM_FALLBACK). The native module's outcome, a binding
 * or the error, is found on first need and kept for every later call.
 *
 * Native module candidates, in order:
 *   1. $VSNAP_NATIVE_PATH, when set
 *   2. the prebuilt addon: vsnap.node of the package @vsnap/<platform>-<arch>
 *      (only linux-x64, for glibc, so far), an optional dependency that npm
 *      installs where the platform and C library match (scripts/prebuild.mjs
 *      makes it)
 *   3. <package root>/build/Release/vsnap.node, a local build
 *   4. <package root>/build/Debug/vsnap.node
 * The first one that loads, has the shape of binding.ts and reports its
 * contract version (a stale build of an older vsnap does not) wins. When none
 * does, one VSNAP_BACKEND_UNAVAILABLE error lists every candidate with the
 * reason it failed and says how to get the module.
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { backendUnavailable, invalidOption, type LoadAttempt, type VsnapError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { backendChoices, type Backend, type BackendChoice, type BackendName } from './backend.js';
import { bindingVersion, type NativeBinding } from './binding.js';
import { createNativeBackend } from './native-backend.js';
import { createWasmBackend } from '../../wasm/wasm-backend.js';

/** The platforms vsnap publishes a prebuilt package for (npm/ in the repository): Linux with glibc. */
const prebuiltPlatforms: readonly string[] = ['linux-x64'];

const buildHint =
  `Install the prebuilt addon (${prebuiltPlatforms.map((p) => `@vsnap/${p}`).join(', ')}: npm installs it with vsnap ` +
  'unless optional dependencies are omitted), or build the native module in a clone of vsnap with ' +
  '`npm run build:native` (needs cmake, a C++17 compiler and the development libraries of FFmpeg, libjpeg and ' +
  'OpenSSL; `bash scripts/setup.sh` installs them on Debian) and set VSNAP_NATIVE_PATH to its build/Release/vsnap.node';

type Outcome = { ok: true; backend: Backend; binding: NativeBinding; from: string } | { ok: false; error: VsnapError };

/** The backend in use and why it is the one. */
export interface BackendReport {
  name: BackendName;
  reason: string;
}

const backendEnv = 'VSNAP_BACKEND';

let native: Outcome | undefined;
let wasm: Backend | undefined;
let fallbackWarned = false;

export function loadBackend(choice?: BackendChoice): Backend {
  return selectBackend(choice).backend;
}

/** Which backend `loadBackend(choice)` gives, and why; loads it as that does. */
export function reportBackend(choice?: BackendChoice): BackendReport {
  const { backend, reason } = selectBackend(choice);
  return { name: backend.name, reason };
}

/** The choice when the caller makes none: $VSNAP_BACKEND, else 'auto'. */
export function defaultBackendChoice(): BackendChoice {
  const value = process.env[backendEnv];
  if (value === undefined || value === '') return 'auto';
  if ((backendChoices as readonly string[]).includes(value)) return value as BackendChoice;
  throw invalidOption(backendEnv, `one of ${backendChoices.join(', ')}`, value);
}

function selectBackend(choice: BackendChoice = defaultBackendChoice()): { backend: Backend; reason: string } {
  if (choice === 'wasm') return { backend: wasmBackend(), reason: 'chosen (backend: wasm)' };
  native ??= tryLoadNative();
  if (native.ok) {
    return { backend: native.backend, reason: `${choice === 'native' ? 'chosen' : 'loaded'}: ${native.from}` };
  }
  if (choice === 'native') throw native.error;
  const reason = `the native module could not be loaded, so the slower wasm backend is used: ${native.error.message}`;
  if (!fallbackWarned) {
    fallbackWarned = true;
    process.emitWarning(`vsnap: ${reason}`, { code: 'VSNAP_WASM_FALLBACK' });
  }
  return { backend: wasmBackend(), reason };
}

/** The native module, found as 'auto' finds it, or undefined where it does not load; never warns. */
export function nativeModule(): NativeBinding | undefined {
  native ??= tryLoadNative();
  return native.ok ? native.binding : undefined;
}

function wasmBackend(): Backend {
  wasm ??= createWasmBackend();
  return wasm;
}

function tryLoadNative(): Outcome {
  const attempts: LoadAttempt[] = [];
  const loaded = loadNativeBinding(attempts);
  if (loaded !== undefined) return { ok: true, backend: createNativeBackend(loaded.binding), ...loaded };
  return { ok: false, error: backendUnavailable('The vsnap native module', attempts, buildHint) };
}

/** A candidate: a path, or why there is none (a prebuilt package that is not installed). */
type Candidate = { path: string } | LoadAttempt;

function nativeCandidates(require: NodeJS.Require): Candidate[] {
  const root = packageRoot();
  const candidates: Candidate[] = [];
  const fromEnv = process.env.VSNAP_NATIVE_PATH;
  if (fromEnv !== undefined && fromEnv !== '') candidates.push({ path: fromEnv });
  candidates.push(prebuiltCandidate(require));
  candidates.push({ path: join(root, 'build', 'Release', 'vsnap.node') }, { path: join(root, 'build', 'Debug', 'vsnap.node') });
  return candidates;
}

/** vsnap.node of this platform's prebuilt package, which is found as Node finds a dependency. */
function prebuiltCandidate(require: NodeJS.Require): Candidate {
  const platform = `${process.platform}-${process.arch}`;
  const name = `@vsnap/${platform}`;
  if (!prebuiltPlatforms.includes(platform)) {
    return { candidate: name, reason: `no prebuilt addon for ${platform} (vsnap publishes ${prebuiltPlatforms.join(', ')})` };
  }
  try {
    return { path: join(dirname(require.resolve(`${name}/package.json`)), 'vsnap.node') };
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
        ? 'not installed (an optional dependency, for glibc: omitted, or a tarball of vsnap installed without it?)'
        : error instanceof Error
          ? error.message
          : String(error);
    return { candidate: name, reason };
  }
}

function loadNativeBinding(attempts: LoadAttempt[]): { binding: NativeBinding; from: string } | undefined {
  const require = createRequire(import.meta.url);
  for (const found of nativeCandidates(require)) {
    if (!('path' in found)) {
      attempts.push(found);
      continue;
    }
    const candidate = found.path;
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
    return { binding, from: candidate };
  }
  return undefined;
}

function missingExports(loaded: unknown): string[] {
  const exports = (typeof loaded === 'object' && loaded !== null ? loaded : {}) as Record<string, unknown>;
  return (['versions', 'probe', 'Extractor', 'encodeJpeg', 'trimMemory'] as const).filter((name) => typeof exports[name] !== 'function');
}
