// Bundles the command line (dist/src/cli.js and the modules it imports, as
// tsc wrote them) into dist/vsnap-cli.cjs and its chunks, which bin/vsnap
// runs: `vsnap extract` then loads 7 of vsnap's modules instead of about 40,
// and the modules of `serve` and `worker` stay in chunks of their own,
// loaded by those commands only. The bundle is CommonJS: Node loads it
// synchronously, without the ES module loader's resolution and linking; the
// library (dist/src/index.js) stays an ES module. Packages stay external:
// they load from node_modules as they would from dist/ (every one the
// command line imports has a CommonJS entry). packageRoot() and the
// worker-file lookups find the package root and dist/ from wherever the
// bundle sits. Run by `npm run build:ts`, after tsc.
import { readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const prefix = 'vsnap-cli';

// Chunk names carry a hash: the previous build's would stay behind.
for (const name of await readdir(dist)) {
  if (name.startsWith(prefix) && (name.endsWith('.js') || name.endsWith('.cjs'))) await rm(`${dist}${name}`);
}

await build({
  input: { [prefix]: `${dist}src/cli.js` },
  platform: 'node',
  // Bare specifiers (packages, node: built-ins) stay imports; only our modules are joined.
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  logLevel: 'warn',
  output: {
    dir: dist,
    format: 'cjs',
    entryFileNames: '[name].cjs',
    chunkFileNames: `${prefix}-[name]-[hash].cjs`,
  },
});
