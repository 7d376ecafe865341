/**
 * `vsnap serve [--port N] [--host H] [--data-dir DIR] [--config FILE]`: the
 * video snapshot HTTP service (src/http/server.ts). Resolves once the
 * service has shut down after SIGTERM or SIGINT.
 */

import { invalidOption } from '../errors.js';
import type { ServeFlag } from '../http/config.js';
import type { ParsedArgs } from './args.js';
import { backendFlag, helpFlag, type CliIo, type Command } from './command.js';

const serveFlags: readonly ServeFlag[] = ['port', 'host', 'data-dir', 'config', 'storage', 'queue', 'backend'];

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the video snapshot HTTP service',
  synopsis: 'serve [--port N] [--host H] [--data-dir DIR] [--config FILE] [--storage local|s3] [--queue URL] [--backend auto|native|wasm]',
  description:
    'Serves the documented sync and async video snapshot API. Tasks, results and a generated API key live in the data directory; ' +
    'extraction runs in supervised worker processes. Prints "listening on http://HOST:PORT" when ready; SIGTERM or SIGINT ' +
    'shuts down gracefully (running tasks finish or go back to the queue).',
  flags: {
    port: { type: 'string', placeholder: 'N', expects: 'a port number', description: 'port to listen on (default 8080; 0 picks a free one)' },
    host: { type: 'string', placeholder: 'H', expects: 'a host', description: 'address to listen on (default 127.0.0.1)' },
    'data-dir': { type: 'string', placeholder: 'DIR', expects: 'a directory', description: 'where tasks, results and keys live (default ./data)' },
    config: { type: 'string', placeholder: 'FILE', expects: 'a file', description: 'a JSON configuration file' },
    storage: { type: 'string', placeholder: 'KIND', expects: 'local or s3', description: 'where oss:// paths live: local (default) or s3' },
    queue: { type: 'string', placeholder: 'URL', expects: 'embedded or a redis:// URL', description: 'embedded (default) or redis://HOST:PORT' },
    ...backendFlag,
    ...helpFlag,
  },
  run: runServe,
};

async function runServe({ values, positionals }: ParsedArgs, io: CliIo): Promise<void> {
  if (positionals.length > 0) throw invalidOption('serve', 'no arguments', positionals.join(' '));
  const flags: Partial<Record<ServeFlag, string>> = {};
  for (const flag of serveFlags) {
    const value = values[flag];
    if (typeof value === 'string') flags[flag] = value;
  }
  // Loaded here, not at import: Express, BullMQ, SQLite and the S3 client would slow every other command's start.
  const [{ loadServeConfig }, { startServer }] = await Promise.all([import('../http/config.js'), import('../http/server.js')]);
  const config = loadServeConfig({ flags, env: process.env, cwd: process.cwd() });
  const server = await startServer(config, io.stdout);
  await server.closed;
}
