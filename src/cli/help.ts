/**
 * The help texts, built from the command table so that they cannot drift
 * from the flags the commands really take.
 */

import type { FlagSpec, FlagSpecs } from './args.js';
import type { Command } from './command.js';

export function generalHelp(version: string, commands: readonly Command[]): string {
  const rows: [string, string][] = [
    ...commands.map((command): [string, string] => [command.name, command.summary]),
    ['help [COMMAND]', 'show the help of a command'],
  ];
  return [
    `vsnap ${version}: one image per interval timestamp of a video, with exact frame indices and times`,
    '',
    'Usage: vsnap COMMAND [options]',
    '',
    'Commands:',
    ...table(rows),
    '',
    'Options:',
    ...table([
      ['-h, --help', 'show this help'],
      ['-v, --version', 'print the version'],
    ]),
    '',
    'Run `vsnap help COMMAND` for the options of a command.',
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  return [
    `Usage: vsnap ${command.synopsis}`,
    '',
    command.description,
    '',
    'Options:',
    ...table(flagRows(command.flags)),
    '',
  ].join('\n');
}

function flagRows(flags: FlagSpecs): [string, string][] {
  return Object.entries(flags).map(([name, spec]): [string, string] => [flagLabel(name, spec), spec.description]);
}

function flagLabel(name: string, spec: FlagSpec): string {
  const long = spec.placeholder === undefined ? `--${name}` : `--${name} ${spec.placeholder}`;
  return spec.short === undefined ? `    ${long}` : `-${spec.short}, ${long}`;
}

function table(rows: readonly [string, string][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
