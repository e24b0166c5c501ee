/**
 * pgvector, where the database has it: the `embedding` column is added after the migrations (the
 * migrations must run where pgvector is absent), only when an embedding model is configured.
 * PGlite ships the extension (loaded at open, see client.ts); on PostgreSQL it is detected in
 * pg_available_extensions. Without it, knowledge search is full text alone, said once at start-up.
 */
import { sql } from 'drizzle-orm';
import type { Logger } from '../core/ports.js';
import type { Database } from './client.js';
import { rowsOf } from './raw.js';

export async function enableVector(database: Database, log: Logger): Promise<boolean> {
  const { db } = database;
  try {
    const available = rowsOf(await db.execute(sql`select 1 from pg_available_extensions where name = 'vector'`)).length > 0;
    if (!available) {
      log.warn({ event: 'knowledge.no_pgvector', database: database.driver }, 'pgvector is not installed: knowledge search uses full text only');
      return false;
    }
    await db.execute(sql`create extension if not exists vector`);
    await db.execute(sql`alter table knowledge_chunks add column if not exists embedding vector`);
    return true;
  } catch (err) {
    log.warn({ event: 'knowledge.no_pgvector', database: database.driver, err: (err as Error).message.slice(0, 200) }, 'pgvector could not be enabled: knowledge search uses full text only');
    return false;
  }
}

/**
 * With btree_gin (a contrib extension most PostgreSQL installations have), one GIN index over
 * (workspace, channel, words) answers "these words in these channels of this workspace" inside
 * the index, instead of fetching every row with the words and dropping those of other channels.
 * Built once, after the migrations (they must run where btree_gin is absent, PGlite among them);
 * without it the plain full-text index serves, slower on large indexes.
 */
export async function enableScopedTextIndex(database: Database, log: Logger): Promise<boolean> {
  const { db } = database;
  try {
    const available = rowsOf(await db.execute(sql`select 1 from pg_available_extensions where name = 'btree_gin'`)).length > 0;
    if (!available) {
      log.info({ event: 'knowledge.no_btree_gin', database: database.driver }, 'btree_gin is not installed: knowledge search uses the plain full-text index');
      return false;
    }
    await db.execute(sql`create extension if not exists btree_gin`);
    await db.execute(sql`create index if not exists knowledge_chunks_scoped_tsv on knowledge_chunks using gin (workspace_id, channel_external_id, tsv)`);
    return true;
  } catch (err) {
    log.warn({ event: 'knowledge.no_btree_gin', database: database.driver, err: (err as Error).message.slice(0, 200) }, 'scoped full-text index not built: the plain one serves');
    return false;
  }
}
