/**
 * The order test files start in: the longest first, so that two workers finish together instead
 * of one of them starting a minute-long file near the end. Vitest's own order uses its results
 * cache (durations that leave out each file's hooks, and absent on a fresh CI checkout, where it
 * falls back to the largest files first: the isolation property is one of the smallest). The files
 * below were the longest of a full run with PostgreSQL and Redis set, hooks and imports counted;
 * the rest keep Vitest's order. A file missing here only starts later, it still runs.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first, as measured on the 2-core machine (loaded: the order counts, not the seconds). */
export const LONGEST_FIRST = [
  'test/access/isolation-postgres.test.ts',
  'test/access/isolation.test.ts',
  'test/build.test.ts',
  'test/access/ranks.test.ts',
  'test/crash.test.ts',
  'test/model-errors.test.ts',
  'test/db/usage-script.test.ts',
  'test/leases.test.ts',
  'test/data-dir-lock.test.ts',
  'test/access/help.test.ts',
  'test/db/migrations.test.ts',
  'test/teams/usage.test.ts',
  'test/db/data-dir-perms.test.ts',
  'test/teams/mentions.test.ts',
  'test/http/metrics-access.test.ts',
  'test/http/timeouts.test.ts',
  'test/crash-teams.test.ts',
  'test/startup.test.ts',
  'test/fairness.test.ts',
  'test/model/choices-platforms.test.ts',
  'test/crash-slack.test.ts',
  'test/slack-instances.test.ts',
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the files not listed keep Vitest's order, after the listed ones.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
