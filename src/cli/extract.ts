/**
 * `vsnap extract INPUT --out DIR [options]`: writes DIR/snapshot_K.EXT for
 * every planned output (or, with --sprite, the sheets DIR/sprite_J.EXT and
 * DIR/thumbnails.vtt; snapshot-files.ts). With --json, prints exactly one JSON line on stdout
 * and nothing on stderr; otherwise a progress bar (on a terminal, for plans
 * of more than 20 outputs) and a one-line summary, both on stderr.
 */

import { invalidOption } from '../errors.js';
import { SnapshotRun, type DecodeStats } from '../engine/snapshot.js';
import { resolveInput, resolveSnapshotOptions, type ResolvedSnapshotOptions } from '../options.js';
import { spriteTrackName, writeSnapshotFiles, type SnapshotFilesResult } from '../snapshot-files.js';
import { singleInput, type ParsedArgs } from './args.js';
import { backendFlag, helpFlag, type CliIo, type Command } from './command.js';
import { ProgressBar } from './progress.js';
import { flagName, sampleFlags, sampleValues } from './sample-flags.js';

/** Plans this long or shorter finish before a progress bar would tell anything. */
const progressMinOutputs = 20;

export const extractCommand: Command = {
  name: 'extract',
  summary: 'write one image per target time to a directory',
  synopsis:
    'extract INPUT --out DIR [--interval S | --count N | --times T1,T2,...] [--start S] [--end S] ' +
    '[--mode exact|keyframe] [--width W] [--height H] [--fit F] [--format jpg|png|webp] [--sprite CxR] ' +
    '[--quality Q] [--compression C] [--backend auto|native|wasm] [--json]',
  description: [
    'Writes DIR/snapshot_K.jpg (or .png, .webp) for the target times: every interval seconds',
    '(t_K = start + K * interval, default every second), count times at the centres of count equal',
    'parts of the window from start to end, or the chosen times. exact mode takes the frame shown at',
    'each target; keyframe mode the keyframe nearest to it (faster; a keyframe near two targets is',
    'written once). --width and --height size the images (of the upright picture; one of them keeps',
    'the aspect ratio). --sprite lays the images into sheets DIR/sprite_J.EXT of columns x rows',
    'cells (160 wide unless sized) and writes DIR/thumbnails.vtt, a thumbnail track for players.',
  ].join('\n'),
  flags: {
    out: {
      type: 'string',
      placeholder: 'DIR',
      expects: 'a directory path',
      description: 'directory to write the images to (created if missing)',
    },
    ...sampleFlags,
    ...backendFlag,
    json: { type: 'boolean', description: 'print the result as one JSON line on stdout' },
    ...helpFlag,
  },
  run: runExtract,
};

async function runExtract({ values, positionals }: ParsedArgs, io: CliIo): Promise<void> {
  const input = singleInput(positionals);
  const options = cliOptions(values);
  const out = values.out;
  if (typeof out !== 'string' || out === '') throw invalidOption('--out', 'a directory path', out);
  const json = values.json === true;

  const started = performance.now();
  const run = new SnapshotRun(resolveInput(input), options);
  const progress = !json && io.stderr.isTTY === true ? new ProgressBar(io.stderr) : undefined;
  if (progress !== undefined) {
    // A failed open is reported by the writing below; this path only draws.
    run.plan().then(
      ({ outputCount }) => {
        if (outputCount > progressMinOutputs) progress.start(outputCount);
      },
      () => undefined,
    );
  }
  let result: SnapshotFilesResult;
  try {
    result = await writeSnapshotFiles(run, out, () => progress?.tick());
  } finally {
    progress?.stop();
  }
  const seconds = (performance.now() - started) / 1000;

  if (json) io.stdout.write(`${JSON.stringify(jsonResult(result))}\n`);
  else io.stderr.write(`${summary(result, options, out, seconds)}\n`);
}

/**
 * The flags as library options, validated under their flag names. The
 * process makes this one run, so nothing should start that it would stop a
 * moment later: JPEGs come from the native addon, other formats from sharp
 * loaded on this thread rather than from a pool of worker threads. (Where
 * the addon does not load, 'auto' gives JPEGs to that pool.)
 */
function cliOptions(values: ParsedArgs['values']): ResolvedSnapshotOptions {
  const given = sampleValues(values);
  const inline = given.sprite !== undefined || (given.format !== undefined && given.format !== 'jpg');
  return resolveSnapshotOptions({ ...given, backend: values.backend, encoder: inline ? 'inline' : 'auto' }, flagName, 'cli');
}

function jsonResult(result: SnapshotFilesResult): {
  data: { frame_index: number; frame_time: number; path: string; width: number; height: number }[];
  usage: { image_count: number };
  stats: DecodeStats;
} {
  return {
    data: result.files.map((file) => ({
      frame_index: file.frameIndex,
      frame_time: file.frameTime,
      path: file.path,
      width: file.width,
      height: file.height,
    })),
    usage: { image_count: result.files.length },
    stats: result.stats,
  };
}

function summary(result: SnapshotFilesResult, options: ResolvedSnapshotOptions, out: string, seconds: number): string {
  const images =
    result.sheets === 0
      ? counted(result.files.length, `${options.format} image`)
      : `${counted(result.files.length, 'image')} in ${counted(result.sheets, `${options.format} sprite sheet`)} and ${spriteTrackName}`;
  const seeks = counted(result.stats.seeks, 'seek');
  const frames = counted(result.stats.framesDecoded, 'frame');
  return `wrote ${images} to ${out} in ${seconds.toFixed(2)} s (${options.mode} mode, ${seeks}, ${frames} decoded)`;
}

function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
