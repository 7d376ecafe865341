/**
 * The document's own curl examples (../shared/spec/video-snapshot-api.txt),
 * taken from the document at test time and run by bash exactly as written,
 * with only the host, the API key, the bucket and (for task-status) the
 * task id filled in.
 *
 * As written, the two POST examples lack the `\` that would continue the
 * URL line, so bash runs curl without `--data` (an empty POST) and then
 * fails on a command named `--data`. The test runs them that way and
 * checks that the empty POST gets the documented error envelope naming the
 * body; then it runs them with that one `\` restored and checks the
 * documented success shape. The task-status example works as written.
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { putObject, Service, tempDataDir } from '../helpers/service.js';
import { keysConfig, testKeys } from '../helpers/service-keys.js';

const execFileAsync = promisify(execFile);
const specFile = fileURLToPath(new URL('../../../shared/spec/video-snapshot-api.txt', import.meta.url));
const documentedHost = 'http://***-hangzhou.opensearch.aliyuncs.com';
const documentedTaskId = 'snapshot-20250617102142-1108418170738252-******';
const bucket = 'curl-bucket';

/** Every curl example: from `curl -X` to the blank line that ends it. */
function curlExamples(): { method: string; path: string; script: string }[] {
  const lines = readFileSync(specFile, 'utf8').split('\n');
  const examples = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (!line.startsWith('curl -X ')) continue;
    let end = i;
    while (end < lines.length && (lines[end] ?? '').trim() !== '') end += 1;
    const script = lines.slice(i, end + 1).join('\n');
    const url = /"(http[^"]+)"/.exec(script)?.[1] ?? '';
    examples.push({ method: line.split(' ')[2] ?? '', path: url.slice(url.indexOf('/v3/')), script });
  }
  return examples;
}

let service: Service;
let dataDir: string;
const key = testKeys.main;

beforeAll(async () => {
  dataDir = await tempDataDir('curl');
  await putObject(dataDir, bucket, 'test.mp4', await fixturePath(fixtureNamed('mp4-h264')));
  const { config, env } = await keysConfig(dataDir);
  service = await Service.start({ dataDir, env, config });
});

afterAll(async () => {
  await service?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function filledIn(script: string, taskId = ''): string {
  return script
    .replaceAll(documentedHost, service.url)
    .replaceAll('<Your API-KEY>', key)
    .replaceAll('<BUCKET_NAME>', bucket)
    .replaceAll(documentedTaskId, taskId);
}

async function bash(script: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await execFileAsync('bash', ['-c', `${script}\n`], { encoding: 'utf8' });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

/** The first JSON object curl printed (curl writes no newline after the body). */
function firstJson(stdout: string): Record<string, unknown> {
  const start = stdout.indexOf('{');
  let depth = 0;
  for (let i = start; i < stdout.length; i += 1) {
    if (stdout[i] === '{') depth += 1;
    if (stdout[i] === '}') depth -= 1;
    if (depth === 0) return JSON.parse(stdout.slice(start, i + 1)) as Record<string, unknown>;
  }
  throw new Error(`no JSON in ${JSON.stringify(stdout)}`);
}

describe('the curl examples of the API document', () => {
  const examples = curlExamples();

  it('finds the three documented examples', () => {
    expect(examples.map((e) => `${e.method} ${e.path.replace(/\?.*/, '')}`)).toEqual([
      'POST /v3/openapi/workspaces/default/video-snapshot/ops-video-snapshot-001/async',
      'GET /v3/openapi/workspaces/default/video-snapshot/ops-video-snapshot-001/async/task-status',
      'POST /v3/openapi/workspaces/default/video-snapshot/ops-video-snapshot-001/sync',
    ]);
  });

  it.each(examples.filter((e) => e.method === 'POST'))('$path, as written, sends an empty POST that gets the documented error', async (example) => {
    const run = await bash(filledIn(example.script));
    expect(run.stderr).toContain('--data: command not found');
    const body = firstJson(run.stdout);
    expect(Object.keys(body).sort()).toEqual(['code', 'http_code', 'latency', 'message', 'request_id']);
    expect(body).toMatchObject({ code: 'InvalidParameter', http_code: 400 });
    expect(String(body.message)).toContain('for body');
  });

  it('async, then task-status, give the documented shapes', async () => {
    const [create, status] = examples;
    const repaired = filledIn(create!.script).replace(/(\/async")\n/, '$1 \\\n');
    const created = firstJson((await bash(repaired)).stdout);
    expect(Object.keys(created).sort()).toEqual(['latency', 'request_id', 'result', 'usage']);
    const result = created.result as { task_id: string; status: string };
    expect(result.status).toBe('PENDING');

    let answer: Record<string, unknown> = {};
    for (let tries = 0; tries < 600; tries += 1) {
      answer = firstJson((await bash(filledIn(status!.script, result.task_id))).stdout);
      if ((answer.result as { status: string }).status !== 'PENDING') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const finished = answer.result as { task_id: string; status: string; data: Record<string, unknown>[] };
    expect(finished.status).toBe('SUCCESS');
    expect(finished.task_id).toBe(result.task_id);
    expect(answer.usage).toEqual({ image_count: finished.data.length, image: finished.data.length });
    expect(finished.data[0]).toEqual({
      frame_index: 0,
      path: `oss://${bucket}/result/path/${result.task_id}/snapshot_0.jpg`,
      frame_time: 0,
    });
  });

  it('sync gives the documented shape', async () => {
    const sync = examples[2]!;
    const repaired = filledIn(sync.script).replace(/(\/sync")\n/, '$1 \\\n');
    const answer = firstJson((await bash(repaired)).stdout);
    expect(Object.keys(answer).sort()).toEqual(['latency', 'request_id', 'result', 'usage']);
    const result = answer.result as { task_id: string; status: string; data: { frame_index: number; frame_time: number; path: string }[] };
    expect(result.status).toBe('SUCCESS');
    expect(result.data.length).toBeGreaterThan(1);
    expect(result.data[1]).toMatchObject({ frame_time: 1, path: `oss://${bucket}/result/path/${result.task_id}/snapshot_1.jpg` });
  });
});
