/**
 * The tables of docs/configuration.md, rendered from the code that reads the
 * settings: the service's from `serveSettings` (src/http/config-settings.ts,
 * the table `vsnap serve` and `vsnap worker` parse their flags, variables and
 * config file with), the limits from `defaultLimits` and `limitEnv`
 * (src/limits.ts), the worker nodes' timings from src/tasks/worker-timings.ts.
 * The variables read outside those tables (the engine's, the setup's) are
 * listed here, and `variablesReadByCode` finds every variable the code
 * reads, so that configuration.test.ts fails when the two lists differ.
 */

import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { backendChoices } from '../../src/engine/backend.js';
import { serveSettings } from '../../src/http/config-settings.js';
import { defaultLimits, limitEnv, type Limits } from '../../src/limits.js';
import { packageRoot } from '../../src/package-root.js';
import { defaultLockDurationMs, defaultStalledIntervalMs } from '../../src/tasks/worker-timings.js';

export const configDocFile = 'docs/configuration.md';

export const configMarks = {
  begin: '<!-- config:begin (generated from the code by npm run docs:config; edit test/docs/configuration-doc.ts instead) -->',
  end: '<!-- config:end -->',
};

/** A variable read outside the settings table, and who reads it. */
interface Variable {
  name: string;
  default: string;
  description: string;
  /** The library option that takes precedence over it, if any. */
  option?: string;
  /** Read by Node itself rather than by vsnap's code. */
  readByNode?: true;
}

const limitDescriptions: Record<keyof Limits, string> = {
  maxDuration: 'seconds from the first frame to the end of the last a run may decode',
  maxPixels: 'width × height a frame may have',
  maxTargets: 'targets (duration ÷ interval) a run may plan',
};

/** Every process that uses the library: the CLI, the service's workers, a program of yours. */
const engineVariables: readonly Variable[] = [
  {
    name: 'VSNAP_BACKEND',
    option: 'backend',
    default: 'auto',
    description: `the decode backend where the caller names none, one of ${backendChoices.join(', ')}; auto takes native when it loads, else wasm`,
  },
  {
    name: 'VSNAP_NATIVE_PATH',
    default: 'none',
    description: 'a vsnap.node file to try before the prebuilt package (@vsnap/linux-x64), build/Release/vsnap.node and build/Debug/vsnap.node',
  },
  ...(Object.keys(defaultLimits) as (keyof Limits)[]).map((key) => ({
    name: limitEnv[key],
    option: `limits.${key}`,
    default: String(defaultLimits[key]),
    description: limitDescriptions[key],
  })),
  {
    name: 'VSNAP_FFMPEG_LOG_LEVEL',
    default: 'quiet',
    description: "FFmpeg's log level on stderr, as a number (16 errors, 24 warnings, 32 info), read when the addon loads",
  },
  {
    name: 'TMPDIR',
    default: '/tmp',
    description: 'where a URL input keeps what it fetched, in an unlinked file that goes with the extraction, so that each byte is fetched once',
  },
  {
    name: 'NODE_EXTRA_CA_CERTS',
    default: 'none',
    description:
      "a PEM file of certificate authorities that https inputs trust besides the system's: Node reads it at start for its own TLS (the wasm backend's downloads), the addon when it first opens an https URL",
  },
  {
    name: 'SSL_CERT_FILE',
    default: 'none',
    description:
      "a PEM file of the certificate authorities the addon trusts for https inputs instead of the system's bundle (/etc/ssl/certs/ca-certificates.crt or the distribution's equivalent)",
  },
  {
    name: 'SSL_CERT_DIR',
    default: 'none',
    description: "a directory of hashed certificates (openssl rehash) the addon trusts instead of the system's bundle; with SSL_CERT_FILE, both",
  },
  {
    name: 'UV_THREADPOOL_SIZE',
    default: '4',
    description: "Node's thread pool, on which the decode lanes run (one lane per core): raise it to the number of cores on machines with more than 4",
    readByNode: true,
  },
];

/** `vsnap worker` only: how soon a task whose node died is taken over. */
const workerVariables: readonly Variable[] = [
  {
    name: 'VSNAP_WORKER_LOCK_MS',
    default: String(defaultLockDurationMs),
    description: "milliseconds a node's lock on a running task lasts unless renewed",
  },
  {
    name: 'VSNAP_WORKER_STALLED_INTERVAL_MS',
    default: String(defaultStalledIntervalMs),
    description: 'how often, in milliseconds, nodes look for tasks whose lock expired',
  },
];

/** scripts/setup.sh. */
const setupVariables: readonly Variable[] = [
  {
    name: 'VSNAP_SETUP_NATIVE',
    default: '1',
    description: '0 skips the native build on purpose (and removes an earlier one): vsnap then decodes with its wasm backend',
  },
  {
    name: 'VSNAP_FFMPEG',
    default: 'static',
    description: "system links Debian's shared FFmpeg libraries instead of the static build",
  },
];

/**
 * Variables the code reads that are not settings: the supervisor hands its
 * worker processes their store's configuration in this one.
 */
export const internalVariables: readonly string[] = ['VSNAP_WORKER_STORE'];

/** The Markdown between configMarks. */
export function renderConfigTables(): string {
  const lines = [
    '### `vsnap serve` and `vsnap worker`',
    '',
    '| setting | flag | variable | file key | default | meaning |',
    '|---|---|---|---|---|---|',
    ...serveSettings.map((s) => row([s.name, code(s.flag), code(s.env), code(s.fileKey), value(s.default), s.description])),
    '',
    '### Worker nodes',
    '',
    'Read by `vsnap worker` from its environment only, as they are for tests and for operators who know why they change them.',
    '',
    ...variableTable(workerVariables, false),
    '',
    '### The engine',
    '',
    'Read in every process that uses the library: the command line, the service\'s worker processes, a program of yours. ' +
      'A library option, where there is one, takes precedence; the service sets the limits from its own settings above.',
    '',
    ...variableTable(engineVariables, true),
    '',
    '### Setup',
    '',
    'Read by `scripts/setup.sh`.',
    '',
    ...variableTable(setupVariables, false),
  ];
  return `${lines.join('\n')}\n`;
}

/** Every variable the tables name. */
export function documentedVariables(): Set<string> {
  const names = new Set<string>();
  for (const setting of serveSettings) {
    for (const name of (setting.env ?? '').matchAll(/[A-Z][A-Z0-9_]+/g)) names.add(name[0]);
  }
  for (const variable of [...engineVariables, ...workerVariables, ...setupVariables]) names.add(variable.name);
  return names;
}

/** The variables of the hand-kept lists, which vsnap's own code must be seen reading (the limits' come from `limitEnv`). */
export function variablesVsnapReads(): string[] {
  const limits: readonly string[] = Object.values(limitEnv);
  return [...engineVariables, ...workerVariables, ...setupVariables]
    .filter((v) => v.readByNode !== true && !limits.includes(v.name))
    .map((v) => v.name);
}

/**
 * Every environment variable the code is seen reading, with the file that
 * reads it: `process.env.NAME`, `process.env['NAME']`, a constant named
 * `…Env` holding the name, `timingFromEnv('NAME', …)` in TypeScript;
 * `getenv("NAME")` in the addon; `$NAME` and `${NAME…}` of VSNAP_ variables
 * in the setup script. The service's variables are read through its
 * settings table and the limits' through `limitEnv`, which the tables
 * render, so those are covered without being seen here.
 */
export async function variablesReadByCode(): Promise<Map<string, string>> {
  const root = packageRoot();
  const found = new Map<string, string>();
  const scan = async (files: string[], patterns: RegExp[]): Promise<void> => {
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const pattern of patterns) {
        for (const match of text.matchAll(pattern)) found.set(match[1] ?? '', relative(root, file));
      }
    }
  };
  await scan(
    [...(await filesUnder(join(root, 'src'), '.ts')), ...(await filesUnder(join(root, 'wasm'), '.ts'))],
    [/process\.env\.([A-Z][A-Z0-9_]*)/g, /process\.env\[\s*'([A-Z][A-Z0-9_]*)'\s*\]/g, /\w+Env = '([A-Z][A-Z0-9_]*)'/g, /timingFromEnv\('([A-Z][A-Z0-9_]*)'/g],
  );
  const native = await Promise.all(['core', 'binding', 'encode'].map((dir) => filesUnder(join(root, 'native', dir), '')));
  await scan(native.flat(), [/getenv\("([A-Z][A-Z0-9_]*)"\)/g]);
  await scan([join(root, 'scripts', 'setup.sh')], [/\$\{?(VSNAP_[A-Z0-9_]+)/g]);
  return found;
}

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function variableTable(variables: readonly Variable[], withOption: boolean): string[] {
  return withOption
    ? [
        '| variable | library option | default | meaning |',
        '|---|---|---|---|',
        ...variables.map((v) => row([code(v.name), code(v.option), value(v.default), v.description])),
      ]
    : ['| variable | default | meaning |', '|---|---|---|', ...variables.map((v) => row([code(v.name), value(v.default), v.description]))];
}

function row(cells: readonly string[]): string {
  return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
}

function code(text: string | undefined): string {
  return text === undefined ? '' : text.split(' (or ').map((part) => `\`${part.replace(/\)$/, '')}\``).join(' or ');
}

/** A default that is a literal value is code; one that is a phrase ("CPU cores", "none") is text. */
function value(text: string): string {
  return /^[\w./:-]+$/.test(text) && text !== 'none' ? `\`${text}\`` : text;
}
