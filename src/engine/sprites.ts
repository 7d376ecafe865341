/**
 * Sprite sheets: the outputs of a run, in order, laid into sheets of
 * columns x rows cells, left to right and top to bottom, each cell an
 * upright image of the run's size; a sheet is encoded once full, the last
 * one when the run ends (as many rows as it fills, as many columns as its
 * first row holds). And the WebVTT file of the sheets: one cue per output,
 * from the target time it answers to the next output's (the last one to
 * where the run's times end; in time order), pointing at its cell as `sheet#xywh=x,y,w,h`
 * (Media Fragments), the convention video.js, Shaka and hls.js read for a
 * thumbnail track.
 */

import type { ImageFormat } from '../options.js';

export interface SpriteCell {
  /** The output's position in the run, 0, 1, ... */
  outputIndex: number;
  frameIndex: number;
  frameTime: number;
  /** Seconds of the target time the output answers. */
  targetTime: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SpriteSheet {
  /** The sheet's position, 0, 1, ... */
  index: number;
  width: number;
  height: number;
  format: ImageFormat;
  data: Buffer;
  cells: SpriteCell[];
}

export type EncodeSheet = (rgb: ArrayBuffer, width: number, height: number) => Promise<Buffer>;

export class SpriteSheets {
  readonly #columns: number;
  readonly #rows: number;
  readonly #cellWidth: number;
  readonly #cellHeight: number;
  readonly #format: ImageFormat;
  readonly #encode: EncodeSheet;
  #pixels: Buffer | undefined;
  #cells: SpriteCell[] = [];
  #index = 0;

  constructor(grid: { columns: number; rows: number }, cellWidth: number, cellHeight: number, format: ImageFormat, encode: EncodeSheet) {
    this.#columns = grid.columns;
    this.#rows = grid.rows;
    this.#cellWidth = cellWidth;
    this.#cellHeight = cellHeight;
    this.#format = format;
    this.#encode = encode;
  }

  /** Lays the next output (`rgb`: upright packed RGB24 of the cell's size) into the sheet; resolves the sheet once it is full. */
  async add(output: Omit<SpriteCell, 'x' | 'y' | 'width' | 'height'>, rgb: Buffer): Promise<SpriteSheet | undefined> {
    const sheetWidth = this.#columns * this.#cellWidth;
    this.#pixels ??= Buffer.alloc(sheetWidth * this.#rows * this.#cellHeight * 3);
    const slot = this.#cells.length;
    const x = (slot % this.#columns) * this.#cellWidth;
    const y = Math.floor(slot / this.#columns) * this.#cellHeight;
    const rowBytes = this.#cellWidth * 3;
    for (let row = 0; row < this.#cellHeight; row++) {
      rgb.copy(this.#pixels, ((y + row) * sheetWidth + x) * 3, row * rowBytes, (row + 1) * rowBytes);
    }
    const { outputIndex, frameIndex, frameTime, targetTime } = output;
    this.#cells.push({ outputIndex, frameIndex, frameTime, targetTime, x, y, width: this.#cellWidth, height: this.#cellHeight });
    return this.#cells.length === this.#columns * this.#rows ? this.#sheet() : undefined;
  }

  /** The last sheet, where outputs are left over; undefined when none are. */
  finish(): Promise<SpriteSheet | undefined> {
    return this.#cells.length === 0 ? Promise.resolve(undefined) : this.#sheet();
  }

  async #sheet(): Promise<SpriteSheet> {
    const cells = this.#cells;
    const fullWidth = this.#columns * this.#cellWidth;
    const width = Math.min(this.#columns, cells.length) * this.#cellWidth;
    const height = Math.ceil(cells.length / this.#columns) * this.#cellHeight;
    // Rows of the full sheet's width, cut to the columns used.
    const used = Buffer.alloc(width * height * 3);
    for (let row = 0; row < height; row++) this.#pixels!.copy(used, row * width * 3, row * fullWidth * 3, (row * fullWidth + width) * 3);
    this.#pixels = undefined;
    this.#cells = [];
    const data = await this.#encode(used.buffer.slice(used.byteOffset, used.byteOffset + used.byteLength), width, height);
    return { index: this.#index++, width, height, format: this.#format, data, cells };
  }
}

/**
 * The WebVTT of a sprite run's cells, each with the name of its sheet
 * (relative to the VTT file, as players resolve it); `end` is where the last
 * cue ends (the window's end). Cues go in the order of their target times,
 * as WebVTT requires (chosen times may come in another order), each until
 * the next one starts; one whose next starts at the same time lasts a
 * millisecond.
 */
export function spriteVtt(cells: readonly { name: string; cell: SpriteCell }[], end: number): string {
  // Array.prototype.sort is stable: equal times keep output order.
  const ordered = [...cells].sort((a, b) => a.cell.targetTime - b.cell.targetTime);
  const cues = ordered.map(({ cell, name }, i) => {
    const next = i + 1 < ordered.length ? ordered[i + 1].cell.targetTime : end;
    const until = next > cell.targetTime ? next : cell.targetTime + 0.001;
    return `${i + 1}\n${timestamp(cell.targetTime)} --> ${timestamp(until)}\n${cellReference(name, cell)}\n`;
  });
  return `WEBVTT\n\n${cues.join('\n')}`;
}

/** `name#xywh=x,y,w,h`: where a cell is, as a thumbnail track points at it. */
export function cellReference(name: string, cell: Pick<SpriteCell, 'x' | 'y' | 'width' | 'height'>): string {
  return `${name}#xywh=${cell.x},${cell.y},${cell.width},${cell.height}`;
}

/** hh:mm:ss.ttt */
function timestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000), 2)}:${pad(Math.floor(ms / 60_000) % 60, 2)}:${pad(Math.floor(ms / 1000) % 60, 2)}.${pad(ms % 1000, 3)}`;
}
