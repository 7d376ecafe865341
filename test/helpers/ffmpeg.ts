/**
 * Runs the FFmpeg command-line tools the tests use as generator and oracle.
 * They are independent of the engine: the CLI tools are the reference the
 * engine's outputs are proven against.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Raw frames of a few seconds of video fit easily; ffprobe's JSON for a few hundred frames too. */
const maxBuffer = 512 * 1024 * 1024;

/** Runs `ffmpeg` quietly and gives its stdout; fails with its stderr. */
export async function ffmpeg(args: readonly string[]): Promise<Buffer> {
  return run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...args]);
}

/** Runs `ffprobe` with JSON output and parses it. */
export async function ffprobeJson(args: readonly string[]): Promise<unknown> {
  const stdout = await run('ffprobe', ['-v', 'error', '-of', 'json', ...args]);
  return JSON.parse(stdout.toString('utf8'));
}

let encoderList: Promise<ReadonlySet<string>> | undefined;

/** The names of the encoders this FFmpeg build has. */
export function ffmpegEncoders(): Promise<ReadonlySet<string>> {
  encoderList ??= run('ffmpeg', ['-hide_banner', '-encoders']).then((out) => {
    const names = new Set<string>();
    for (const line of out.toString('utf8').split('\n')) {
      // " V....D libx264   libx264 H.264 / AVC ..." once the "------" header is over.
      const match = /^ [VAS][F.][S.][X.][B.][D.] (\S+)/.exec(line);
      if (match) names.add(match[1]);
    }
    return names;
  });
  return encoderList;
}

let versionLine: Promise<string> | undefined;

/** The first line of `ffmpeg -version`, part of every fixture's cache key. */
export function ffmpegVersion(): Promise<string> {
  versionLine ??= run('ffmpeg', ['-version']).then((out) => out.toString('utf8').split('\n')[0]);
  return versionLine;
}

async function run(tool: string, args: readonly string[]): Promise<Buffer> {
  try {
    const { stdout } = await execFileAsync(tool, args, { encoding: 'buffer', maxBuffer });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8').trim();
    throw new Error(`${tool} ${args.join(' ')} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}
