/**
 * The vsnap command line: `main(argv, io)` runs one command and resolves with
 * the exit code; bin/vsnap calls it. Importing this module does nothing.
 *
 * Errors: every failure ends as exactly one line on stderr,
 * `vsnap: <message> (<CODE>)`, and a non-zero exit code: 2 for bad usage or
 * options (VSNAP_INVALID_OPTION, VSNAP_INVALID_CONFIG), 1 for everything else (the input, the
 * backend, the file system). No stack traces.
 *
 * Commands live in src/cli/, one module each, and are listed in `commands`.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { invalidOption, unknownOption, VsnapError } from './errors.js';
import { packageRoot } from './package-root.js';
import { parseCommandLine } from './cli/args.js';
import type { CliIo, Command } from './cli/command.js';
import { extractCommand } from './cli/extract.js';
import { commandHelp, generalHelp } from './cli/help.js';
import { probeCommand } from './cli/probe.js';
import { serveCommand } from './cli/serve.js';
import { workerCommand } from './cli/worker.js';

const commands: readonly Command[] = [extractCommand, probeCommand, serveCommand, workerCommand];

const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    await dispatch(argv, io);
    return 0;
  } catch (error) {
    const { message, code } = describeFailure(error);
    io.stderr.write(`vsnap: ${message} (${code})\n`);
    return code === 'VSNAP_INVALID_OPTION' || code === 'VSNAP_INVALID_CONFIG' ? 2 : 1;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<void> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h') return print(io, generalHelp(version(), commands));
  if (first === '--version' || first === '-v') return print(io, `${version()}\n`);
  if (first === 'help') return help(rest, io);
  if (first?.startsWith('-') === true) throw unknownOption(first, ['--help', '--version']);
  const command = findCommand(first);
  const args = parseCommandLine(rest, command.flags);
  if (args.values.help === true) return print(io, commandHelp(command));
  await command.run(args, io);
}

function help(args: readonly string[], io: CliIo): void {
  if (args.length > 1) throw invalidOption('help', 'at most one command name', args.join(' '));
  const [name] = args;
  print(io, name === undefined ? generalHelp(version(), commands) : commandHelp(findCommand(name)));
}

function findCommand(name: string | undefined): Command {
  const command = commands.find((candidate) => candidate.name === name);
  if (command !== undefined) return command;
  throw invalidOption('command', `one of ${[...commands.map((c) => c.name), 'help'].join(', ')}`, name);
}

function print(io: CliIo, text: string): void {
  io.stdout.write(text);
}

function version(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** The message and code of any error, on one line. */
function describeFailure(error: unknown): { message: string; code: string } {
  if (error instanceof VsnapError) return { message: oneLine(error.message), code: error.code };
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { message: oneLine(error.message), code: typeof code === 'string' ? code : 'VSNAP_INTERNAL' };
  }
  return { message: oneLine(String(error)), code: 'VSNAP_INTERNAL' };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
