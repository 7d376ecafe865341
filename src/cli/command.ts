/**
 * What a vsnap subcommand is: its usage, its flags and how it runs. The CLI
 * entry (cli.ts) holds the table of commands; adding one (serve, worker) is
 * one more module exporting a Command and one more row in that table.
 */

import type { FlagSpecs, ParsedArgs } from './args.js';

/** Where a command writes; process.stdout and process.stderr in real use. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
}

export interface Command {
  name: string;
  /** One line for the command list of `vsnap --help`. */
  summary: string;
  /** The synopsis after "vsnap ", e.g. "probe INPUT [--json]". */
  synopsis: string;
  /** Paragraphs shown by `vsnap help <name>` between the usage and the options. */
  description: string;
  flags: FlagSpecs;
  run(args: ParsedArgs, io: CliIo): Promise<void>;
}

export const helpFlag: FlagSpecs = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const backendFlag: FlagSpecs = {
  backend: {
    type: 'string',
    placeholder: 'auto|native|wasm',
    expects: 'one of auto, native, wasm',
    description: 'decode backend (default $VSNAP_BACKEND, else auto: native when it loads, else wasm)',
  },
};
