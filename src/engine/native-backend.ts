/**
 * The native backend: the N-API module of binding.ts behind the Backend
 * interface. Its only work is error translation; every error the module
 * throws or rejects with leaves here as a VsnapError with the same code.
 */

import { encodeFailure, type EncodeTask } from '../encode/task.js';
import { fromNative } from '../errors.js';
import type { Backend, BackendInput, Extractor, ExtractorOptions } from './backend.js';
import type {
  NativeBinding,
  NativeDecodeStats,
  NativeExtractor,
  NativeFrame,
  NativeJpegFrame,
  NativeOpenResult,
  NativePlanRequest,
  NativePlanResult,
} from './binding.js';

export function createNativeBackend(binding: NativeBinding): Backend {
  return {
    name: 'native',
    probe: (input: BackendInput) => callAsync(() => binding.probe(input)),
    createExtractor(input: BackendInput, options: ExtractorOptions): Extractor {
      try {
        return new NativeExtractorAdapter(new binding.Extractor(input, options));
      } catch (error) {
        throw fromNative(error);
      }
    },
    async encodeJpeg(task: EncodeTask): Promise<Buffer> {
      try {
        return await binding.encodeJpeg(task.frame, task.width, task.height, task.rotation, task.quality);
      } catch (error) {
        throw encodeFailure(task, error);
      }
    },
  };
}

class NativeExtractorAdapter implements Extractor {
  readonly #native: NativeExtractor;

  constructor(native: NativeExtractor) {
    this.#native = native;
  }

  open(): Promise<NativeOpenResult> {
    return callAsync(() => this.#native.open());
  }

  plan(request: NativePlanRequest): Promise<NativePlanResult> {
    return callAsync(() => this.#native.plan(request));
  }

  next(lane: number, dest: ArrayBuffer): Promise<NativeFrame | null> {
    return callAsync(() => this.#native.next(lane, dest));
  }

  nextJpeg(lane: number, quality: number): Promise<NativeJpegFrame | null> {
    return callAsync(() => this.#native.nextJpeg(lane, quality));
  }

  stats(): NativeDecodeStats {
    try {
      return this.#native.stats();
    } catch (error) {
      throw fromNative(error);
    }
  }

  close(): void {
    try {
      this.#native.close();
    } catch (error) {
      throw fromNative(error);
    }
  }
}

/** Runs a native call whose failure may be a synchronous throw or a rejection. */
async function callAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromNative(error);
  }
}
