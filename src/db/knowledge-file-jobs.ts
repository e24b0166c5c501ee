/**
 * The durable queue of shared files to read into the index. A job is claimed by one worker of any
 * instance (`for update skip locked`, with a lease: a job whose instance died is taken again), and
 * its outcome is stored with its chunks in one transaction that holds only while the claim does:
 * a file deleted or changed while it was being read stores nothing (it was deleted, or it is read
 * again). Per channel counts for `/agent knowledge`.
 */
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Scope } from '../core/identity.js';
import type { ChannelKnowledge, FileIndexQueue, FileJobClaim } from '../core/ports.js';
import type { Db } from './client.js';
import { writeBatch } from './knowledge-writes.js';
import { col, decodeRows } from './raw.js';
import { knowledgeFileJobs } from './schema.js';
import { claimedBase, claimedWorkspace, claimLeased } from './leased-claim.js';

const claimedRow = claimedBase.extend({
  dm_owner_user_id: z.string().nullable(),
  file_id: z.string(),
  name: z.string(),
  mimetype: z.string().nullable(),
  permalink: z.string().nullable(),
  source: z.record(z.string(), z.unknown()).nullable(),
  thread_id: z.string().nullable(),
  author_user_id: z.string().nullable(),
  shared_at: col.date,
  attempts: col.number,
});

async function claimFileJob(db: Db, workerId: string, leaseMs: number): Promise<FileJobClaim | null> {
  const row = await claimLeased(
    db,
    {
      table: 'knowledge_file_jobs',
      keys: ['channel_external_id', 'file_id'],
      state: 'status',
      running: 'running',
      open: ['pending', 'running'],
      returning: ['dm_owner_user_id', 'file_id', 'name', 'mimetype', 'permalink', 'source', 'thread_id', 'author_user_id', 'shared_at', 'attempts'],
    },
    claimedRow,
    { workerId, leaseMs },
  );
  if (!row) return null;
  return {
    ...claimedWorkspace(row),
    place: { channel: { id: row.channel_external_id, kind: row.channel_kind }, dmOwnerUserId: row.dm_owner_user_id },
    file: { id: row.file_id, name: row.name, ...(row.mimetype ? { mimetype: row.mimetype } : {}), permalink: row.permalink, ...(row.source ? { source: row.source } : {}) },
    threadId: row.thread_id,
    authorId: row.author_user_id,
    at: row.shared_at,
    permalink: row.permalink,
    attempts: row.attempts,
  };
}

/** The claimed job's row, while this worker holds it. */
const held = (claim: FileJobClaim, workerId: string) =>
  and(
    eq(knowledgeFileJobs.workspaceId, claim.scope.workspaceId),
    eq(knowledgeFileJobs.channelExternalId, claim.place.channel.id),
    eq(knowledgeFileJobs.fileId, claim.file.id),
    eq(knowledgeFileJobs.claimedBy, workerId),
    eq(knowledgeFileJobs.status, 'running'),
  );

export function fileJobQueue(db: Db): FileIndexQueue {
  return {
    claimFileJob: (workerId, leaseMs) => claimFileJob(db, workerId, leaseMs),

    completeFileJob: (claim, workerId, outcome) =>
      db.transaction(async (tx) => {
        const rows = await tx
          .update(knowledgeFileJobs)
          .set({
            status: outcome.status,
            reason: outcome.reason?.slice(0, 300) ?? null,
            chunks: outcome.status === 'indexed' ? outcome.chunks.length : 0,
            claimedBy: null,
            leaseUntil: null,
            updatedAt: sql`now()`,
          })
          .where(held(claim, workerId))
          .returning({ fileId: knowledgeFileJobs.fileId });
        if (rows.length === 0) return false;
        await writeBatch(tx, claim.scope, { sources: [{ place: claim.place, source: { kind: 'file', id: claim.file.id }, chunks: outcome.chunks }], files: [] });
        return true;
      }),

    async failFileJob(claim, workerId, failure) {
      await db
        .update(knowledgeFileJobs)
        .set({
          status: failure.giveUp ? 'skipped' : 'pending',
          reason: failure.reason.slice(0, 300),
          attempts: sql`${knowledgeFileJobs.attempts} + 1`,
          claimedBy: null,
          leaseUntil: null,
          notBefore: sql`now() + ${`${failure.retryInMs} milliseconds`}::interval`,
          updatedAt: sql`now()`,
        })
        .where(held(claim, workerId));
    },

    async releaseFileJob(claim, workerId) {
      await db.update(knowledgeFileJobs).set({ status: 'pending', claimedBy: null, leaseUntil: null, updatedAt: sql`now()` }).where(held(claim, workerId));
    },

    async requeueFile(scope, fileId) {
      // A claim in progress is dropped with it: that worker's outcome is not stored, the new content is read.
      const rows = await db
        .update(knowledgeFileJobs)
        .set({ status: 'pending', attempts: 0, reason: null, notBefore: null, claimedBy: null, leaseUntil: null, updatedAt: sql`now()` })
        .where(and(eq(knowledgeFileJobs.workspaceId, scope.workspaceId), eq(knowledgeFileJobs.fileId, fileId)))
        .returning({ fileId: knowledgeFileJobs.fileId });
      return rows.length;
    },
  };
}

/** Skip reasons shown per channel (the latest). */
const REASONS_SHOWN = 3;

/** Per channel (not DMs: nobody but their owner sees anything of them): files indexed, skipped (latest reasons), waiting. */
export async function fileStatus(db: Db, scope: Scope): Promise<Map<string, ChannelKnowledge['files']>> {
  const counts = decodeRows(
    z.object({ channel: z.string(), indexed: col.number, skipped: col.number, pending: col.number }),
    await db.execute(sql`
      select channel_external_id as channel,
             count(*) filter (where status = 'indexed') as indexed,
             count(*) filter (where status = 'skipped') as skipped,
             count(*) filter (where status in ('pending', 'running')) as pending
      from knowledge_file_jobs where workspace_id = ${scope.workspaceId} and channel_kind <> 'dm'
      group by channel_external_id`),
  );
  const reasons = decodeRows(
    z.object({ channel: z.string(), name: z.string(), reason: z.string().nullable() }),
    await db.execute(sql`
      select channel, name, reason from (
        select channel_external_id as channel, name, reason, row_number() over (partition by channel_external_id order by updated_at desc) as n
        from knowledge_file_jobs where workspace_id = ${scope.workspaceId} and channel_kind <> 'dm' and status = 'skipped'
      ) r where n <= ${REASONS_SHOWN} order by channel, n`),
  );
  const out = new Map<string, ChannelKnowledge['files']>();
  for (const c of counts) out.set(c.channel, { indexed: c.indexed, skipped: c.skipped, pending: c.pending, skippedReasons: [] });
  for (const r of reasons) out.get(r.channel)?.skippedReasons.push({ name: r.name, reason: r.reason ?? 'not read' });
  return out;
}
