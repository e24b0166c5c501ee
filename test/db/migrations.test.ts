import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, rowsOf } from '../../src/db/client.js';
import { createPostgresDatabase, dropPostgresDatabase } from '../support/db.js';
import { itWith } from '../support/services.js';

async function appliedMigrations(db: Awaited<ReturnType<typeof openDatabase>>): Promise<number> {
  const rows = (await db.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)) as unknown as
    | { rows: { n: number }[] }
    | { n: number }[];
  return Array.isArray(rows) ? rows[0]!.n : rows.rows[0]!.n;
}

describe('migrations', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('apply on PGlite, and a second start applies nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quorum-mig-'));
    dirs.push(dir);
    const first = await openDatabase({ dataDir: dir });
    const count = await appliedMigrations(first);
    expect(count).toBeGreaterThan(0);
    await first.close();
    const second = await openDatabase({ dataDir: dir });
    expect(await appliedMigrations(second)).toBe(count);
    // The embedded database's memory settings are in force (PostgreSQL's 128MB of shared_buffers cost ~130 MB RSS).
    const settings = rowsOf<{ sb: string; mwm: string }>(await second.db.execute(sql`select current_setting('shared_buffers') sb, current_setting('maintenance_work_mem') mwm`));
    expect(settings).toEqual([{ sb: '16MB', mwm: '16MB' }]);
    await second.close();
  });

  itWith('postgres', 'apply on PostgreSQL, and a second start applies nothing', async () => {
    const url = await createPostgresDatabase();
    try {
      const first = await openDatabase({ databaseUrl: url, dataDir: tmpdir(), poolSize: 1 });
      const count = await appliedMigrations(first);
      expect(count).toBeGreaterThan(0);
      await first.close();
      const second = await openDatabase({ databaseUrl: url, dataDir: tmpdir(), poolSize: 1 });
      expect(await appliedMigrations(second)).toBe(count);
      await second.close();
    } finally {
      await dropPostgresDatabase(url);
    }
  });
});
