/**
 * Which https servers the native backend trusts (native/core/HttpClient.cpp,
 * clientContext): a certificate that chains to the trust store and names the
 * host is accepted, and NODE_EXTRA_CA_CERTS adds an authority to the store as
 * it does to Node's (so the wasm backend, which fetches with Node, trusts the
 * same); SSL_CERT_FILE replaces the store. A certificate that names another
 * host is refused. The addon reads its trust store once per process, so each
 * case probes in a child process of its own, through the build (dist/).
 * The untrusted certificate's refusal is in url-input.test.ts.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';

const run = promisify(execFile);
const builtIndex = pathToFileURL(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))).href;

let dir: string;
let authority: string;
let server: Server | undefined;
let port: number;

/** probe() of `url` in a child process with `env` added to its environment: the backend and width, or the error. */
async function probeIn(env: Record<string, string>, url: string, backend: 'native' | 'wasm' = 'native') {
  const script = `
    import(${JSON.stringify(builtIndex)})
      .then((vsnap) => vsnap.probe({ url: process.argv[1] }, { backend: ${JSON.stringify(backend)} }))
      .then((info) => console.log(JSON.stringify({ backend: info.backend, width: info.width })))
      .catch((error) => console.log(JSON.stringify({ code: error.code, message: error.message })));`;
  const base = { ...process.env };
  for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR']) delete base[name];
  const { stdout } = await run(process.execPath, ['-e', script, url], { env: { ...base, ...env } });
  return JSON.parse(stdout) as { backend?: string; width?: number; code?: string; message?: string };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsnap-tls-'));
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  authority = join(dir, 'ca.pem');
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=vsnap test authority', '-keyout', 'ca-key.pem', '-out', 'ca.pem');
  // The server's certificate, signed by that authority, for the name localhost only.
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'key.pem', '-out', 'request.pem');
  await writeFile(join(dir, 'names.ext'), 'subjectAltName=DNS:localhost\n');
  await openssl('x509', '-req', '-in', 'request.pem', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', 'names.ext', '-out', 'cert.pem');
  const video = await readFile(await fixturePath(fixtureNamed('mp4-h264')));
  server = createServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (_, res) => res.end(video));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
  }
  await rm(dir, { recursive: true, force: true });
});

describe('https trust', () => {
  it('accepts a certificate of an authority NODE_EXTRA_CA_CERTS adds, on both backends', async () => {
    const url = `https://localhost:${port}/video.mp4`;
    expect(await probeIn({ NODE_EXTRA_CA_CERTS: authority }, url)).toEqual({ backend: 'native', width: 320 });
    expect(await probeIn({ NODE_EXTRA_CA_CERTS: authority }, url, 'wasm')).toEqual({ backend: 'wasm', width: 320 });
  });

  it('accepts a certificate of the authority SSL_CERT_FILE names', async () => {
    expect(await probeIn({ SSL_CERT_FILE: authority }, `https://localhost:${port}/video.mp4`)).toEqual({ backend: 'native', width: 320 });
  });

  it('refuses a trusted certificate that names another host', async () => {
    const result = await probeIn({ NODE_EXTRA_CA_CERTS: authority }, `https://127.0.0.1:${port}/video.mp4`);
    expect(result.code).toBe('VSNAP_INPUT_NOT_FOUND');
    expect(result.message).toContain('IP address mismatch');
  });

  it('refuses the same certificate without the authority', async () => {
    const result = await probeIn({}, `https://localhost:${port}/video.mp4`);
    expect(result.code).toBe('VSNAP_INPUT_NOT_FOUND');
    expect(result.message).toContain('not trusted');
  });

  it('names an extra authorities file it cannot read', async () => {
    const result = await probeIn({ NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') }, `https://localhost:${port}/video.mp4`);
    expect(result.code).toBe('VSNAP_INPUT_NOT_FOUND');
    expect(result.message).toContain('NODE_EXTRA_CA_CERTS');
  });
});
