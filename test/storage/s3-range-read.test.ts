/**
 * Range reads from the object store, end to end: the 5-minute, ~112 MB MP4
 * is an object in an S3-protocol server (s3rver), and a job reads it as the
 * service does (runJob: the store's presigned URL, keyframe mode, 30 s).
 * A TCP proxy in front of the server counts every byte the server sends;
 * under 20% of the object may cross it, and the images must be the ones
 * the engine gives from the local file.
 */

import net from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { snapshot } from '../../src/index.js';
import { S3Store } from '../../src/storage/s3-store.js';
import { runJob } from '../../src/tasks/run-task.js';
import { canMake, fixturePath } from '../helpers/made-file.js';
import { rangeReadVideo } from '../helpers/range-video.js';
import { type S3rver, startS3rver } from '../helpers/s3rver.js';

/** A TCP proxy to `port` that counts the bytes coming back from it. */
async function countingProxy(port: number): Promise<{ port: number; received: () => number; reset: () => void; close: () => Promise<void> }> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    upstream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    reset: () => {
      received = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!(await canMake(rangeReadVideo)))('range reads from the object store', () => {
  let s3: S3rver;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let store: S3Store;
  let file: string;

  beforeAll(async () => {
    file = await fixturePath(rangeReadVideo);
    s3 = await startS3rver(['videos']);
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY });
    proxy = await countingProxy(Number(new URL(s3.endpoint).port));
    store = new S3Store({ endpoint: `http://127.0.0.1:${proxy.port}`, region: 'us-east-1', forcePathStyle: true });
    await store.write('oss://videos/long.mp4', await readFile(file));
  });

  afterAll(async () => {
    await proxy?.close();
    await s3?.stop();
  });

  it('keyframe mode every 30 s fetches under 20% of a 5-minute, 100+ MB object, with the right images', async ({ annotate }) => {
    const size = (await stat(file)).size;
    expect(size).toBeGreaterThanOrEqual(100 * 1024 * 1024);
    proxy.reset();
    const result = await runJob(
      {
        taskId: 'snapshot-20261126000000-00000000000000000000000000000000',
        source: { type: 'oss', url: 'oss://videos/long.mp4', name: 'oss://videos/long.mp4' },
        interval: 30,
        format: 'jpg',
        mode: 'keyframe',
        output: { type: 'base64' },
      },
      store,
    );
    const fetched = proxy.received();
    const measured = `${fetched} of ${size} bytes crossed the proxy (${((100 * fetched) / size).toFixed(1)}%)`;
    expect(fetched / size, measured).toBeLessThan(0.2);
    // The figure docs/deployment.md quotes: the reporter prints it beside the test.
    await annotate(measured);

    const expected = [];
    for await (const image of snapshot(file, { interval: 30, mode: 'keyframe' })) {
      expected.push({ frame_index: image.frameIndex, frame_time: image.frameTime, content: image.data.toString('base64') });
    }
    expect(result.data).toEqual(expected);
  });

  it('fails a job whose object is gone with VSNAP_TASK_INPUT, naming the oss:// path and not the signed URL', async () => {
    const error = await runJob(
      {
        taskId: 'snapshot-20261126000000-00000000000000000000000000000001',
        source: { type: 'oss', url: 'oss://videos/gone.mp4', name: 'oss://videos/gone.mp4' },
        interval: 30,
        format: 'jpg',
        mode: 'keyframe',
        output: { type: 'base64' },
      },
      store,
    ).then(
      () => undefined,
      (failure: unknown) => failure as { code: string; message: string },
    );
    expect(error?.code).toBe('VSNAP_TASK_INPUT');
    expect(error?.message).toMatch(/^oss:\/\/videos\/gone\.mp4: /);
    expect(error?.message).not.toMatch(/X-Amz|127\.0\.0\.1|http:/);
  });
});
