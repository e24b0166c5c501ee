import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // After the usual summary: which tests were skipped for want of PostgreSQL or Redis, and how to run them.
    reporters: ['default', './test/support/skip-reporter.ts'],
    // PGlite instances are heavy (hundreds of MB, seconds to boot): two workers fit the 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
    // The longest files first, so that both workers end at about the same time.
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
