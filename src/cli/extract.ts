/**
 * `vsnap extract INPUT --out DIR [options]`: writes DIR/snapshot_K.EXT for
 * every planned output. With --json, prints exactly one JSON line on stdout
 * and nothing on stderr; otherwise a progress bar (on a terminal, for plans
 * of more than 20 outputs) and a one-line summary, both on stderr.
 */

import { invalidOption } from '../errors.js';
import { snapshot, type DecodeStats } from '../index.js';
import { intervalExpects, resolveSnapshotOptions, type ResolvedSnapshotOptions } from '../options.js';
import { writeSnapshotFiles, type SnapshotFilesResult } from '../snapshot-files.js';
import { singleInput, type ParsedArgs } from './args.js';
import { backendFlag, helpFlag, type CliIo, type Command } from './command.js';
import { ProgressBar } from './progress.js';

/** Plans this long or shorter finish before a progress bar would tell anything. */
const progressMinOutputs = 20;

export const extractCommand: Command = {
  name: 'extract',
  summary: 'write one image per interval timestamp to a directory',
  synopsis:
    'extract INPUT --out DIR [--interval S] [--format jpg|png] [--mode exact|keyframe] ' +
    '[--quality Q] [--compression C] [--backend auto|native|wasm] [--json]',
  description: [
    'Writes DIR/snapshot_K.jpg (or .png) for the targets t_K = K * interval seconds,',
    'from 0 up to the end of the video. exact mode takes the frame shown at each target;',
    'keyframe mode the keyframe nearest to it (faster; a keyframe near two targets is written once).',
  ].join('\n'),
  flags: {
    out: {
      type: 'string',
      placeholder: 'DIR',
      expects: 'a directory path',
      description: 'directory to write the images to (created if missing)',
    },
    interval: {
      type: 'string',
      placeholder: 'S',
      expects: intervalExpects,
      description: 'seconds between targets, fractions allowed (default 1)',
    },
    format: {
      type: 'string',
      placeholder: 'jpg|png',
      expects: 'one of jpg, png',
      description: 'image format (default jpg)',
    },
    mode: {
      type: 'string',
      placeholder: 'exact|keyframe',
      expects: 'one of exact, keyframe',
      description: 'which frame answers a target (default exact)',
    },
    quality: {
      type: 'string',
      placeholder: 'Q',
      expects: 'an integer between 1 and 100',
      description: 'JPEG quality, 1..100 (default 80)',
    },
    compression: {
      type: 'string',
      placeholder: 'C',
      expects: 'an integer between 0 and 9',
      description: 'PNG compression level, 0..9 (default 3)',
    },
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
  const run = snapshot(input, options);
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
 * moment later: JPEGs come from the native addon, PNGs from sharp loaded on
 * this thread rather than from a pool of worker threads. (Where the addon
 * does not load, 'auto' gives JPEGs to that pool.)
 */
function cliOptions(values: ParsedArgs['values']): ResolvedSnapshotOptions {
  const given = {
    interval: numberOrText(values.interval),
    format: values.format,
    mode: values.mode,
    quality: numberOrText(values.quality),
    compression: numberOrText(values.compression),
    backend: values.backend,
    encoder: values.format === 'png' ? 'inline' : 'auto',
  };
  return resolveSnapshotOptions(given, (key) => `--${key}`);
}

/** A flag's text as a number when it is one, else unchanged so that the error shows what was typed. */
function numberOrText(value: string | boolean | undefined): number | string | boolean | undefined {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const number = Number(value);
  return Number.isNaN(number) ? value : number;
}

function jsonResult(result: SnapshotFilesResult): {
  data: { frame_index: number; frame_time: number; path: string }[];
  usage: { image_count: number };
  stats: DecodeStats;
} {
  return {
    data: result.files.map((file) => ({
      frame_index: file.frameIndex,
      frame_time: file.frameTime,
      path: file.path,
    })),
    usage: { image_count: result.files.length },
    stats: result.stats,
  };
}

function summary(result: SnapshotFilesResult, options: ResolvedSnapshotOptions, out: string, seconds: number): string {
  const images = counted(result.files.length, `${options.format} image`);
  const seeks = counted(result.stats.seeks, 'seek');
  const frames = counted(result.stats.framesDecoded, 'frame');
  return `wrote ${images} to ${out} in ${seconds.toFixed(2)} s (${options.mode} mode, ${seeks}, ${frames} decoded)`;
}

function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
