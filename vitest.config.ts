import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // After the usual summary: which tests were skipped for want of PostgreSQL or Redis, and how to run them.
    reporters: ['default', './test/support/skip-reporter.ts'],
    // PGlite instances are heavy (hundreds of MB, seconds to boot): two workers fit the 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
