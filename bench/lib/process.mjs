// Runs one command line as a child process, the way a user runs it, and
// measures it: wall time from spawn to exit, and what GNU time reads from the
// kernel's wait4 accounting: CPU time (user + system, the command and its
// waited-for children), which other load on the machine disturbs far less than
// wall time, and the peak resident set size (ru_maxrss: the largest single
// process of the tree, not a sum).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const GNU_TIME = '/usr/bin/time';
// GNU time appends its line to the command's stderr, after this mark.
const TIME_MARK = '[vsnap-bench measures]';

export function assertGnuTime() {
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} not found: CPU time and peak RSS are read with GNU time; install it with "apt-get install -y time"`);
  }
}

// Variables of the caller's environment that no contender gets. Node reads
// the certificates NODE_EXTRA_CA_CERTS names at every start, before any
// JavaScript runs: set to a system bundle (as some shells and containers set
// it, this machine's among them) it adds 30 to 60 ms to every Node process,
// here to `vsnap extract` and to no other contender. No contender makes a
// TLS connection. The report says when one was set, with its measured cost
// (clearedEnvironment() in machine.mjs).
export const CLEARED_VARIABLES = ['NODE_EXTRA_CA_CERTS'];

/** The environment every command of the benchmark runs in: the caller's, less CLEARED_VARIABLES. */
export function contenderEnvironment() {
  const env = { ...process.env };
  for (const name of CLEARED_VARIABLES) delete env[name];
  return env;
}

/** Runs argv to completion; rejects with the command and its stderr tail when it fails. */
export function run(argv, { cwd, env = contenderEnvironment() } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    child.on('error', (err) => reject(new Error(`cannot start ${argv[0]}: ${err.message}`)));
    child.on('close', (code, signal) => {
      const out = Buffer.concat(stdout).toString('utf8');
      const err = Buffer.concat(stderr).toString('utf8');
      if (code === 0) {
        resolve({ stdout: out, stderr: err });
        return;
      }
      const status = signal ? `signal ${signal}` : `exit code ${code}`;
      reject(new Error(`command failed (${status}): ${formatCommand(argv)}\n${err.slice(-2000)}`));
    });
  });
}

/** Like run(), and adds wallMs, cpuMs and peakRssKiB of the command. */
export async function runMeasured(argv, options = {}) {
  const start = process.hrtime.bigint();
  const result = await run([GNU_TIME, '-f', `${TIME_MARK} %U %S %M`, '--', ...argv], options);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const at = result.stderr.lastIndexOf(TIME_MARK);
  const [user, system, peakRssKiB] = result.stderr.slice(at + TIME_MARK.length).trim().split(' ').map(Number);
  if (at < 0 || ![user, system, peakRssKiB].every(Number.isFinite)) {
    throw new Error(`GNU time wrote no measures for ${formatCommand(argv)}: ${result.stderr.slice(-500)}`);
  }
  return { stdout: result.stdout, stderr: result.stderr.slice(0, at), wallMs, cpuMs: (user + system) * 1000, peakRssKiB };
}

/** A command line as a user would type it, for messages and the report. */
export function formatCommand(argv) {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)).join(' ');
}
