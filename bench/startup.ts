/**
 * Start-up time to /readyz 200 and idle RSS, for the real `npm start` entry (tsx src/main.ts)
 * on PGlite and (with DATABASE_URL) PostgreSQL, and for the compiled build (`npm run start:prod`). Targets: ready ≤ 5 s on PGlite; idle RSS ≤ 150 MB on PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { skipped, print } from './_support.js';
import { COMPILED_ENTRY, repoRoot, SOURCE_ENTRY, startChild } from '../test/support/child.js';

/** VmRSS: resident now; VmHWM: the peak since the process started (migrations, first queries included). */
function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

async function measure(label: string, env: Record<string, string>, entry = SOURCE_ENTRY): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quorum-startup-'));
  for (const run of ['first start (migrations)', 'second start']) {
    const started = performance.now();
    const child = startChild({ DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env }, [], entry);
    try {
      const url = await child.ready(60_000);
      let readyMs = Number.NaN;
      for (let i = 0; i < 600; i++) {
        const res = await fetch(`${url}/readyz`).catch(() => null);
        if (res?.status === 200) {
          readyMs = performance.now() - started;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 3_000));
      print(`${label.padEnd(20)} ${run.padEnd(25)} ready in ${(readyMs / 1000).toFixed(2)} s   idle RSS ${rssMb(child.process.pid!).toFixed(0)} MB   peak RSS ${rssMb(child.process.pid!, 'VmHWM').toFixed(0)} MB`);
    } finally {
      child.kill('SIGTERM');
      await child.exited;
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}

export async function run(): Promise<void> {
  await measure('pglite', {});
  if (process.env.DATABASE_URL) {
    await measure('postgres', { DATABASE_URL: process.env.DATABASE_URL });
    // In production the console and the unauthenticated local Teams endpoint are off, so their SDKs are not loaded.
    // Production refuses to start without a platform: Teams credentials need no network at start.
    const teams = { MICROSOFT_APP_ID: '00000000-0000-0000-0000-0000000000b1', MICROSOFT_APP_PASSWORD: 'bench', MICROSOFT_APP_TENANT_ID: 'bench' };
    const production = { DATABASE_URL: process.env.DATABASE_URL, NODE_ENV: 'production', QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'), ...teams };
    await measure('postgres, production', production);
    // What production should run: the compiled build (no TypeScript loader in the process).
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'pipe' });
    await measure('postgres, prod build', production, COMPILED_ENTRY);
  } else skipped('startup on PostgreSQL and the production build', 'set DATABASE_URL');
}
