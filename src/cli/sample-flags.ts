/**
 * The CLI's flags for the snapshot options, derived from their one
 * definition (option-schema.ts): each option with a `cli` face becomes a
 * string flag whose help is the schema's description and default, and whose
 * text becomes a value by the face's `parse`:
 *
 *   number  "2.5" -> 2.5 (text that is no number stays text, so that the
 *           error shows what was typed)
 *   text    as typed
 *   list    "1.5,7,30" -> [1.5, 7, 30]
 *   grid    "10x10" -> { columns: 10, rows: 10 }
 *
 * Validation is the library's (options.ts), with the CLI's schemas and its
 * spelling of the names (`--width`).
 */

import { defaultOf, expectsOf, sampleOptions, schemaOf, type OptionEntry, type SampleOptionName } from '../option-schema.js';
import type { FlagSpecs, ParsedArgs } from './args.js';

type CliFace = NonNullable<OptionEntry['cli']>;

const withCli = (Object.entries(sampleOptions) as [SampleOptionName, OptionEntry][]).filter(
  (entry): entry is [SampleOptionName, OptionEntry & { cli: CliFace }] => entry[1].cli !== undefined,
);

/** The flags, in the table's order. */
export const sampleFlags: FlagSpecs = Object.fromEntries(
  withCli.map(([name, entry]) => [
    entry.cli.flag,
    { type: 'string', placeholder: entry.cli.placeholder, expects: expectsOf(name, 'cli'), description: helpOf(name) },
  ]),
);

/** The library's key of each flag, for the namer: `--times` names `times`. */
const flagOf = new Map<string, string>(withCli.map(([name, entry]) => [name, `--${entry.cli.flag}`]));

/** How the CLI spells an option in errors. */
export function flagName(key: string): string {
  return flagOf.get(key) ?? `--${key}`;
}

/** The options the flags give, in the library's keys; flags not given are left out. */
export function sampleValues(values: ParsedArgs['values']): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  for (const [name, entry] of withCli) {
    const text = values[entry.cli.flag];
    if (text !== undefined) given[name] = parseFlag(entry.cli.parse, text);
  }
  return given;
}

function parseFlag(parse: CliFace['parse'], text: string | boolean): unknown {
  if (typeof text !== 'string') return text;
  switch (parse) {
    case 'number':
      return numberOrText(text);
    case 'text':
      return text;
    case 'list': {
      const items = text.split(',').map(numberOrText);
      // One item that is no number: the whole text is what was typed wrong.
      return items.every((item) => typeof item === 'number') ? items : text;
    }
    case 'grid': {
      const grid = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(text);
      return grid === null ? text : { columns: Number(grid[1]), rows: Number(grid[2]) };
    }
  }
}

/** A flag's text as a number when it is one, else unchanged. */
export function numberOrText(text: string): number | string {
  if (text.trim() === '') return text;
  const number = Number(text);
  return Number.isNaN(number) ? text : number;
}

function helpOf(name: SampleOptionName): string {
  const description = (schemaOf(name, 'cli') as { description?: string }).description ?? '';
  const fallback = defaultOf(name);
  return fallback === undefined ? description : `${description} (default ${String(fallback)})`;
}
