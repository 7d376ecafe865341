/**
 * runJob in this process, against the engine called directly: every source
 * kind, both output kinds and both modes give the engine's frames and
 * images; inputs the engine cannot read fail as VSNAP_TASK_INPUT in the
 * caller's words, with no server path in the message.
 */

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeEach, afterEach, describe, expect, it } from 'vitest';

import { shutdown, type SamplingMode } from '../../src/index.js';
import { LocalStore } from '../../src/storage/local-store.js';
import { TaskError } from '../../src/tasks/errors.js';
import type { Job, JobOutput, JobSource } from '../../src/tasks/job.js';
import { runJob } from '../../src/tasks/run-task.js';
import { audioOnlyFiles, faststartMp4, truncatedBytes } from '../helpers/bad-inputs.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixtureDir, fixturePath } from '../helpers/made-file.js';
import { collect, failureOf } from '../helpers/snapshot-run.js';

afterAll(shutdown);

// Reordered frames and a keyframe every 1.5 s, so exact and keyframe modes pick different frames.
const video = fixtureNamed('mp4-bframes');
const bucket = 'oss://videos';
const outputPrefix = 'oss://results/runs';

let root: string;
let dataDir: string;
let store: LocalStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'vsnap-run-task-'));
  dataDir = path.join(root, 'data');
  store = new LocalStore(dataDir);
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

type SourceKind = JobSource['type'];

/** The fixture as a source of the given kind; oss and file sources are copies under the temp dir, as the service has them. */
async function sourceOf(kind: SourceKind, bytes: Buffer): Promise<JobSource> {
  switch (kind) {
    case 'file': {
      const spooled = path.join(root, 'spool', 'upload.bin');
      await fs.mkdir(path.dirname(spooled), { recursive: true });
      await fs.writeFile(spooled, bytes);
      return { type: 'file', path: spooled, name: 'input.content' };
    }
    case 'bytes':
      return { type: 'bytes', data: bytes, name: 'input.content' };
    case 'oss': {
      const url = `${bucket}/in/clip one.mp4`;
      await store.write(url, bytes);
      return { type: 'oss', url, name: url };
    }
  }
}

function job(taskId: string, source: JobSource, output: JobOutput, mode: SamplingMode = 'exact'): Job {
  return { taskId, source, interval: 1, format: mode === 'exact' ? 'jpg' : 'png', mode, output };
}

const cases = (['file', 'bytes', 'oss'] as const).flatMap((source) =>
  (['oss', 'base64'] as const).flatMap((output) =>
    (['exact', 'keyframe'] as const).map((mode) => ({ source, output, mode })),
  ),
);

describe('runJob gives the engine’s snapshots', () => {
  it.each(cases)('$source source, $output output, $mode mode', async ({ source, output, mode }) => {
    const bytes = await fs.readFile(await fixturePath(video));
    const format = mode === 'exact' ? 'jpg' : 'png';
    const engine = await collect(bytes, { interval: 1, format, mode });
    const jobOutput: JobOutput = output === 'oss' ? { type: 'oss', prefix: outputPrefix } : { type: 'base64' };
    const result = await runJob(job('task-1', await sourceOf(source, bytes), jobOutput, mode), store);

    expect(result.data.map(({ frame_index, frame_time }) => ({ frame_index, frame_time }))).toEqual(
      engine.outputs.map((o) => ({ frame_index: o.frameIndex, frame_time: o.frameTime })),
    );
    expect(result.framesDecoded).toBe(engine.stats.framesDecoded);
    expect(result.decodeMs).toBeGreaterThanOrEqual(0);

    for (const [k, item] of result.data.entries()) {
      let image: Buffer;
      if (output === 'oss') {
        expect(item.path).toBe(`${outputPrefix}/task-1/snapshot_${k}.${format}`);
        expect(item.content).toBeUndefined();
        image = await fs.readFile(path.join(dataDir, 'oss', 'results', 'runs', 'task-1', `snapshot_${k}.${format}`));
      } else {
        expect(item.path).toBeUndefined();
        image = Buffer.from(item.content as string, 'base64');
      }
      expect(image.equals(engine.outputs[k].data)).toBe(true);
      const meta = await sharp(image).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: format === 'jpg' ? 'jpeg' : 'png',
        width: 320,
        height: 240,
      });
    }
  });

  it('writes under the prefix as given, a bucket root too, and reports URL-encoded paths', async () => {
    const bytes = await fs.readFile(await fixturePath(video));
    const spaced = await runJob(job('task 2', await sourceOf('bytes', bytes), { type: 'oss', prefix: 'oss://results/my out/' }), store);
    expect(spaced.data[0].path).toBe('oss://results/my%20out/task%202/snapshot_0.jpg');
    expect(await store.stat(spaced.data[0].path as string)).toBeDefined();
    const atRoot = await runJob(job('task-3', await sourceOf('bytes', bytes), { type: 'oss', prefix: 'oss://results' }), store);
    expect(atRoot.data.map((item) => item.path)).toEqual(await store.list('oss://results/task-3'));
  });

  it('is idempotent: a second run writes the same images to the same paths', async () => {
    const source = await sourceOf('oss', await fs.readFile(await fixturePath(video)));
    const first = await runJob(job('task-1', source, { type: 'oss', prefix: outputPrefix }), store);
    const listed = await store.list(`${outputPrefix}/task-1`);
    const images = await Promise.all(listed.map((url) => store.readFile(url)));
    const second = await runJob(job('task-1', source, { type: 'oss', prefix: outputPrefix }), store);
    expect(second.data).toEqual(first.data);
    expect(await store.list(`${outputPrefix}/task-1`)).toEqual(listed);
    expect(await Promise.all(listed.map((url) => store.readFile(url)))).toEqual(images);
  });
});

interface BadJob {
  name: string;
  source: () => Promise<JobSource>;
  /** The start of the message: the caller's name for the input, or for the output. */
  lead: string;
  /** A fragment saying why. */
  why: RegExp;
  output?: JobOutput;
}

const audio = audioOnlyFiles[0];
const moovAtEnd = fixtureNamed('mp4-h264');

const badJobs: BadJob[] = [
  {
    name: 'a missing oss object',
    source: async () => ({ type: 'oss', url: `${bucket}/none.mp4`, name: `${bucket}/none.mp4` }),
    lead: `${bucket}/none.mp4: `,
    why: /No object/,
  },
  {
    name: 'an oss URL that leaves its bucket',
    source: async () => ({ type: 'oss', url: `${bucket}/a/%2e%2e/%2e%2e/x.mp4`, name: `${bucket}/a/%2e%2e/%2e%2e/x.mp4` }),
    lead: `${bucket}/a/%2e%2e/%2e%2e/x.mp4: `,
    why: /Invalid storage path/,
  },
  {
    name: 'an audio-only oss object (opened in the data directory)',
    source: async () => sourceOf('oss', await fs.readFile(await fixturePath(audio))),
    lead: `${bucket}/in/clip one.mp4: `,
    why: /no video stream/,
  },
  {
    name: 'an MP4 oss object cut before its index (opened in the data directory)',
    source: async () => sourceOf('oss', await truncatedBytes(moovAtEnd, 0.5)),
    lead: `${bucket}/in/clip one.mp4: `,
    why: /truncated or corrupt/,
  },
  {
    name: 'a spooled upload cut mid-stream (fails while decoding)',
    source: async () => sourceOf('file', await truncatedBytes(faststartMp4, 0.5)),
    lead: 'input.content: ',
    why: /truncated|corrupt/,
  },
  {
    name: 'a spooled upload that is text',
    source: async () => sourceOf('file', Buffer.from('This is not a video.\n'.repeat(50))),
    lead: 'input.content: ',
    why: /not a video container/,
  },
  {
    name: 'audio-only bytes',
    source: async () => sourceOf('bytes', await fs.readFile(await fixturePath(audio))),
    lead: 'input.content: ',
    why: /no video stream/,
  },
  {
    name: 'empty bytes',
    source: async () => sourceOf('bytes', Buffer.alloc(0)),
    lead: 'input.content: ',
    why: /empty/,
  },
  {
    name: 'an output prefix that is not an oss URL',
    source: async () => sourceOf('bytes', await fs.readFile(await fixturePath(video))),
    output: { type: 'oss', prefix: 's3://results/runs' },
    lead: 'Invalid storage path "s3://results/runs"',
    why: /scheme must be oss:\/\//,
  },
];

describe('runJob refuses what it cannot read, in the caller’s words', () => {
  it.each(badJobs)('$name', async (row) => {
    const output = row.output ?? { type: 'oss', prefix: outputPrefix };
    const error = await failureOf(async () => runJob(job('task-bad', await row.source(), output), store));
    expect(error).toBeInstanceOf(TaskError);
    const { code, message } = error as TaskError;
    expect(code).toBe('VSNAP_TASK_INPUT');
    expect(message.startsWith(row.lead)).toBe(true);
    expect(message).toMatch(row.why);
    expect(message).not.toContain('\n');
    for (const serverPath of [root, fixtureDir, os.tmpdir()]) expect(message).not.toContain(serverPath);
    expect(await store.list(outputPrefix)).toEqual([]);
  });

  it('calls a store failure internal, with a generic message and the cause kept', async () => {
    // A file where the output directory must go: the write fails on the file system, not on the URL.
    await store.write('oss://results/blocked', Buffer.from('in the way'));
    const source = await sourceOf('bytes', await fs.readFile(await fixturePath(video)));
    const error = (await failureOf(() =>
      runJob(job('task-1', source, { type: 'oss', prefix: 'oss://results/blocked' }), store),
    )) as TaskError;
    expect(error.code).toBe('VSNAP_TASK_INTERNAL');
    expect(error.message).toBe('The task failed on an internal error');
    expect((error.cause as Error).message).toContain('oss://results/blocked/task-1/snapshot_');
  });
});
