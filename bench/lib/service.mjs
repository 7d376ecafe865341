// `vsnap serve` for the benchmarks, as an operator runs it (bin/vsnap in a
// child process, its own data directory, JSON logs at info level, drained),
// and the few client calls they share.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Starts the service on a free port with these keys ({ key, name, qps }); resolves once it listens. */
export async function startService(repoRoot, dir, keys, config = {}) {
  const keysFile = join(dir, 'keys.json');
  await writeFile(keysFile, JSON.stringify({ keys }), { mode: 0o600 });
  const configFile = join(dir, 'config.json');
  // The task queue limit is raised so that a create load measures accepting, not refusing with 503.
  await writeFile(configFile, JSON.stringify({ keysFile, shutdownGraceMs: 1000, maxQueuedTasks: 1_000_000, ...config }));
  const child = spawn(process.execPath, [join(repoRoot, 'bin/vsnap'), 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--config', configFile], {
    cwd: repoRoot,
    env: { ...process.env, VSNAP_API_KEYS: '', VSNAP_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    let pending = '';
    const onData = (chunk) => {
      pending += chunk;
      const match = /^listening on (http:\/\/\S+)$/m.exec(pending);
      if (match) {
        // Logs are drained, never kept: the service writes them as it would in production.
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(match[1]);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    exited.then((code) => reject(new Error(`vsnap serve exited (${code}) before listening`)));
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** POSTs `body` (a Buffer) and parses the JSON answer: { status, headers, body }. */
export function post(url, headers, body, agent) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode, headers: response.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (error) {
          reject(new Error(`POST ${url}: ${response.statusCode} with a body that is not JSON (${error.message})`));
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Polls task-status until the task succeeds; throws if it ends otherwise. */
export async function waitForTask(api, headers, taskId) {
  for (;;) {
    const body = await (await fetch(`${api('async/task-status')}?task_id=${taskId}`, { headers })).json();
    if (body.result?.status === 'SUCCESS') return;
    if (body.result?.status !== 'PENDING') throw new Error(`task ${taskId}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
