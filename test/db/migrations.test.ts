import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { rowsOf } from '../../src/db/raw.js';
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
    const settings = (rowsOf(await second.db.execute(sql`select current_setting('shared_buffers') sb, current_setting('maintenance_work_mem') mwm`)) as { sb: string; mwm: string }[]);
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

describe('migration 0004: DM conversations keyed by their owner’s user id', () => {
  it('rewrites the old key (the principal’s row id) and leaves channel threads alone', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    const { cpSync, readFileSync, writeFileSync } = await import('node:fs');
    const { migrationsFolder } = await import('../../src/db/client.js');
    // The migrations as they stood before 0004.
    const before = mkdtempSync(join(tmpdir(), 'quorum-mig-before-'));
    cpSync(migrationsFolder, before, { recursive: true });
    const journalFile = join(before, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.tag < '0004');
    writeFileSync(journalFile, JSON.stringify(journal));
    const client = await PGlite.create();
    try {
      const db = drizzle(client);
      await migrate(db, { migrationsFolder: before });
      const [ws] = (await client.query<{ id: string }>(`insert into workspaces (platform, external_id) values ('slack', 'T0MIG') returning id`)).rows;
      const [p] = (await client.query<{ id: string }>(`insert into principals (workspace_id, platform_user_id, platform_role) values ($1, 'U0MIG', 'member') returning id`, [ws!.id])).rows;
      const [ch] = (await client.query<{ id: string }>(`insert into channels (workspace_id, external_id, kind) values ($1, 'D0MIG', 'dm') returning id`, [ws!.id])).rows;
      const [cc] = (await client.query<{ id: string }>(`insert into channels (workspace_id, external_id, kind) values ($1, 'C0MIG', 'channel') returning id`, [ws!.id])).rows;
      await client.query(`insert into conversations (workspace_id, channel_id, kind, thread_key, owner_principal_id) values ($1, $2, 'dm', $3, $4)`, [ws!.id, ch!.id, `dm:${p!.id}`, p!.id]);
      await client.query(`insert into conversations (workspace_id, channel_id, kind, thread_key) values ($1, $2, 'channel', '1700000000.000100')`, [ws!.id, cc!.id]);
      await migrate(db, { migrationsFolder });
      const keys = (await client.query<{ thread_key: string }>(`select thread_key from conversations order by kind`)).rows.map((r) => r.thread_key);
      expect(keys).toEqual(['1700000000.000100', 'dm:U0MIG']);
    } finally {
      await client.close();
      rmSync(before, { recursive: true, force: true });
    }
  });
});
