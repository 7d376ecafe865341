/**
 * The backend loader, run in child processes because it keeps its outcome
 * for the life of a process: it takes the first native candidate that works
 * (the prebuilt package before a local build) and, when none does, says why
 * for every one of them in one error (backend native) or falls back to wasm
 * saying why, once (backend auto).
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const builtIndex = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url));
/** The addon of `npm run build:native`, absent where setup built none. */
const localBuild = fileURLToPath(new URL('../../build/Release/vsnap.node', import.meta.url));

async function probeWith(
  env: Record<string, string>,
  input: string,
  index = builtIndex,
): Promise<{ backend?: string; code?: string; message?: string; stderr: string }> {
  const script = `
    import(${JSON.stringify(pathToFileURL(index).href)})
      .then(async (vsnap) => [await vsnap.probe(process.argv[1]), await vsnap.probe(process.argv[1])])
      .then(([info]) => console.log(JSON.stringify({ backend: info.backend })))
      .catch((error) => console.log(JSON.stringify({ code: error.code, message: error.message })));`;
  const { stdout, stderr } = await run(process.execPath, ['-e', script, input], { env: { ...process.env, ...env } });
  return { ...(JSON.parse(stdout) as { backend?: string; code?: string; message?: string }), stderr };
}

/** reportBackend() in a child process, through `index`. */
async function reportWith(env: Record<string, string>, index: string): Promise<{ name: string; reason: string }> {
  const script = `import(${JSON.stringify(pathToFileURL(index).href)}).then((vsnap) => console.log(JSON.stringify(vsnap.reportBackend())));`;
  const { stdout } = await run(process.execPath, ['-e', script], { env: { ...process.env, ...env } });
  return JSON.parse(stdout) as { name: string; reason: string };
}

/** A copy of the package without build/: no native candidate but VSNAP_NATIVE_PATH can load. */
async function withoutBuild<T>(body: (root: string) => Promise<T>): Promise<T> {
  const root = await mkdtemp(join(tmpdir(), 'vsnap-no-build-'));
  try {
    await cp(fileURLToPath(new URL('../../dist', import.meta.url)), join(root, 'dist'), { recursive: true });
    await cp(fileURLToPath(new URL('../../package.json', import.meta.url)), join(root, 'package.json'));
    await symlink(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(root, 'node_modules'));
    return await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const video = fileURLToPath(new URL('../../package.json', import.meta.url));

describe('loadBackend', () => {
  it('skips a VSNAP_NATIVE_PATH that does not exist and loads the built module', async () => {
    const result = await probeWith({ VSNAP_NATIVE_PATH: join(tmpdir(), 'no-such-vsnap.node') }, '/nonexistent.mp4');
    // The backend loaded: the failure is about the input, not the module.
    expect(result.code).toBe('VSNAP_INPUT_NOT_FOUND');
  });

  it('refuses a candidate that is not a .node file, and says so', async () => {
    const impostor = join(tmpdir(), `vsnap-impostor-${process.pid}.js`);
    const marker = `${impostor}.ran`;
    await writeFile(impostor, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    const result = await probeWith({ VSNAP_NATIVE_PATH: impostor }, '/nonexistent.mp4');
    expect(result.code).toBe('VSNAP_INPUT_NOT_FOUND');
    expect(existsSync(marker)).toBe(false);
  });

  it('lists every candidate with its reason when none loads and native is asked for', async () => {
    await withoutBuild(async (root) => {
      const text = join(root, 'text.node');
      await writeFile(text, 'not a shared object\n');
      const result = await probeWith(
        { VSNAP_NATIVE_PATH: text, VSNAP_BACKEND: 'native' },
        '/nonexistent.mp4',
        join(root, 'dist', 'src', 'index.js'),
      );
      expect(result.code).toBe('VSNAP_BACKEND_UNAVAILABLE');
      expect(result.message).toContain(text);
      expect(result.message).toContain('linux-x64');
      expect(result.message).toContain(join(root, 'build', 'Release', 'vsnap.node'));
      expect(result.message).toContain(join(root, 'build', 'Debug', 'vsnap.node'));
      expect(result.message).toContain('no such file');
      expect(result.message).toContain('npm run build:native');
    });
  });

  it.skipIf(!existsSync(localBuild))('takes the prebuilt package before the local build', async () => {
    await withoutBuild(async (root) => {
      await symlink(fileURLToPath(new URL('../../build', import.meta.url)), join(root, 'build'));
      // Node looks for packages in dist/node_modules before the package's own node_modules.
      const prebuilt = join(root, 'dist', 'node_modules', '@vsnap', 'linux-x64');
      await mkdir(prebuilt, { recursive: true });
      const exports = { './vsnap.node': './vsnap.node', './package.json': './package.json' };
      await writeFile(join(prebuilt, 'package.json'), JSON.stringify({ name: '@vsnap/linux-x64', version: '0.0.0', exports }));
      await cp(join(root, 'build', 'Release', 'vsnap.node'), join(prebuilt, 'vsnap.node'));
      const report = await reportWith({ VSNAP_NATIVE_PATH: '' }, join(root, 'dist', 'src', 'index.js'));
      expect(report).toEqual({ name: 'native', reason: `loaded: ${join(prebuilt, 'vsnap.node')}` });
    });
  });

  it('falls back to wasm when no native module loads, and says why once', async () => {
    await withoutBuild(async (root) => {
      const result = await probeWith({ VSNAP_NATIVE_PATH: '' }, video, join(root, 'dist', 'src', 'index.js'));
      // package.json is no video: the wasm backend read it and said so.
      expect(result.code).toBe('VSNAP_UNSUPPORTED_INPUT');
      const warnings = result.stderr.split('\n').filter((line) => line.includes('VSNAP_WASM_FALLBACK'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('wasm backend');
      expect(warnings[0]).toContain(join(root, 'build', 'Release', 'vsnap.node'));
    });
  });

  it('takes the backend $VSNAP_BACKEND names, and refuses an unknown one by name', async () => {
    expect(await probeWith({ VSNAP_BACKEND: 'wasm' }, '/nonexistent.mp4')).toMatchObject({ code: 'VSNAP_INPUT_NOT_FOUND' });
    const refused = await probeWith({ VSNAP_BACKEND: 'gpu' }, '/nonexistent.mp4');
    expect(refused).toMatchObject({ code: 'VSNAP_INVALID_OPTION' });
    expect(refused.message).toContain('VSNAP_BACKEND');
  });
});
