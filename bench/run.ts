/**
 * `npm run bench`: runs every benchmark in bench/ (or those named on the command line) and
 * prints their figures. Set DATABASE_URL for PostgreSQL figures, REDIS_URL for Redis ones.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

for (const file of files) {
  const mod = (await import(pathToFileURL(`${dir}${file}`).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') continue;
  console.log(`\n=== ${file}`);
  const started = performance.now();
  await mod.run();
  console.log(`(${file}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
process.exit(0);
