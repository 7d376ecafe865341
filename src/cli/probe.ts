/**
 * `vsnap probe INPUT [--json]`: a video's metadata, as aligned lines for
 * people or, with --json, as the VideoInfo object on one line.
 */

import { probe, type VideoInfo } from '../index.js';
import { singleInput, type ParsedArgs } from './args.js';
import { resolveProbeOptions } from '../options.js';
import { backendFlag, helpFlag, type CliIo, type Command } from './command.js';

/** Keyframe times listed in the human-readable output before "...". */
const keyframesShown = 8;

export const probeCommand: Command = {
  name: 'probe',
  summary: "show a video's metadata",
  synopsis: 'probe INPUT [--backend auto|native|wasm] [--json]',
  description:
    'Reads the container and scans the video stream: size, rotation, duration, frame count and keyframe times.',
  flags: {
    ...backendFlag,
    json: { type: 'boolean', description: 'print the metadata as one JSON line on stdout' },
    ...helpFlag,
  },
  run: runProbe,
};

async function runProbe({ values, positionals }: ParsedArgs, io: CliIo): Promise<void> {
  const info = await probe(singleInput(positionals), resolveProbeOptions({ backend: values.backend }, (key) => `--${key}`));
  io.stdout.write(values.json === true ? `${JSON.stringify(info)}\n` : describe(info));
}

function describe(info: VideoInfo): string {
  const fps = info.frameRate.average;
  const keyframes = info.keyframes.slice(0, keyframesShown).map((time) => seconds(time));
  if (info.keyframes.length > keyframesShown) keyframes.push('...');
  const rows: [string, string][] = [
    ['container', info.container],
    ['codec', `${info.codec} (${info.pixelFormat})`],
    ['size', `${info.width}x${info.height}`],
    ['rotation', `${info.rotation} degrees (displayed ${info.displayWidth}x${info.displayHeight})`],
    ['duration', `${seconds(info.duration)} s (starts at ${seconds(info.startTime)} s)`],
    ['frame rate', `${Number(fps.toFixed(3))} fps (${info.frameRate.variable ? 'variable' : 'constant'})`],
    ['frames', String(info.frameCount)],
    ['keyframes', keyframes.length === 0 ? '0' : `${info.keyframes.length} at ${keyframes.join(', ')} s`],
    ['bit rate', `${Math.round(info.bitRate / 1000)} kb/s`],
    ['colour', colour(info.color)],
    ['backend', info.backend],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`).join('');
}

/** "bt2020nc matrix, bt2020 primaries, smpte2084 (PQ) transfer, limited range; mastering display 0.005 to 1000 cd/m², MaxCLL 1000, MaxFALL 400". */
function colour(color: VideoInfo['color']): string {
  const transferNames: Record<string, string> = { smpte2084: 'smpte2084 (PQ)', 'arib-std-b67': 'arib-std-b67 (HLG)' };
  const parts = [
    `${color.matrix ?? 'unspecified'} matrix`,
    `${color.primaries ?? 'unspecified'} primaries`,
    `${color.transfer === null ? 'unspecified' : (transferNames[color.transfer] ?? color.transfer)} transfer`,
    `${color.range ?? 'unspecified'} range`,
  ].join(', ');
  const hdr = [
    ...(color.masteringDisplay === null
      ? []
      : [`mastering display ${Number(color.masteringDisplay.minLuminance.toFixed(4))} to ${Number(color.masteringDisplay.maxLuminance.toFixed(4))} cd/m²`]),
    ...(color.contentLight === null ? [] : [`MaxCLL ${color.contentLight.maxCll}, MaxFALL ${color.contentLight.maxFall}`]),
    ...(color.dolbyVision === null ? [] : [`Dolby Vision profile ${color.dolbyVision.profile}.${color.dolbyVision.blSignalCompatibilityId}, level ${color.dolbyVision.level}`]),
  ];
  return hdr.length === 0 ? parts : `${parts}; ${hdr.join(', ')}`;
}

function seconds(value: number): string {
  return String(Number(value.toFixed(3)));
}
