/**
 * A one-line progress bar for a terminal: redrawn in place with a carriage
 * return, only when the shown percentage changes, and erased by `stop()` so
 * that the summary line after it starts on a clean line.
 */

import type { OutputStream } from './command.js';

const barWidth = 30;

export class ProgressBar {
  readonly #stream: OutputStream;
  #total = 0;
  #done = 0;
  #shownPercent = -1;

  constructor(stream: OutputStream) {
    this.#stream = stream;
  }

  start(total: number): void {
    this.#total = total;
    this.#draw();
  }

  tick(): void {
    this.#done += 1;
    if (this.#total > 0) this.#draw();
  }

  stop(): void {
    if (this.#shownPercent >= 0) this.#stream.write('\r\x1b[2K');
    this.#shownPercent = -1;
    this.#total = 0;
  }

  #draw(): void {
    const fraction = Math.min(1, this.#done / this.#total);
    const percent = Math.floor(fraction * 100);
    if (percent === this.#shownPercent) return;
    this.#shownPercent = percent;
    const filled = Math.round(fraction * barWidth);
    const bar = '#'.repeat(filled) + '-'.repeat(barWidth - filled);
    this.#stream.write(`\r[${bar}] ${this.#done}/${this.#total} ${percent}%`);
  }
}
