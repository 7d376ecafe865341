/**
 * Command-line parsing on top of node:util parseArgs, with vsnap's errors:
 * an unknown flag, a flag missing its value and a value given to a switch
 * all throw VSNAP_INVALID_OPTION naming the flag. parseArgs runs in its
 * lenient mode and these checks are made here from its tokens, so that a
 * value such as `--interval -1` reaches validation instead of being refused
 * as ambiguous.
 */

import { parseArgs } from 'node:util';

import { invalidOption, unknownOption } from '../errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** For string flags: the value's placeholder in help, and what it must be in errors. */
  placeholder?: string;
  expects?: string;
  description: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseCommandLine(args: readonly string[], flags: FlagSpecs): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, spec]) => [
      name,
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short },
    ]),
  );
  const { values, positionals, tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const known = Object.keys(flags).map((name) => `--${name}`);
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = flags[token.name];
    if (spec === undefined) throw unknownOption(token.rawName, known);
    const flag = `--${token.name}`;
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw invalidOption(flag, 'no value', token.value);
    }
    if (spec.type === 'string') {
      const expects = spec.expects ?? 'a value';
      if (token.value === undefined) throw invalidOption(flag, expects, undefined);
      // `--out --json` would otherwise take "--json" as the directory.
      if (!token.inlineValue && token.value.startsWith('--')) throw invalidOption(flag, expects, token.value);
    }
  }
  return { values, positionals };
}

/** The one INPUT positional of a command. */
export function singleInput(positionals: readonly string[]): string {
  const [input, ...rest] = positionals;
  if (input === undefined || input === '') throw invalidOption('INPUT', 'a video file path', input);
  if (rest.length > 0) throw invalidOption('INPUT', 'a single video file path', positionals.join(' '));
  return input;
}
