/**
 * The service's logs: one JSON object per line on stdout (pino), so any log
 * collector reads them without a parser of ours.
 *
 * - `level` is a label ("info"), `time` is ISO 8601: people read these too.
 * - Request logs come from `requestLogger`, a child that stamps every line
 *   with `request_id`, the id the caller sees in the response envelope, so a
 *   caller's complaint leads straight to its lines.
 * - Secrets never reach a line: `authorization` (the header carries the API
 *   key) and `key` fields are censored wherever a caller is likely to put
 *   them (top level, and up to two objects deep, e.g. `req.headers.authorization`).
 *   Code should log a key's id, never the key; redaction is the net under
 *   that rule, not the rule.
 * - Lines go to stdout synchronously, one write(2) each: a line logged is
 *   in the pipe or file before the call returns, so a process killed with
 *   SIGKILL, or one that crashes, leaves every line up to that moment. The
 *   last lines before a crash are the ones an operator needs ("task
 *   finished", a worker's exit); pino's default asynchronous stream could
 *   lose them. A line costs one system call, against a request's hundreds
 *   of microseconds.
 * - Nothing is written at import; `createLogger` is the only entry.
 */

import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof logLevels)[number];

export const redactedPaths: readonly string[] = [
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'key',
  '*.key',
  '*.*.key',
];

export const redactionCensor = '[redacted]';

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout when absent. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { service: 'vsnap', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: [...redactedPaths], censor: redactionCensor },
  };
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** The logger for one request: every line it writes carries `request_id`. */
export function requestLogger(logger: Logger, requestId: string): Logger {
  return logger.child({ request_id: requestId });
}
