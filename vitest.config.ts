import { defineConfig } from 'vitest/config';

// The machine has 2 cores and the engine is a native addon: at most two
// forked workers, and long timeouts because a cold run first makes the
// fixtures with the ffmpeg CLI (test/helpers/fixtures.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
