/**
 * A thread of the wasm backend's pool (wasm-backend.ts): probes an input or
 * decodes one run of it with the FFmpeg WebAssembly core, which blocks the
 * thread while it works.
 *
 * The input arrives as a view of a SharedArrayBuffer, so every thread reads
 * the one copy in place. Decoded frames move back without a copy. A failure
 * comes back as a value ({ error }) rather than a rejection, since an error
 * crossing threads loses its `code`.
 */

import { move, transferableSymbol, valueSymbol } from 'piscina';

import { VsnapError, type VsnapErrorCode } from '../src/errors.js';
import type { DecodeRun } from './decode-runs.js';
import type { WasmProbe } from './probe-output.js';
import { WasmFfmpeg, type DecodedRun } from './wasm-ffmpeg.js';

export type DecodeTask =
  | { kind: 'probe'; input: Uint8Array }
  | { kind: 'decode'; input: Uint8Array; run: DecodeRun; frameBytes: number };

export interface TaskFailure {
  error: { code: VsnapErrorCode; message: string };
}

export type ProbeResult = { probe: WasmProbe } | TaskFailure;
/** The decoded run, its frames moved; or why it failed. */
export type DecodeResult = DecodedRun | TaskFailure;

export default async function work(task: DecodeTask): Promise<ProbeResult | DecodeResult> {
  // A WasmFfmpeg per task, so that no thread holds an input past its task; the compiled core is kept per thread.
  let core: WasmFfmpeg | undefined;
  try {
    core = await WasmFfmpeg.create();
    core.setInput(task.input);
    if (task.kind === 'probe') return { probe: await core.probe() };
    const decoded = await core.decodeRun(task.run, task.frameBytes);
    const transfer = decoded.frames === undefined ? [] : [decoded.frames.buffer];
    return move({ [transferableSymbol]: transfer, [valueSymbol]: decoded }) as unknown as DecodedRun;
  } catch (error) {
    const code: VsnapErrorCode = error instanceof VsnapError ? error.code : 'VSNAP_INTERNAL';
    return { error: { code, message: error instanceof Error ? error.message : String(error) } };
  } finally {
    core?.close();
  }
}
