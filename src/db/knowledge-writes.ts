/**
 * The index's write side, inside a caller's transaction: a batch of sources (each replacing what
 * was stored for it) and files queued for reading, written with one statement per kind of write
 * rather than several per message, so that a backfill page (hundreds of messages) is a handful of
 * statements, committed with its cursor. Nothing is stored for a channel an admin switched off.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { fileChunks } from '../core/knowledge/chunks.js';
import type { Scope } from '../core/identity.js';
import type { ChunkInput, KnowledgeBatch, KnowledgePlace, SourceWrite } from '../core/ports.js';
import type { Db } from './client.js';
import { knowledgeChannels, knowledgeChunks, knowledgeFileJobs } from './schema.js';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Rows per insert statement: well under PostgreSQL's 65,535 parameters (12 a row). */
const INSERT_ROWS = 1_000;

async function switchedOff(tx: Tx, scope: Scope, channelIds: string[]): Promise<Set<string>> {
  if (channelIds.length === 0) return new Set();
  const rows = await tx
    .select({ channel: knowledgeChannels.channelExternalId })
    .from(knowledgeChannels)
    .where(and(eq(knowledgeChannels.workspaceId, scope.workspaceId), inArray(knowledgeChannels.channelExternalId, channelIds), eq(knowledgeChannels.enabled, false)));
  return new Set(rows.map((r) => r.channel));
}

/** Queues the batch's files (a file already queued at its place keeps its row); the newly queued ones are stored by name at once. */
async function queueFiles(tx: Tx, scope: Scope, batch: KnowledgeBatch, off: Set<string>): Promise<SourceWrite[]> {
  const files = batch.files.filter((f) => !off.has(f.place.channel.id));
  if (files.length === 0) return [];
  const inserted = await tx
    .insert(knowledgeFileJobs)
    .values(
      files.map((f) => ({
        workspaceId: scope.workspaceId,
        channelExternalId: f.place.channel.id,
        channelKind: f.place.channel.kind,
        dmOwnerUserId: f.place.channel.kind === 'dm' ? f.place.dmOwnerUserId : null,
        fileId: f.file.id,
        name: f.file.name.slice(0, 512),
        mimetype: f.file.mimetype ?? null,
        permalink: f.permalink,
        source: f.file.source ?? null,
        threadId: f.threadId,
        authorUserId: f.authorId,
        sharedAt: f.at,
      })),
    )
    .onConflictDoNothing()
    .returning({ channel: knowledgeFileJobs.channelExternalId, fileId: knowledgeFileJobs.fileId });
  const fresh = new Set(inserted.map((r) => `${r.channel}\u0000${r.fileId}`));
  return files
    .filter((f) => fresh.has(`${f.place.channel.id}\u0000${f.file.id}`))
    .map((f) => ({ place: f.place, source: { kind: 'file' as const, id: f.file.id }, chunks: fileChunks(f.file, null, f, f.permalink) }));
}

function rowsOf(scope: Scope, place: KnowledgePlace, chunks: ChunkInput[]) {
  return chunks.map((c) => ({
    workspaceId: scope.workspaceId,
    channelExternalId: place.channel.id,
    channelKind: place.channel.kind,
    dmOwnerUserId: place.channel.kind === 'dm' ? place.dmOwnerUserId : null,
    sourceKind: c.sourceKind,
    sourceId: c.sourceId,
    threadId: c.threadId,
    authorUserId: c.authorId,
    chunkNo: c.chunkNo,
    content: c.content,
    permalink: c.permalink,
    sourceAt: c.at,
  }));
}

/** Writes a batch in the caller's transaction; answers how many chunks were stored. */
export async function writeBatch(tx: Tx, scope: Scope, batch: KnowledgeBatch): Promise<number> {
  const channelIds = [...new Set([...batch.sources, ...batch.files].map((w) => w.place.channel.id))];
  const off = await switchedOff(tx, scope, channelIds);
  const writes = [...batch.sources, ...(await queueFiles(tx, scope, batch, off))];
  // An edit replaces: the sources' old chunks go (also where the channel is off), one delete per channel and kind.
  const groups = new Map<string, { channel: string; kind: 'message' | 'file'; ids: string[] }>();
  for (const w of writes) {
    const key = `${w.place.channel.id}\u0000${w.source.kind}`;
    const group = groups.get(key) ?? { channel: w.place.channel.id, kind: w.source.kind, ids: [] };
    group.ids.push(w.source.id);
    groups.set(key, group);
  }
  for (const g of groups.values())
    await tx
      .delete(knowledgeChunks)
      .where(
        and(
          eq(knowledgeChunks.workspaceId, scope.workspaceId),
          eq(knowledgeChunks.channelExternalId, g.channel),
          eq(knowledgeChunks.sourceKind, g.kind),
          inArray(knowledgeChunks.sourceId, [...new Set(g.ids)]),
        ),
      );
  const kept = writes.filter((w) => !off.has(w.place.channel.id) && w.chunks.length > 0);
  // The channel is known to the index (listed by `/agent knowledge`, offered to DM searches); a DM is not.
  const channels = new Map(kept.filter((w) => w.place.channel.kind !== 'dm').map((w) => [w.place.channel.id, w.place.channel.kind]));
  if (channels.size > 0)
    await tx
      .insert(knowledgeChannels)
      .values([...channels].map(([id, kind]) => ({ workspaceId: scope.workspaceId, channelExternalId: id, channelKind: kind })))
      .onConflictDoNothing();
  const rows = kept.flatMap((w) => rowsOf(scope, w.place, w.chunks));
  for (let i = 0; i < rows.length; i += INSERT_ROWS) await tx.insert(knowledgeChunks).values(rows.slice(i, i + INSERT_ROWS)).onConflictDoNothing();
  return rows.length;
}
