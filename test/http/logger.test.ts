import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { createLogger, type LogLevel, redactionCensor, requestLogger } from '../../src/http/logger.js';

/** A logger whose lines are kept, parsed, in `lines`. */
function capturingLogger(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { logger: createLogger({ level, destination }), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with a level label and an ISO time', () => {
    const { logger, lines } = capturingLogger('info');
    logger.info({ port: 8080 }, 'listening');
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({ level: 'info', msg: 'listening', port: 8080, service: 'vsnap', pid: process.pid });
    expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
  });

  it('drops lines below its level and writes nothing when silent', () => {
    const warn = capturingLogger('warn');
    warn.logger.info('not shown');
    warn.logger.error('shown');
    expect(warn.lines.map((l) => l.msg)).toEqual(['shown']);

    const silent = capturingLogger('silent');
    silent.logger.fatal('never');
    expect(silent.lines).toEqual([]);
  });

  it.each([
    ['a request header', { req: { headers: { authorization: 'Bearer vs-secret' } } }, ['req', 'headers', 'authorization']],
    ['bare headers', { headers: { authorization: 'Bearer vs-secret' } }, ['headers', 'authorization']],
    ['a top-level authorization', { authorization: 'Bearer vs-secret' }, ['authorization']],
    ['a top-level key', { key: 'vs-secret' }, ['key']],
    ['a nested key', { apiKey: { key: 'vs-secret', id: 'ci' } }, ['apiKey', 'key']],
    ['a key two objects deep', { config: { keys: { key: 'vs-secret' } } }, ['config', 'keys', 'key']],
  ])('censors %s', (_name, fields, path) => {
    const { logger, lines } = capturingLogger('info');
    logger.info(fields, 'request');
    const line = lines[0] as Record<string, unknown>;
    expect(JSON.stringify(line)).not.toContain('vs-secret');
    const value = path.reduce<unknown>((at, name) => (at as Record<string, unknown>)[name], line);
    expect(value).toBe(redactionCensor);
  });
});

describe('createLogger on stdout', () => {
  const builtLogger = fileURLToPath(new URL('../../dist/src/http/logger.js', import.meta.url));

  it('has every line on stdout before the call returns, so a process killed with SIGKILL keeps its last lines', () => {
    if (!existsSync(builtLogger)) throw new Error('the child runs dist/: run `npm run build:ts` first');
    const script = `
      const { createLogger } = await import(${JSON.stringify(builtLogger)});
      const logger = createLogger({ level: 'info' });
      for (let i = 0; i < 2000; i += 1) logger.info({ i, padding: 'x'.repeat(200) }, 'line');
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(child.signal).toBe('SIGKILL');
    const lines = child.stdout.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(2000);
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ msg: 'line', i: 1999 });
  });
});

describe('requestLogger', () => {
  it('stamps every line with the request id and keeps the parent unchanged', () => {
    const { logger, lines } = capturingLogger('debug');
    const child = requestLogger(logger, '0123456789abcdef0123456789abcdef');
    child.info({ route: '/health' }, 'request finished');
    child.debug('detail');
    logger.info('service line');
    expect(lines.map((l) => l.request_id)).toEqual([
      '0123456789abcdef0123456789abcdef',
      '0123456789abcdef0123456789abcdef',
      undefined,
    ]);
    expect(lines[0]).toMatchObject({ route: '/health', msg: 'request finished' });
  });

  it('still censors secrets in request lines', () => {
    const { logger, lines } = capturingLogger('info');
    requestLogger(logger, 'r1').warn({ req: { headers: { authorization: 'Bearer vs-secret' } } }, 'refused');
    expect(JSON.stringify(lines)).not.toContain('vs-secret');
  });
});
