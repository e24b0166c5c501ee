/**
 * The production build: `npm run build` compiles to dist/ and `npm run start:prod` runs it, with
 * the migrations found beside it, ready, and stopped cleanly on SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { inbox } from '../src/db/schema.js';
import { COMPILED_ENTRY, repoRoot, startChild, type Child } from './support/child.js';
import { openTestDatabase, type TestDatabase } from './support/db.js';

describe('production build', () => {
  let db: TestDatabase | undefined;
  let child: Child | undefined;
  const dataDir = `/tmp/quorum-build-${process.pid}`;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('compiles, starts from dist/ with its migrations, is ready, and stops with exit 0', { timeout: 180_000 }, async () => {
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'pipe' });
    expect(existsSync(join(repoRoot, 'dist/src/main.js'))).toBe(true);
    expect(existsSync(join(repoRoot, 'dist/drizzle/meta/_journal.json'))).toBe(true);

    // A fresh database: the compiled service must apply the migrations itself.
    db = process.env.DATABASE_URL ? await openTestDatabase('postgres') : undefined;
    child = startChild(
      {
        DATA_DIR: dataDir,
        NODE_ENV: 'production',
        QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
        ...(db?.url ? { DATABASE_URL: db.url } : {}),
      },
      [],
      COMPILED_ENTRY,
    );
    const url = await child.ready();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('quorum_inbox_depth');
    // The migrations ran: the inbox exists and is empty.
    if (db) expect(await db.db.select({ rows: count() }).from(inbox)).toEqual([{ rows: 0 }]);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });
});
