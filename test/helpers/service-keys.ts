/**
 * The API keys test services run with: `main`, fast enough that no test is
 * throttled, `slow`, for the rate-limit test, and `single`, fast but with
 * one unfinished task at a time, for the task-limit test. Written to a keys file
 * (auth.ts's JSON format) that the service's config names.
 */

import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export const testKeys = {
  main: 'vs-test-main-0123456789abcdefghij',
  slow: 'vs-test-slow-0123456789abcdefghij',
  single: 'vs-test-single-0123456789abcdefghij',
} as const;

export async function keysConfig(dir: string): Promise<{ config: { keysFile: string }; env: Record<string, string> }> {
  const keysFile = path.join(dir, 'keys.json');
  const keys = [
    { key: testKeys.main, name: 'main', qps: 100_000 },
    { key: testKeys.slow, name: 'slow', qps: 2 },
    { key: testKeys.single, name: 'single', qps: 100_000, maxTasks: 1 },
  ];
  await writeFile(keysFile, JSON.stringify({ keys }), { mode: 0o600 });
  return { config: { keysFile }, env: { VSNAP_API_KEYS: '' } };
}
