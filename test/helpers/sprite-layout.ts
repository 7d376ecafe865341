/**
 * Where a sprite run's outputs must go, as the issue states it: in order,
 * into sheets of columns x rows cells, left to right and top to bottom; a
 * sheet holding fewer is as wide as its first row and as high as the rows
 * it fills; cells are 160 wide unless a size is given.
 */

import type { SizeSpec } from './size-oracle.js';

export interface Grid {
  columns: number;
  rows: number;
}

/** The default cell: 160 wide, the height keeping the aspect ratio. */
export function cellSpec(size: SizeSpec): SizeSpec {
  return size.width === undefined && size.height === undefined ? { width: 160 } : size;
}

/** Where output `i` goes: its sheet, and its cell in it. */
export function cellOf(i: number, grid: Grid, cell: { width: number; height: number }) {
  const perSheet = grid.columns * grid.rows;
  const slot = i % perSheet;
  return { sheet: Math.floor(i / perSheet), x: (slot % grid.columns) * cell.width, y: Math.floor(slot / grid.columns) * cell.height, ...cell };
}

/** The size of a sheet holding `n` cells. */
export function sheetSize(n: number, grid: Grid, cell: { width: number; height: number }): { width: number; height: number } {
  return { width: Math.min(grid.columns, n) * cell.width, height: Math.ceil(n / grid.columns) * cell.height };
}
