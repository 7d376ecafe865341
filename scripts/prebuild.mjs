// Makes the prebuilt addon's package, @vsnap/linux-x64 (npm/linux-x64 holds
// its manifest), which vsnap lists as an optional dependency and its loader
// tries first (src/engine/loader.ts):
//
//   npm run prebuilt             build and stage it in build/prebuild/package
//   npm run prebuilt:portable    the same in a Debian 11 chroot, for glibc 2.31
//                                (scripts/prebuild-portable.sh runs this there)
//   npm pack                     (prepack) stage it as `npm run prebuilt` does, or take
//                                the staged package when it is of these sources, and pack
//                                it beside vsnap's own tarball
//
// The addon is built against the static FFmpeg and the static libraries of
// scripts/native-deps.sh (built first where they are not), in its own build
// directory (build/prebuild/addon), and stripped. It must need nothing but
// glibc: the build fails where it needs another shared library, names a
// libstdc++ symbol version, or does not load in Node with the contract
// version this vsnap needs. The package carries the licence texts of what is
// linked in and THIRD-PARTY-NOTICES.md (versions, sources, FFmpeg's configure
// line), written here from what the builds recorded.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeNotices } from './prebuild-notices.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = join(root, 'build');
const addonBuild = join(build, 'prebuild', 'addon');
const staged = join(build, 'prebuild', 'package');
/** Where the portable build stages its package: its chroot sees build/portable/build as build/. */
const stagedPortable = join(build, 'portable', 'build', 'prebuild', 'package');
/** The shared libraries a self-contained addon may need: glibc's. */
const glibcLibraries = ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'ld-linux-x86-64.so.2'];

// vsnap's package is dist/ as much as the addon's is vsnap.node.
if (!existsSync(join(root, 'dist', 'src', 'index.js'))) {
  console.error('prebuilt: dist/ is not built: run `npm run build:ts` first');
  process.exit(1);
}
const { bindingVersion } = await import('../dist/src/engine/binding.js');

const run = (command, args, options = {}) =>
  execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
const say = (text) => console.error(`prebuilt: ${text}`);

/** The sources the addon is made from, hashed: a staged package of the same hash is current. */
function sourceHash() {
  const hash = createHash('sha1');
  const files = (dir) =>
    readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name)))
      .sort();
  const inputs = [
    ...files('native/core'),
    ...files('native/binding'),
    ...files('native/encode'),
    'CMakeLists.txt',
    'package.json',
    'npm/linux-x64/package.json',
    ...['ffmpeg-source.sh', 'ffmpeg-static.sh', 'native-deps.sh', 'prebuild.mjs', 'prebuild-notices.mjs'].map((f) => `scripts/${f}`),
  ];
  for (const file of inputs) hash.update(`${file}\0`).update(readFileSync(join(root, file)));
  return hash.digest('hex');
}

function buildAddon() {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the prebuilt addon is built on linux-x64, not ${process.platform}-${process.arch}`);
  run('bash', ['scripts/ffmpeg-static.sh'], { stdio: 'inherit' });
  say(`building the addon in ${relative(root, addonBuild)}`);
  // `build`, not `compile`: a failed compile would delete the whole directory and configure again.
  const cmakeJs = join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  run(process.execPath, [cmakeJs, 'build', '--out', addonBuild], {
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' },
  });
  return join(addonBuild, 'Release', 'vsnap.node');
}

/** Checks the stripped addon and says what it needs: the newest glibc symbol version it names. */
function checkAddon(file) {
  const needed = [...run('readelf', ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]);
  const foreign = needed.filter((library) => !glibcLibraries.includes(library));
  if (foreign.length > 0) {
    throw new Error(`the addon needs ${foreign.join(', ')} besides glibc; is build/ffmpeg-static built (bash scripts/setup.sh)?`);
  }
  const symbols = run('objdump', ['-T', file]);
  if (/GLIBCXX_|CXXABI_/.test(symbols)) throw new Error('the addon names libstdc++ symbol versions: it is not linked with its own libstdc++');
  const glibc = [...new Set(symbols.match(/GLIBC_[0-9.]+/g) ?? [])]
    .map((v) => v.slice('GLIBC_'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .at(-1);
  // Loaded in a process of its own: a bad binary must not take this one down.
  const loaded = run(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(file)}).versions()))`]);
  const versions = JSON.parse(loaded);
  if (versions.binding !== bindingVersion) throw new Error(`the addon reports binding version ${versions.binding}, this vsnap needs ${bindingVersion}`);
  return { needed, glibc, versions };
}

function stage(addon, hash) {
  const manifest = JSON.parse(readFileSync(join(root, 'npm', 'linux-x64', 'package.json'), 'utf8'));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (manifest.version !== version) throw new Error(`npm/linux-x64/package.json is version ${manifest.version}, vsnap ${version}: they must match`);
  rmSync(staged, { recursive: true, force: true });
  mkdirSync(staged, { recursive: true });
  run('strip', ['--strip-unneeded', '-o', join(staged, 'vsnap.node'), addon]);
  const { needed, glibc, versions } = checkAddon(join(staged, 'vsnap.node'));
  writeFileSync(
    join(staged, 'package.json'),
    `${JSON.stringify({ ...manifest, description: `${manifest.description}, glibc ${glibc} or later`, config: { glibc: `>=${glibc}` } }, null, 2)}\n`,
  );
  cpSync(join(root, 'LICENSE'), join(staged, 'LICENSE'));
  writeNotices({ root, build, staged, glibc, versions });
  writeFileSync(join(staged, '.source-hash'), `${hash}\n`);
  const size = statSync(join(staged, 'vsnap.node')).size;
  say(`staged ${relative(root, staged)}: vsnap.node ${(size / 2 ** 20).toFixed(1)} MiB, needs ${needed.join(' ')}, glibc ${glibc} or later`);
}

function packStaged(directory) {
  const destination = resolve(process.env.INIT_CWD ?? root, process.env.npm_config_pack_destination ?? '.');
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', destination, directory]));
  say(`packed ${join(destination, packed.filename)} (${packed.size} bytes, ${packed.unpackedSize} unpacked)`);
}

const hash = sourceHash();
if (process.argv.includes('--pack')) {
  if (process.env.npm_config_dry_run === 'true') {
    say('a dry run: the prebuilt package is neither built nor packed');
    process.exit(0);
  }
  const stagedHash = (dir) => (existsSync(join(dir, '.source-hash')) ? readFileSync(join(dir, '.source-hash'), 'utf8').trim() : undefined);
  const current = [stagedPortable, staged].find((dir) => stagedHash(dir) === hash);
  if (current === undefined) stage(buildAddon(), hash);
  else say(`the staged package in ${relative(root, current)} is of these sources`);
  if (process.env.npm_command === 'pack') packStaged(current ?? staged);
} else {
  stage(buildAddon(), hash);
}
