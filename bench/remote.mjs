// `npm run bench:remote`: what reading a video by URL costs, per video, mode
// and interval (1, 5 and 30 s): bytes fetched (as a share of the file) and
// requests, counted by the server that serves it, beside the time of the
// same run from the local file; then the same through the service's worker
// path, an oss:// object in an S3-protocol server read through its
// presigned URL (bench/lib/remote-reads.mjs). `npm run bench` runs it and
// puts its table into docs/performance.md.
//
//   node bench/remote.mjs [--quick]
//
// --quick: one 720p minute instead of the two 1080p minutes.
// Results: bench/results/remote-<ISO date>.json and a Markdown table on stdout.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { countingFileServer, remoteTable, serviceReader, urlCase } from './lib/remote-reads.mjs';
import { describeVideo, ensureVideo, videoSpec } from './lib/video.mjs';
import { assertVsnapBuilt } from './lib/vsnap-build.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } }, strict: true });

const h264 = (height, gopSeconds, seconds) =>
  videoSpec({ codec: 'h264', width: (height * 16) / 9, height, fps: 30, gop: 30 * gopSeconds, seconds });
const videos = args.quick ? [h264(720, 2, 60)] : [h264(1080, 1, 60), h264(1080, 10, 60)];
const modes = ['exact', 'keyframe'];
const intervals = [1, 5, 30];

assertVsnapBuilt(repoRoot);
const started = Date.now();
const log = (message) => console.error(`[bench:remote ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`);

const results = { date: new Date().toISOString(), command: `npm run bench:remote${args.quick ? ' -- --quick' : ''}`, videos: [] };
const service = await serviceReader(repoRoot, repoRoot);
try {
  for (const spec of videos) {
    const { path } = await ensureVideo(spec, join(repoRoot, 'bench/.cache'));
    const { size } = await stat(path);
    const video = { label: describeVideo(spec), bytes: size, byUrl: [], byService: [] };
    const server = await countingFileServer(path);
    await service.put(spec.name, path);
    try {
      for (const mode of modes) {
        for (const interval of intervals) {
          const byUrl = await urlCase(repoRoot, path, server, mode, interval);
          video.byUrl.push(byUrl);
          const byService = await service.job(spec.name, mode, interval);
          video.byService.push({ mode, interval, ...byService });
          log(`${video.label}: ${mode} @ ${interval} s: ${share(byUrl.bytes, size)} in ${byUrl.requests} requests by URL, `
            + `${share(byService.bytes, size)} in ${byService.requests} through the service`);
        }
      }
    } finally {
      await server.close();
    }
    results.videos.push(video);
  }
} finally {
  await service.close();
}
results.seconds = Math.round((Date.now() - started) / 1000);

const resultsDir = join(repoRoot, 'bench/results');
await mkdir(resultsDir, { recursive: true });
const file = join(resultsDir, `remote-${results.date.replaceAll(':', '-')}.json`);
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(remoteTable(results));
log(`results: ${relative(repoRoot, file)}`);

function share(bytes, size) {
  return `${((bytes / size) * 100).toFixed(1)}%`;
}
