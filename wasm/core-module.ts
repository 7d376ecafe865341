/**
 * Loads the FFmpeg WebAssembly core (@ffmpeg/core 0.12, single-threaded) in
 * Node, without network access. Nothing happens at import: the first
 * `loadCore()` reads the .wasm from node_modules and compiles it (~100 ms),
 * once per thread; each `instantiate()` then makes a fresh instance from that
 * compiled module in about 8 ms.
 *
 * The core is an Emscripten build made for web workers: it reads
 * `self.location` once, while its factory runs, and would fetch the .wasm
 * unless handed the compiled module. Both are supplied here, and `self`
 * exists only for that synchronous call, so no global is left behind.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

import { backendUnavailable } from '../src/errors.js';

/** One log line of the core: its stdout or stderr. */
export interface CoreLogLine {
  type: 'stdout' | 'stderr';
  message: string;
}

/**
 * The part of the core's API vsnap uses. Both runners block the calling
 * thread until FFmpeg exits. `reset()` is left out on purpose: it clears only
 * the exit code, while FFmpeg's own globals outlive a run (see wasm-ffmpeg.ts),
 * so vsnap runs each invocation in a fresh instance instead.
 */
export interface FfmpegCore {
  /** Runs ffmpeg with `-nostdin -y` prepended; gives its exit code. */
  exec(...args: string[]): number;
  /** Runs ffprobe; `-o <path>` sends its output to a file. Its return value carries no exit code. */
  ffprobe(...args: string[]): number;
  setLogger(logger: (line: CoreLogLine) => void): void;
  FS: CoreFilesystem;
}

/** Emscripten's MEMFS, the only filesystem the core has. */
export interface CoreFilesystem {
  /** With canOwn the file keeps `data` itself instead of a copy. */
  writeFile(path: string, data: Uint8Array, options?: { canOwn?: boolean }): void;
  readFile(path: string): Uint8Array;
  analyzePath(path: string): { exists: boolean };
}

// The project's lib (ES2023, no DOM) has no WebAssembly types: the two calls made here, with opaque values.
type CompiledWasm = { readonly compiledWasm: unique symbol };
type WasmInstance = { readonly wasmInstance: unique symbol };
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<CompiledWasm>;
  instantiate(module: CompiledWasm, imports: object): Promise<WasmInstance>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface CoreFactoryOptions {
  instantiateWasm(imports: object, receive: (instance: WasmInstance) => void): object;
}

type CoreFactory = (options: CoreFactoryOptions) => Promise<FfmpegCore>;

interface LoadedModule {
  factory: CoreFactory;
  scriptUrl: string;
  compiled: CompiledWasm;
}

const packageName = '@ffmpeg/core';
const hint = `Reinstall the dependency ${packageName} (npm install)`;

let loaded: Promise<LoadedModule> | undefined;

/** The compiled core, ready to make instances from. */
export interface CoreLoader {
  /** A new, independent instance: its own heap and filesystem, FFmpeg's global state fresh. */
  instantiate(): Promise<FfmpegCore>;
}

/** Loads and compiles the core, once per thread. Rejects with VSNAP_BACKEND_UNAVAILABLE when it cannot be loaded. */
export async function loadCore(): Promise<CoreLoader> {
  loaded ??= loadModule();
  // A failed load is not kept: the next call tries again (the package may have been installed since).
  const module = await loaded.catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return { instantiate: () => instantiate(module) };
}

async function instantiate(module: LoadedModule): Promise<FfmpegCore> {
  // Emscripten's factory has no way to report a failed instantiation, so it is raced against it.
  let instantiationFailed: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    instantiationFailed = reject;
  });
  try {
    return await Promise.race([
      failure,
      withWorkerLocation(module.scriptUrl, () =>
        module.factory({
          instantiateWasm(imports, receive) {
            webAssembly.instantiate(module.compiled, imports).then(receive, instantiationFailed);
            // Emscripten's protocol: an empty object says the instance will arrive through `receive`.
            return {};
          },
        }),
      ),
    ]);
  } catch (error) {
    throw backendUnavailable('The FFmpeg WebAssembly core', [{ candidate: module.scriptUrl, reason: String(error) }], hint);
  }
}

async function loadModule(): Promise<LoadedModule> {
  const require = createRequire(import.meta.url);
  let scriptPath = packageName;
  let wasmPath = `${packageName}/wasm`;
  try {
    scriptPath = require.resolve(packageName);
    wasmPath = require.resolve(`${packageName}/wasm`);
    const factory = require(packageName) as unknown;
    if (typeof factory !== 'function') throw new Error(`${scriptPath} does not export the core's factory function`);
    const compiled = await webAssembly.compile(await readFile(wasmPath));
    return { factory: factory as CoreFactory, scriptUrl: pathToFileURL(scriptPath).href, compiled };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw backendUnavailable('The FFmpeg WebAssembly core', [{ candidate: `${scriptPath} with ${wasmPath}`, reason }], hint);
  }
}

/** Runs `start` with `self.location` defined as in a web worker, restoring `self` before returning. */
function withWorkerLocation<T>(href: string, start: () => T): T {
  const scope = globalThis as { self?: unknown };
  const had = Object.hasOwn(scope, 'self');
  const previous = scope.self;
  scope.self = { location: { href } };
  try {
    return start();
  } finally {
    if (had) scope.self = previous;
    else delete scope.self;
  }
}
