/**
 * Ends the run with what was skipped for want of a service, and the command that runs it, so
 * that `npm test` on a machine with only Node passes and says plainly what it did not cover.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { needsMark, SERVICES, type Service } from './services.js';

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const service of Object.keys(SERVICES) as Service[]) {
      const mark = needsMark(service);
      const files = new Map<string, number>();
      for (const module of modules) {
        for (const test of module.children.allTests()) {
          if (test.result().state !== 'skipped' || !test.fullName.includes(mark)) continue;
          files.set(module.relativeModuleId, (files.get(module.relativeModuleId) ?? 0) + 1);
        }
      }
      if (files.size === 0) continue;
      const { label, variable, example } = SERVICES[service];
      const tests = [...files.values()].reduce((a, b) => a + b, 0);
      const setButDown = service === 'redis' && Boolean(process.env.REDIS_URL);
      lines.push(`  ${label}: ${tests} test(s) in ${files.size} file(s) skipped (${variable} ${setButDown ? 'is set but Redis did not answer' : 'is not set'})`);
      for (const file of [...files.keys()].sort()) lines.push(`    ${file}`);
      lines.push(setButDown ? `    run them: start Redis at ${variable}, then npm test` : `    run them: ${variable}=${example} npm test`);
    }
    if (!process.env.DATABASE_URL) lines.push('  Database tests ran on PGlite only; with DATABASE_URL set they run on PostgreSQL too.');
    if (lines.length === 0) return;
    process.stdout.write(`\nNot covered by this run:\n${lines.join('\n')}\n\n`);
  }
}
