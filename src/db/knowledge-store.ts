/**
 * KnowledgeStore on drizzle: chunks with their source and audience, full-text (and, with
 * pgvector, vector) search whose membership filter is part of the query, per-channel state and
 * the durable backfill queue. Always scoped by workspace, except the backfill claim, which takes
 * the oldest due channel of any workspace (like the inbox).
 */
import { and, desc, eq, inArray, ne, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Scope } from '../core/identity.js';
import type { ChannelKnowledge, ChunkInput, FoundChunk, KnowledgePlace, KnowledgeQuery, KnowledgeStore } from '../core/ports.js';
import type { Db } from './client.js';
import { col, decodeRows } from './raw.js';
import { knowledgeChannels, knowledgeChunks, knowledgeFileJobs } from './schema.js';
import { backfillQueue } from './knowledge-backfill.js';
import { fileJobQueue, fileStatus } from './knowledge-file-jobs.js';
import { chunkEmbeddings } from './knowledge-vectors.js';
import { writeBatch } from './knowledge-writes.js';
import { vectorLiteral } from './vector.js';

/** Only letters and digits reach to_tsquery, so its operators cannot be injected; any word matches. */
export function tsqueryOf(text: string): SQL | null {
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 20);
  return words.length ? sql`to_tsquery('simple', ${words.join(' | ')})` : null;
}

const found = {
  content: knowledgeChunks.content,
  channelExternalId: knowledgeChunks.channelExternalId,
  channelKind: knowledgeChunks.channelKind,
  dmOwnerUserId: knowledgeChunks.dmOwnerUserId,
  sourceKind: knowledgeChunks.sourceKind,
  sourceId: knowledgeChunks.sourceId,
  authorId: knowledgeChunks.authorUserId,
  permalink: knowledgeChunks.permalink,
  at: knowledgeChunks.sourceAt,
};

/**
 * The audience rule as SQL: the named non-DM channels, and the one owner's own DMs, each a filter
 * of its own (one query each: an index serves each, where an OR of both would serve neither).
 * Nothing else is ever read, so no result has to be filtered away afterwards. Empty when nothing
 * may be read.
 */
export function audienceFilters(scope: Scope, query: Pick<KnowledgeQuery, 'channelExternalIds' | 'dmOwnerUserId'>): SQL[] {
  const ws = eq(knowledgeChunks.workspaceId, scope.workspaceId);
  const sources: SQL[] = [];
  if (query.channelExternalIds.length > 0)
    sources.push(and(ws, ne(knowledgeChunks.channelKind, 'dm'), inArray(knowledgeChunks.channelExternalId, query.channelExternalIds)) as SQL);
  if (query.dmOwnerUserId) sources.push(and(ws, eq(knowledgeChunks.channelKind, 'dm'), eq(knowledgeChunks.dmOwnerUserId, query.dmOwnerUserId)) as SQL);
  return sources;
}

type Ranked = FoundChunk & { id: number };

/**
 * Reciprocal-rank fusion of the full-text and vector rankings: a chunk high in either comes first,
 * one high in both before it (k = 60, the usual constant: no score scale has to be compared).
 */
function fuse(lists: Ranked[][], limit: number): Ranked[] {
  const score = new Map<number, { chunk: Ranked; score: number }>();
  for (const list of lists)
    list.forEach((chunk, rank) => {
      const entry = score.get(chunk.id) ?? { chunk, score: 0 };
      entry.score += 1 / (60 + rank);
      score.set(chunk.id, entry);
    });
  return [...score.values()].sort((a, b) => b.score - a.score).slice(0, limit).map((e) => e.chunk);
}

const inScope = (scope: Scope) => eq(knowledgeChunks.workspaceId, scope.workspaceId);
const channelRow = (scope: Scope, channelExternalId: string) =>
  and(eq(knowledgeChannels.workspaceId, scope.workspaceId), eq(knowledgeChannels.channelExternalId, channelExternalId));

async function replaceSource(db: Db, scope: Scope, place: KnowledgePlace, source: { kind: 'message' | 'file'; id: string }, chunks: ChunkInput[]): Promise<number> {
  return db.transaction((tx) => writeBatch(tx, scope, { sources: [{ place, source, chunks }], files: [] }));
}

async function status(db: Db, scope: Scope, limit: number): Promise<Omit<ChannelKnowledge, 'files'>[]> {
  const rows = decodeRows(
    z.object({
      channel: z.string(),
      kind: z.enum(['dm', 'group', 'channel']),
      enabled: z.boolean(),
      archived: z.boolean(),
      backfill: z.enum(['none', 'pending', 'running', 'done', 'failed']),
      pages: col.number,
      messages: col.number,
      chunks: col.number,
      last_error: z.string().nullable(),
    }),
    await db.execute(sql`
      with counts as (
        select channel_external_id, min(channel_kind) as kind, count(*) as chunks
        from knowledge_chunks where workspace_id = ${scope.workspaceId} and channel_kind <> 'dm'
        group by channel_external_id
      )
      select coalesce(k.channel_external_id, c.channel_external_id) as channel,
             coalesce(k.channel_kind, c.kind, 'channel') as kind,
             coalesce(k.enabled, true) as enabled, coalesce(k.archived, false) as archived,
             coalesce(k.backfill, 'none') as backfill, coalesce(k.pages, 0) as pages,
             coalesce(k.messages, 0) as messages, coalesce(c.chunks, 0) as chunks, k.last_error
      from (select * from knowledge_channels where workspace_id = ${scope.workspaceId} and channel_kind <> 'dm') k
      full join counts c on c.channel_external_id = k.channel_external_id
      order by 1 limit ${limit}`),
  );
  return rows.map((r) => ({
    channelExternalId: r.channel,
    channelKind: r.kind,
    enabled: r.enabled,
    archived: r.archived,
    backfill: r.backfill,
    pages: r.pages,
    messages: r.messages,
    chunks: r.chunks,
    lastError: r.last_error,
  }));
}

/** The channels' state with their shared files' (file-index jobs). */
async function statusWithFiles(db: Db, scope: Scope, limit: number): Promise<ChannelKnowledge[]> {
  const [channels, files] = await Promise.all([status(db, scope, limit), fileStatus(db, scope)]);
  return channels.map((c) => ({ ...c, files: files.get(c.channelExternalId) ?? { indexed: 0, skipped: 0, pending: 0, skippedReasons: [] } }));
}

async function fullText(db: Db, query: KnowledgeQuery, audiences: SQL[]): Promise<Ranked[]> {
  const tsquery = tsqueryOf(query.text);
  if (!tsquery) return [];
  const rank = sql<number>`ts_rank(${knowledgeChunks.tsv}, ${tsquery})`;
  const ranked = await Promise.all(
    audiences.map((audience) =>
      db
        .select({ ...found, id: knowledgeChunks.id, rank })
        .from(knowledgeChunks)
        .where(and(audience, sql`${knowledgeChunks.tsv} @@ ${tsquery}`, ...(query.since ? [sql`${knowledgeChunks.sourceAt} >= ${query.since}`] : [])))
        .orderBy(desc(rank), desc(knowledgeChunks.sourceAt))
        .limit(query.limit),
    ),
  );
  return ranked
    .flat()
    .sort((a, b) => Number(b.rank) - Number(a.rank) || b.at.getTime() - a.at.getTime())
    .slice(0, query.limit)
    .map(({ rank: _rank, ...chunk }) => chunk);
}

/**
 * The vector leg: the chunks nearest the query's embedding (cosine distance) among those each
 * audience filter allows, as for full text, and only vectors of the configured model.
 */
async function similar(db: Db, model: string | null, query: KnowledgeQuery, audiences: SQL[]): Promise<Ranked[]> {
  if (!model || !query.embedding?.length) return [];
  const distance = sql<number>`embedding <=> ${vectorLiteral(query.embedding)}::vector`;
  const ranked = await Promise.all(
    audiences.map((audience) =>
      db
        .select({ ...found, id: knowledgeChunks.id, distance })
        .from(knowledgeChunks)
        .where(and(audience, sql`embedding_model = ${model}`, ...(query.since ? [sql`${knowledgeChunks.sourceAt} >= ${query.since}`] : [])))
        .orderBy(distance)
        .limit(query.limit),
    ),
  );
  return ranked
    .flat()
    .sort((a, b) => Number(a.distance) - Number(b.distance))
    .slice(0, query.limit)
    .map(({ distance: _distance, ...chunk }) => chunk);
}

async function fileSources(db: Db, scope: Scope, fileId: string) {
  const rows = await db
    .selectDistinctOn([knowledgeChunks.channelExternalId], {
      channelExternalId: knowledgeChunks.channelExternalId,
      channelKind: knowledgeChunks.channelKind,
      dmOwnerUserId: knowledgeChunks.dmOwnerUserId,
      threadId: knowledgeChunks.threadId,
      authorId: knowledgeChunks.authorUserId,
      at: knowledgeChunks.sourceAt,
      permalink: knowledgeChunks.permalink,
    })
    .from(knowledgeChunks)
    .where(and(inScope(scope), eq(knowledgeChunks.sourceKind, 'file'), eq(knowledgeChunks.sourceId, fileId)))
    .limit(50);
  return rows.map((r) => ({
    place: { channel: { id: r.channelExternalId, kind: r.channelKind }, dmOwnerUserId: r.dmOwnerUserId },
    threadId: r.threadId,
    authorId: r.authorId,
    at: r.at,
    permalink: r.permalink,
  }));
}

/**
 * Writes and reads of chunks; the backfill queue is in knowledge-backfill.ts. `vector` names the
 * embedding model when pgvector is enabled (vector.ts): searches then add the vector leg.
 */
export function createKnowledgeStore(db: Db, options: { vector: false | { model: string } }): KnowledgeStore {
  const model = options.vector ? options.vector.model : null;
  return {
    replaceSource: (scope, place, source, chunks) => replaceSource(db, scope, place, source, chunks),
    storeBatch: (scope, batch) => db.transaction((tx) => writeBatch(tx, scope, batch)),
    async deleteMessage(scope, channelExternalId, messageId) {
      const rows = await db
        .delete(knowledgeChunks)
        .where(and(inScope(scope), eq(knowledgeChunks.channelExternalId, channelExternalId), eq(knowledgeChunks.sourceKind, 'message'), eq(knowledgeChunks.sourceId, messageId)))
        .returning({ id: knowledgeChunks.id });
      return rows.length;
    },

    async deleteFile(scope, fileId) {
      // Its jobs first: a read in progress then finds its claim gone and stores nothing.
      await db.delete(knowledgeFileJobs).where(and(eq(knowledgeFileJobs.workspaceId, scope.workspaceId), eq(knowledgeFileJobs.fileId, fileId)));
      const rows = await db
        .delete(knowledgeChunks)
        .where(and(inScope(scope), eq(knowledgeChunks.sourceKind, 'file'), eq(knowledgeChunks.sourceId, fileId)))
        .returning({ id: knowledgeChunks.id });
      return rows.length;
    },

    async deleteChannel(scope, channelExternalId) {
      await db.delete(knowledgeChannels).where(channelRow(scope, channelExternalId));
      await db
        .delete(knowledgeFileJobs)
        .where(and(eq(knowledgeFileJobs.workspaceId, scope.workspaceId), eq(knowledgeFileJobs.channelExternalId, channelExternalId)));
      const rows = await db
        .delete(knowledgeChunks)
        .where(and(inScope(scope), eq(knowledgeChunks.channelExternalId, channelExternalId)))
        .returning({ id: knowledgeChunks.id });
      return rows.length;
    },

    fileSources: (scope, fileId) => fileSources(db, scope, fileId),

    async setArchived(scope, channelExternalId, archived) {
      await db
        .insert(knowledgeChannels)
        .values({ workspaceId: scope.workspaceId, channelExternalId, archived })
        .onConflictDoUpdate({ target: [knowledgeChannels.workspaceId, knowledgeChannels.channelExternalId], set: { archived, updatedAt: sql`now()` } });
    },

    async search(scope, query) {
      const audiences = audienceFilters(scope, query);
      if (audiences.length === 0) return [];
      const [text, vector] = await Promise.all([fullText(db, query, audiences), similar(db, model, query, audiences)]);
      return fuse([text, vector], query.limit).map(({ id: _id, ...chunk }) => chunk);
    },

    async channels(scope, limit) {
      return db
        .select({ externalId: knowledgeChannels.channelExternalId, kind: knowledgeChannels.channelKind })
        .from(knowledgeChannels)
        .where(
          and(
            eq(knowledgeChannels.workspaceId, scope.workspaceId),
            ne(knowledgeChannels.channelKind, 'dm'),
            eq(knowledgeChannels.enabled, true),
            eq(knowledgeChannels.archived, false),
          ),
        )
        .orderBy(desc(knowledgeChannels.updatedAt))
        .limit(limit);
    },

    status: (scope, limit) => statusWithFiles(db, scope, limit),
    ...backfillQueue(db),
    ...fileJobQueue(db),
    ...(model ? { embeddings: chunkEmbeddings(db, model) } : {}),
  };
}
