/**
 * The limit on unfinished tasks per key, through the HTTP API of a whole
 * deployment (embedded, and scaled out on Redis with a worker node): a key
 * at its limit gets 429 Throttling with Retry-After for a new async task
 * and for a sync call, before anything is accepted; other keys are not
 * held back; once its tasks finish the key is admitted again. The limit is
 * the `maxTasksPerKey` setting, or a key's own `maxTasks` in the keys file.
 *
 * One worker runs the tasks, and a long task takes seconds (5 minutes of
 * 720p at 1 s intervals to PNG), so a task is unfinished for far longer
 * than the requests that test the limit take.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Deployment, deploymentModes, startDeployment } from '../helpers/deployment.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { rangeReadVideo } from '../helpers/range-video.js';
import type { ApiResponse, Service } from '../helpers/service.js';
import { testKeys } from '../helpers/service-keys.js';

describe.each(deploymentModes.filter((mode) => mode !== 's3'))('a %s deployment with maxTasksPerKey 2', (mode) => {
  let deployment: Deployment;
  let service: Service;
  let longTask: object;
  let shortTask: object;

  beforeAll(async () => {
    deployment = await startDeployment(mode, { label: 'task-limit', buckets: ['bucket'], config: { maxTasksPerKey: 2, workers: 1 } });
    service = deployment.service;
    const long = await deployment.putObject('bucket', 'long.mp4', await fixturePath(rangeReadVideo));
    const short = await deployment.putObject('bucket', 'short.mp4', await fixturePath(fixtureNamed('mp4-bframes')));
    longTask = { input: { oss: long }, parameters: { interval: 1, format: 'png' }, output: { oss: 'oss://bucket/long' } };
    shortTask = { input: { oss: short }, output: { oss: 'oss://bucket/short' } };
  });

  afterAll(() => deployment?.stop());

  const submit = (key: string, body: object): Promise<ApiResponse> => service.request('POST', service.apiPath('async'), { key, body });
  const sync = (key: string, body: object): Promise<ApiResponse> =>
    service.request('POST', service.apiPath('sync'), { key, body: { ...body, output: { type: 'base64' } } });
  const taskIdOf = (response: ApiResponse): string => (response.body.result as { task_id: string }).task_id;

  async function succeeded(created: ApiResponse, key: string): Promise<void> {
    expect(created.status, created.text).toBe(200);
    const done = await service.waitForTask(taskIdOf(created), key);
    expect((done.body.result as { status: string }).status, done.text).toBe('SUCCESS');
  }

  function expectThrottled(response: ApiResponse, limit: number, owner: string): void {
    expect(response.status, response.text).toBe(429);
    expect(response.body.code).toBe('Throttling');
    expect(response.body.http_code).toBe(429);
    expect(response.body.message).toContain(`The key ${owner} already has ${limit} unfinished task`);
    expect(response.headers.get('retry-after')).toBe('1');
  }

  it('refuses a third async task and a sync call of a key with two unfinished, and admits it again once they finish', async () => {
    const first = await submit(testKeys.main, longTask);
    const second = await submit(testKeys.main, longTask);
    expect([first.status, second.status], first.text + second.text).toEqual([200, 200]);

    expectThrottled(await submit(testKeys.main, shortTask), 2, 'main');
    expectThrottled(await sync(testKeys.main, shortTask), 2, 'main');
    // Another key is not held back by this one's tasks.
    const other = await submit(testKeys.single, shortTask);
    expect(other.status, other.text).toBe(200);

    await succeeded(first, testKeys.main);
    await succeeded(second, testKeys.main);
    await succeeded(await submit(testKeys.main, shortTask), testKeys.main);
    await succeeded(other, testKeys.single);
  });

  it('holds a key to its own maxTasks from the keys file, and counts a sync call while it waits and runs', async () => {
    const created = await submit(testKeys.single, longTask);
    expect(created.status, created.text).toBe(200);
    expectThrottled(await submit(testKeys.single, shortTask), 1, 'single');
    expectThrottled(await sync(testKeys.single, shortTask), 1, 'single');
    await succeeded(created, testKeys.single);

    // The one worker is busy with another key's long task for seconds; the
    // sync call waits for it, holding the key's one place all the while.
    const busy = await submit(testKeys.main, longTask);
    expect(busy.status, busy.text).toBe(200);
    const waiting = sync(testKeys.single, shortTask);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expectThrottled(await submit(testKeys.single, shortTask), 1, 'single');
    const answered = await waiting;
    expect(answered.status, answered.text).toBe(200);
    await succeeded(await submit(testKeys.single, shortTask), testKeys.single);
    await succeeded(busy, testKeys.main);
  });
});
