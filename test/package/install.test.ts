/**
 * vsnap as a user installs it: `npm pack` in the repository (its prepack
 * makes the prebuilt addon's package, scripts/prebuild.mjs), then, in an
 * empty project, `npm install` of both tarballs with install scripts off and
 * no compiler, cmake or make on PATH. The library must then decode on the
 * native backend with the prebuilt addon, `npx vsnap extract` must write
 * images, nothing may have been built, the packages must carry the licences
 * and notices, and importing the library must load none of the service's
 * dependencies. Runs the build (dist/): `npm run build:ts` first. About a
 * minute, and one more where the pack builds the addon because no staged
 * package is of the current sources (npm run prebuilt stages one).
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const minutes = 60_000;

let work: string;
let tarballs: string[];
let app: string;
/** An environment whose PATH has node, npm, npx and sh only: no compiler, cmake, make or pkg-config. */
let bareEnv: NodeJS.ProcessEnv;

async function inApp(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run(command, args, { cwd: app, env: bareEnv, encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
}

async function tarList(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  return stdout.split('\n').filter((line) => line !== '');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vsnap-install-'));
  const packed = join(work, 'packed');
  await mkdir(packed);
  await run('npm', ['pack', '--pack-destination', packed], {
    cwd: root,
    env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' },
    maxBuffer: 64 * 2 ** 20,
  });
  tarballs = (await readdir(packed))
    .filter((name) => /^vsnap-.*\.tgz$/.test(name))
    .sort()
    .map((name) => join(packed, name));

  // npm and npx sit beside node (Debian's /usr/bin, nvm's and the official tarball's bin/); npx runs a bin through sh.
  const bin = join(work, 'bin');
  await mkdir(bin);
  await symlink(process.execPath, join(bin, 'node'));
  for (const tool of ['npm', 'npx']) await symlink(join(dirname(process.execPath), tool), join(bin, tool));
  await symlink('/bin/sh', join(bin, 'sh'));
  bareEnv = { PATH: bin, HOME: process.env.HOME ?? work };

  app = join(work, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module' })}\n`);
  await inApp('npm', ['install', ...tarballs, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund']);
}, 20 * minutes);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('npm install of the packed tarballs, without scripts or compilers', () => {
  it('packs vsnap and its prebuilt addon, with the licences of what the addon links', async () => {
    expect(tarballs.map((t) => t.split('/').at(-1))).toEqual([expect.stringMatching(/^vsnap-\d/), expect.stringMatching(/^vsnap-linux-x64-\d/)]);
    const main = await tarList(tarballs[0]!);
    expect(main).toContain('package/LICENSE');
    expect(main.filter((file) => file.endsWith('.node'))).toEqual([]);
    const prebuilt = await tarList(tarballs[1]!);
    for (const file of ['vsnap.node', 'LICENSE', 'THIRD-PARTY-NOTICES.md', 'licenses/ffmpeg/COPYING.LGPLv2.1', 'licenses/openssl/debian-copyright']) {
      expect(prebuilt).toContain(`package/${file}`);
    }
    const notices = await readFile(join(app, 'node_modules', '@vsnap', 'linux-x64', 'THIRD-PARTY-NOTICES.md'), 'utf8');
    expect(notices).toContain('LGPL-2.1-or-later');
    const configure = /```\n(--prefix=.*)\n```/.exec(notices)?.[1] ?? '';
    expect(configure).toContain('--disable-everything');
    expect(configure).not.toMatch(/--enable-(gpl|nonfree|version3)/);
  });

  it('decodes on the native backend with the prebuilt addon, and built nothing', async () => {
    const video = await fixturePath(fixtureNamed('webm-av1'));
    const script = `
      import { probe, reportBackend } from 'vsnap';
      const info = await probe(${JSON.stringify(video)});
      console.log(JSON.stringify({ backend: info.backend, width: info.width, report: reportBackend() }));`;
    const { stdout, stderr } = await inApp('node', ['--input-type=module', '-e', script]);
    const result = JSON.parse(stdout) as { backend: string; width: number; report: { reason: string } };
    expect(result.backend).toBe('native');
    expect(result.width).toBe(320);
    expect(result.report.reason).toContain(join(app, 'node_modules', '@vsnap', 'linux-x64', 'vsnap.node'));
    expect(stderr).not.toContain('VSNAP_WASM_FALLBACK');
    expect(existsSync(join(app, 'node_modules', 'vsnap', 'build'))).toBe(false);
  });

  it('runs `npx vsnap extract`, which writes the images', async () => {
    const out = join(work, 'snapshots');
    const { stdout } = await inApp('npx', ['vsnap', 'extract', await fixturePath(fixtureNamed('mp4-h264')), '--interval', '1', '--out', out, '--json']);
    const result = JSON.parse(stdout) as { data: { frame_index: number; path: string }[] };
    expect(result.data.map((item) => item.frame_index)).toEqual([0, 30, 60, 90]);
    expect((await readdir(out)).sort()).toEqual(['snapshot_0.jpg', 'snapshot_1.jpg', 'snapshot_2.jpg', 'snapshot_3.jpg']);
  });

  it('says how to get better-sqlite3 when `vsnap serve` starts without its binary (its install script did not run)', async () => {
    // --ignore-scripts left better-sqlite3 without its binary; the embedded task store needs it, Redis does not.
    expect(existsSync(join(app, 'node_modules', 'better-sqlite3', 'build'))).toBe(false);
    // A service that started would not exit: the timeout ends it, and the code is then not 1.
    const serving = run('npx', ['vsnap', 'serve', '--port', '0', '--data-dir', join(work, 'data')], { cwd: app, env: bareEnv, encoding: 'utf8', timeout: minutes });
    const failure = (await serving.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code?: number; stdout: string; stderr: string } | undefined;
    expect(failure?.code).toBe(1);
    expect(`${failure?.stdout}${failure?.stderr}`).toContain('npm rebuild better-sqlite3');
  });

  it('loads none of the service dependencies, and TypeBox only as its bundle, when the library is imported', async () => {
    // ES modules are seen by a resolve hook, CommonJS ones in require.cache.
    const hooks = join(work, 'hooks.mjs');
    await writeFile(
      hooks,
      'let port;\nexport function initialize(data) { port = data.port; }\n' +
        'export async function resolve(specifier, context, next) { const found = await next(specifier, context); port.postMessage(found.url); return found; }\n',
    );
    const script = `
      import { register, createRequire } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const urls = [];
      port1.on('message', (url) => urls.push(url));
      register(${JSON.stringify(`file://${hooks}`)}, { data: { port: port2 }, transferList: [port2] });
      await import('vsnap');
      await new Promise((resolve) => setTimeout(resolve, 200));
      port1.close();
      console.log(JSON.stringify([...urls, ...Object.keys(createRequire(import.meta.url).cache)]));`;
    const { stdout } = await inApp('node', ['--input-type=module', '-e', script]);
    const loaded = JSON.parse(stdout) as string[];
    expect(loaded.some((url) => url.includes('/node_modules/vsnap/'))).toBe(true);
    const service = loaded.filter((url) => /\/node_modules\/(express|bullmq|ioredis|@aws-sdk|better-sqlite3|pino|prom-client)\//.test(url));
    expect(service).toEqual([]);
    // scripts/bundle-typebox.mjs put the parts the options schema uses in dist/src/typebox.js.
    expect(loaded.filter((url) => url.includes('/node_modules/@sinclair/typebox/'))).toEqual([]);
    expect(loaded.some((url) => url.endsWith('/node_modules/vsnap/dist/src/typebox.js'))).toBe(true);
  });
});
