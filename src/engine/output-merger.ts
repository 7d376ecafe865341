/**
 * The hand-off between the decode lanes (producers) and the iterator (one
 * consumer): it puts the lanes' outputs back into plan order and bounds how
 * many frames are alive.
 *
 * A lane acquires a slot before it allocates and decodes a frame; the
 * consumer releases the slot once it has received that output. There are
 * `slots` in all: one reserved for each lane, the rest shared, so that a lane
 * whose outputs come later in the plan can run ahead while another decodes a
 * long segment. Progress is certain: the output the consumer waits for is the
 * next one of some lane (each lane gives its outputs in increasing order),
 * and that lane holds no slot, since all of its earlier outputs were taken,
 * so its reserved slot is free.
 *
 * Every index 0 .. outputCount-1 must come exactly once. A backend that
 * breaks that (an index twice, out of range or out of order within a lane,
 * or missing once every lane is past it) fails the run with VSNAP_INTERNAL
 * instead of leaving the consumer waiting.
 */

import { internal } from '../errors.js';

export type Taken<T> = { done: false; lane: number; item: T } | { done: true };

export class OutputMerger<T> {
  readonly #shared: number;
  readonly #outputCount: number;
  readonly #held: number[];
  readonly #lastIndex: number[];
  readonly #ended: boolean[];
  readonly #wakeLane: ((() => void) | undefined)[];
  readonly #ready = new Map<number, { lane: number; item: T }>();
  #next = 0;
  #failure: { error: unknown } | undefined;
  #closed = false;
  #wakeConsumer: (() => void) | undefined;

  /** `slots` is at least `lanes`. */
  constructor(lanes: number, slots: number, outputCount: number) {
    this.#shared = Math.max(0, slots - lanes);
    this.#outputCount = outputCount;
    this.#held = new Array<number>(lanes).fill(0);
    this.#lastIndex = new Array<number>(lanes).fill(-1);
    this.#ended = new Array<boolean>(lanes).fill(false);
    this.#wakeLane = new Array<(() => void) | undefined>(lanes).fill(undefined);
  }

  /** Resolves true once a slot is held for `lane`, false once closed. */
  async acquire(lane: number): Promise<boolean> {
    while (!this.#closed && !this.#canAcquire(lane)) {
      await new Promise<void>((resolve) => {
        this.#wakeLane[lane] = resolve;
      });
    }
    if (this.#closed) return false;
    this.#held[lane] = (this.#held[lane] ?? 0) + 1;
    return true;
  }

  /** Output `index` from `lane`; its slot stays held until `release(lane)`. */
  put(lane: number, index: number, item: T): void {
    const last = this.#lastIndex[lane] ?? -1;
    if (!Number.isInteger(index) || index <= last || index >= this.#outputCount || this.#ready.has(index)) {
      throw internal(
        `The decode backend gave output ${index} out of order (lane ${lane}, after ${last}, plan of ${this.#outputCount})`,
      );
    }
    this.#lastIndex[lane] = index;
    this.#ready.set(index, { lane, item });
    this.#wakeTheConsumer();
  }

  /** `lane` gave its last output. */
  end(lane: number): void {
    this.#ended[lane] = true;
    this.#wakeTheConsumer();
  }

  /** `lane` failed: `take()` throws `error` as soon as the next output in order is not ready. */
  fail(lane: number, error: unknown): void {
    this.#failure ??= { error };
    this.end(lane);
  }

  /** The next output in plan order; done after the last; throws a lane's failure. */
  async take(): Promise<Taken<T>> {
    for (;;) {
      const entry = this.#ready.get(this.#next);
      if (entry !== undefined) {
        this.#ready.delete(this.#next);
        this.#next += 1;
        return { done: false, ...entry };
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      const passed = this.#ended.every((ended, lane) => ended || (this.#lastIndex[lane] ?? -1) > this.#next);
      if (passed) {
        if (this.#next >= this.#outputCount) return { done: true };
        throw internal(`The decode backend never gave output ${this.#next} of a plan of ${this.#outputCount}`);
      }
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
    }
  }

  /** The consumer received an output of `lane`: its slot is free again. */
  release(lane: number): void {
    this.#held[lane] = (this.#held[lane] ?? 0) - 1;
    // A shared slot may have come free: any waiting lane may take it.
    this.#wakeLane.forEach((_, waiting) => this.#wakeTheLane(waiting));
  }

  /** The consumer left: every waiting and later `acquire()` resolves false. */
  close(): void {
    this.#closed = true;
    this.#wakeLane.forEach((_, lane) => this.#wakeTheLane(lane));
  }

  /** Its reserved slot when free, else a shared one when any is left. */
  #canAcquire(lane: number): boolean {
    if ((this.#held[lane] ?? 0) === 0) return true;
    const borrowed = this.#held.reduce((sum, held) => sum + Math.max(0, held - 1), 0);
    return borrowed < this.#shared;
  }

  #wakeTheLane(lane: number): void {
    const wake = this.#wakeLane[lane];
    this.#wakeLane[lane] = undefined;
    wake?.();
  }

  #wakeTheConsumer(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    wake?.();
  }
}
