/**
 * pgvector, where the database has it: the `embedding` column (and the model that made it) is
 * added after the migrations, at start-up, and only when an embedding model is configured: the
 * migrations must run where pgvector is absent. PGlite ships the extension (loaded at open, see
 * client.ts); on PostgreSQL it is detected in pg_available_extensions. Without it, knowledge search
 * is full text alone, said once at start-up.
 */
import { sql } from 'drizzle-orm';
import type { Logger } from '../core/ports.js';
import type { Database } from './client.js';
import { rowsOf } from './raw.js';

/** Several instances may start at once: one of them adds the extension and the columns, the others wait. */
const DDL_LOCK = 0x5175_7665; // "Quve"

/**
 * True when vectors can be stored and searched. The column has no fixed dimension (the model
 * decides it), and each vector names its model, so a change of EMBEDDING_MODEL never compares
 * vectors of two models: the old ones are re-made in the background.
 */
export async function enableVector(database: Database, log: Logger): Promise<boolean> {
  const { db } = database;
  try {
    const available = rowsOf(await db.execute(sql`select 1 from pg_available_extensions where name = 'vector'`)).length > 0;
    if (!available) {
      log.warn({ event: 'knowledge.no_pgvector', database: database.driver }, 'pgvector is not installed: knowledge search uses full text only');
      return false;
    }
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${DDL_LOCK})`);
      await tx.execute(sql`create extension if not exists vector`);
      await tx.execute(sql`alter table knowledge_chunks add column if not exists embedding vector, add column if not exists embedding_model text`);
      // What the background embedder reads next: chunks without a vector, newest first per workspace.
      await tx.execute(sql`create index if not exists knowledge_chunks_unembedded on knowledge_chunks (workspace_id, id) where embedding_model is null`);
    });
    return true;
  } catch (err) {
    log.warn({ event: 'knowledge.no_pgvector', database: database.driver, err: (err as Error).message.slice(0, 200) }, 'pgvector could not be enabled: knowledge search uses full text only');
    return false;
  }
}

/** A vector as pgvector's text form (numbers only: nothing else can reach the cast). */
export function vectorLiteral(values: number[]): string {
  return `[${values.map((v) => (Number.isFinite(v) ? Number(v) : 0)).join(',')}]`;
}
