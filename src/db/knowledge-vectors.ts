/**
 * The queue of knowledge chunks still to embed (pgvector, columns added by vector.ts). Vectors
 * live on the chunk rows, so whatever deletes a chunk (an edit, a deletion, retention, forget)
 * deletes its vector with it.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ChunkEmbeddings } from '../core/ports.js';
import type { Db } from './client.js';
import { col, decodeRows } from './raw.js';
import { vectorLiteral } from './vector.js';

const pending = z.object({ id: col.number, content: z.string() });

/** The embedding queue of the index, for one model. */
export function chunkEmbeddings(db: Db, model: string): ChunkEmbeddings {
  return {
    /**
     * Round robin across workspaces (each one's newest first): a workspace backfilling a long
     * history never holds back another's new messages.
     */
    async pending(limit) {
      return decodeRows(
        pending,
        await db.execute(sql`
          select c.id, c.content from workspaces w
          cross join lateral (
            select id, content, row_number() over (order by id desc) as turn from knowledge_chunks
            where workspace_id = w.id and embedding_model is null
            order by id desc limit ${limit}
          ) c
          order by c.turn, random() limit ${limit}`),
      );
    },

    /** A chunk deleted or replaced meanwhile is simply not found: its new rows are queued of their own. */
    async store(rows) {
      if (rows.length === 0) return 0;
      const values = JSON.stringify(rows.map((r) => ({ id: r.id, e: vectorLiteral(r.embedding) })));
      const updated = await db.execute(sql`
        update knowledge_chunks k set embedding = v.e::vector, embedding_model = ${model}
        from jsonb_to_recordset(${values}::jsonb) as v(id bigint, e text)
        where k.id = v.id and k.embedding_model is null
        returning k.id`);
      return decodeRows(z.object({ id: col.number }), updated).length;
    },

    /** Vectors of another model go back in the queue, a bounded batch at a time. */
    async requeueOtherModels(limit) {
      const updated = await db.execute(sql`
        update knowledge_chunks set embedding = null, embedding_model = null
        where id in (select id from knowledge_chunks where embedding_model <> ${model} limit ${limit})
        returning id`);
      return decodeRows(z.object({ id: col.number }), updated).length;
    },
  };
}
