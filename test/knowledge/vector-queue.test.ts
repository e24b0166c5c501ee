/**
 * The embedding queue on a real database with pgvector (PGlite; PostgreSQL where it has the
 * extension): chunks still to embed are shared fairly across workspaces, and a change of
 * EMBEDDING_MODEL puts the other model's vectors back in the queue, never comparing the two.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Scope } from '../../src/core/identity.js';
import { createKnowledgeStore } from '../../src/db/knowledge-store.js';
import { rowsOf } from '../../src/db/raw.js';
import { workspaces } from '../../src/db/schema.js';
import { enableVector } from '../../src/db/vector.js';
import { createLogger } from '../../src/log.js';
import { fakeEmbedding } from '../fakes/openai-server.js';
import { drivers, useDatabaseWith } from '../support/db.js';

const place = { channel: { id: 'C0VQUEUE01', kind: 'channel' as const }, dmOwnerUserId: null };
const chunk = (id: string, content: string) => ({ sourceKind: 'message' as const, sourceId: id, threadId: null, authorId: 'U0VQ000001', chunkNo: 0, content, permalink: null, at: new Date() });

describe.each(drivers)('the embedding queue (%s)', (driver) => {
  const ctx = useDatabaseWith(driver, async (db) => {
    const vector = await enableVector(db, createLogger('silent'));
    const [busy, quiet] = await db.db.insert(workspaces).values([{ platform: 'slack', externalId: 'T0VQBUSY01' }, { platform: 'slack', externalId: 'T0VQQUIET1' }]).returning();
    return { vector, busy: { workspaceId: busy!.id } as Scope, quiet: { workspaceId: quiet!.id } as Scope };
  });

  it('a workspace with a long backlog does not hold back another’s new chunk', async (t) => {
    if (!ctx.vector) t.skip('this PostgreSQL has no pgvector');
    const store = createKnowledgeStore(ctx.db.db, { vector: { model: 'model-a' } });
    for (let i = 0; i < 40; i++) await store.replaceSource(ctx.busy, place, { kind: 'message', id: `b${i}` }, [chunk(`b${i}`, `backlog ${i}`)]);
    await store.replaceSource(ctx.quiet, place, { kind: 'message', id: 'q1' }, [chunk('q1', 'quiet news')]);
    for (let i = 40; i < 80; i++) await store.replaceSource(ctx.busy, place, { kind: 'message', id: `b${i}` }, [chunk(`b${i}`, `backlog ${i}`)]);
    const first = await store.embeddings!.pending(4);
    expect(first).toHaveLength(4);
    expect(first.map((r) => r.content)).toContain('quiet news');
  });

  it('stores vectors once; a new model re-queues the old model’s vectors and searches never mix them', async (t) => {
    if (!ctx.vector) t.skip('this PostgreSQL has no pgvector');
    const a = createKnowledgeStore(ctx.db.db, { vector: { model: 'model-a' } });
    const pending = await a.embeddings!.pending(1_000);
    expect(await a.embeddings!.store(pending.map((r) => ({ id: r.id, embedding: fakeEmbedding(r.content) })))).toBe(pending.length);
    expect(await a.embeddings!.pending(10)).toEqual([]);
    // Stored already: a second store of the same rows changes nothing.
    expect(await a.embeddings!.store(pending.slice(0, 1).map((r) => ({ id: r.id, embedding: fakeEmbedding('other') })))).toBe(0);

    const query = { text: '', embedding: fakeEmbedding('quiet news'), channelExternalIds: [place.channel.id], dmOwnerUserId: null, limit: 5 };
    expect((await a.search(ctx.quiet, query)).map((c) => c.content)).toEqual(['quiet news']);

    const b = createKnowledgeStore(ctx.db.db, { vector: { model: 'model-b' } });
    // Until re-embedded, model-a's vectors are not compared with model-b's question (another model, maybe another size).
    expect(await b.search(ctx.quiet, { ...query, embedding: [1, 2, 3] })).toEqual([]);
    expect(await b.embeddings!.requeueOtherModels(50)).toBe(50);
    expect(await b.embeddings!.requeueOtherModels(1_000)).toBe(pending.length - 50);
    expect(await b.embeddings!.requeueOtherModels(1_000)).toBe(0);
    const left = rowsOf(await ctx.db.db.execute(sql`select count(*) as n from knowledge_chunks where embedding is not null`));
    expect(Number((left[0] as { n: unknown }).n)).toBe(0);
    expect(await b.embeddings!.pending(1_000)).toHaveLength(pending.length);
  });
});
