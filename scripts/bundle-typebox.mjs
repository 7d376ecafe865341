// Replaces dist/src/typebox.js (src/typebox.ts as tsc wrote it: a re-export
// of six TypeBox builders and its value checker) with one file that holds
// them and the TypeBox code they need, so that importing vsnap loads one
// module of ~40 KB instead of TypeBox's ~270 (190 ms of start-up; see
// src/typebox.ts). TypeBox is MIT-licensed; its notice heads the file. The
// package stays a dependency: the declaration files name its types. Run by
// `npm run build:ts`, after tsc and before the CLI bundle (which then takes
// the bundled module in).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const target = fileURLToPath(new URL('../dist/src/typebox.js', import.meta.url));
// The package's root (its exports map hides package.json): up from its entry.
let typeboxRoot = dirname(createRequire(import.meta.url).resolve('@sinclair/typebox'));
while (!existsSync(join(typeboxRoot, 'package.json'))) typeboxRoot = dirname(typeboxRoot);
const { version } = JSON.parse(await readFile(join(typeboxRoot, 'package.json'), 'utf8'));
const license = await readFile(join(typeboxRoot, 'license'), 'utf8');

const source = await readFile(target, 'utf8');
if (!source.includes("from '@sinclair/typebox'")) {
  throw new Error(`${target} does not import @sinclair/typebox: was it bundled already, or did tsc not write it?`);
}

await build({
  input: target,
  platform: 'node',
  logLevel: 'warn',
  output: {
    file: target,
    format: 'esm',
    banner: `// Bundled from @sinclair/typebox ${version} by scripts/bundle-typebox.mjs.\n/*\n${license.trim()}\n*/`,
  },
});
