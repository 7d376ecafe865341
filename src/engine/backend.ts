/**
 * The internal interface every decode backend implements: native (the
 * N-API module) and wasm (the FFmpeg WebAssembly core, wasm/wasm-backend.ts). A backend turns a video input into metadata and an extractor; it
 * speaks the contract of binding.ts, and every error it throws or rejects
 * with is a VsnapError. loader.ts picks the backend; nothing else knows
 * which one is in use beyond its `name`.
 */

import type {
  NativeBinding,
  NativeDecodeStats,
  NativeFrame,
  NativeInput,
  NativeJpegFrame,
  NativeOpenResult,
  NativePlanRequest,
  NativePlanResult,
  NativeVideoInfo,
} from './binding.js';
import type { EncodeTask } from '../encode/task.js';

export type BackendName = 'native' | 'wasm';

/** Which backend to use: one by name, or 'auto' (native when it loads, else wasm). */
export type BackendChoice = 'auto' | BackendName;

export const backendChoices: readonly BackendChoice[] = ['auto', 'native', 'wasm'];

export type BackendInput = NativeInput;

export type ExtractorOptions = ConstructorParameters<NativeBinding['Extractor']>[1];

/**
 * One pass over one input: open once, plan once, then on each lane
 * (0 .. lanes-1, as plan() says) `next` until it gives null, then close.
 */
export interface Extractor {
  open(): Promise<NativeOpenResult>;
  plan(request: NativePlanRequest): Promise<NativePlanResult>;
  /** Fills `dest` (frameBytes long); it must not be touched until this settles. One call per lane at a time. */
  next(lane: number, dest: ArrayBuffer): Promise<NativeFrame | null>;
  /**
   * Where the backend has its own JPEG encoder: next() and that encoder in
   * one step, no frame handed over (binding.ts). Same rules as next().
   */
  nextJpeg?(lane: number, quality: number): Promise<NativeJpegFrame | null>;
  stats(): NativeDecodeStats;
  /** Cancels work in flight and frees the decoder. Idempotent. */
  close(): void;
}

export interface Backend {
  readonly name: BackendName;
  probe(input: BackendInput): Promise<NativeVideoInfo>;
  createExtractor(input: BackendInput, options: ExtractorOptions): Extractor;
  /**
   * A JPEG encoder of the backend's own, where it has one (native: the
   * addon's libjpeg-turbo); rejects with VSNAP_INTERNAL. Takes the frame as
   * Encoder.encode does.
   */
  encodeJpeg?(task: EncodeTask): Promise<Buffer>;
}
