/**
 * `npm run bench`: runs every benchmark in bench/ (or those named on the command line) and
 * prints their figures. What needs no service runs on PGlite; set DATABASE_URL for PostgreSQL
 * figures, REDIS_URL for Redis ones. The run ends with what was skipped and why.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchServices, skippedSoFar, print } from './_support.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

print(
  `databases: PGlite${benchServices.postgres ? ' and PostgreSQL (DATABASE_URL)' : ' only (set DATABASE_URL for PostgreSQL figures)'}; ` +
    `Redis: ${benchServices.redis ? 'REDIS_URL' : 'none (set REDIS_URL for Redis figures)'}`,
);
for (const file of files) {
  const mod = (await import(pathToFileURL(`${dir}${file}`).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') continue;
  print(`\n=== ${file}`);
  const started = performance.now();
  await mod.run();
  print(`(${file}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
const skips = skippedSoFar();
if (skips.length > 0) print(`\nSkipped:\n${skips.map((s) => `  ${s}`).join('\n')}`);
process.exit(0);
