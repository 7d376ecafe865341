/**
 * piscina, loaded on first use through require(): its CommonJS build loads
 * in about half the time of its ES module wrapper, and a process that never
 * starts a pool (`vsnap extract` encodes inline) never loads it at all.
 */

import { createRequire } from 'node:module';

import type { Piscina } from 'piscina';

let piscina: typeof Piscina | undefined;

export function loadPiscina(): typeof Piscina {
  piscina ??= createRequire(import.meta.url)('piscina') as typeof Piscina;
  return piscina;
}
