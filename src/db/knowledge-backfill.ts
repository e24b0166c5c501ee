/**
 * The backfill queue. Its claim: one due channel of any workspace, taken in one statement
 * (`for update skip locked`), so that instances never work on the same channel, and a channel
 * whose lease ran out (its instance died) is taken again where its stored cursor stands.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Scope } from '../core/identity.js';
import type { BackfillClaim, KnowledgeStore } from '../core/ports.js';
import type { Db } from './client.js';
import { col } from './raw.js';
import { writeBatch } from './knowledge-writes.js';
import { knowledgeChannels } from './schema.js';
import { claimedBase, claimedWorkspace, claimLeased } from './leased-claim.js';

const claimedRow = claimedBase.extend({ cursor: z.string().nullable(), pages: col.number });

export async function claimBackfill(db: Db, workerId: string, leaseMs: number): Promise<BackfillClaim | null> {
  const row = await claimLeased(
    db,
    { table: 'knowledge_channels', keys: ['channel_external_id'], state: 'backfill', running: 'running', open: ['pending', 'running'], also: sql`q.enabled`, returning: ['cursor', 'pages'] },
    claimedRow,
    { workerId, leaseMs },
  );
  if (!row) return null;
  return { ...claimedWorkspace(row), channel: { id: row.channel_external_id, kind: row.channel_kind }, cursor: row.cursor, pages: row.pages };
}

const channelRow = (scope: Scope, channelExternalId: string) =>
  and(eq(knowledgeChannels.workspaceId, scope.workspaceId), eq(knowledgeChannels.channelExternalId, channelExternalId));

/** The queue's writes: queue a channel, claim it, store a page's progress, give it back. */
export function backfillQueue(db: Db): Pick<KnowledgeStore, 'requestBackfill' | 'claimBackfill' | 'advanceBackfill' | 'releaseBackfill'> {
  return {
    async requestBackfill(scope, channel) {
      // Queued once: a channel already done, running or switched off keeps its state.
      const rows = await db
        .insert(knowledgeChannels)
        .values({ workspaceId: scope.workspaceId, channelExternalId: channel.id, channelKind: channel.kind, backfill: 'pending' })
        .onConflictDoUpdate({
          target: [knowledgeChannels.workspaceId, knowledgeChannels.channelExternalId],
          set: { backfill: 'pending', attempts: 0, lastError: null, notBefore: null, updatedAt: sql`now()` },
          setWhere: and(eq(knowledgeChannels.enabled, true), inArray(knowledgeChannels.backfill, ['none', 'failed'])),
        })
        .returning({ backfill: knowledgeChannels.backfill });
      return rows.length > 0;
    },

    claimBackfill: (workerId, leaseMs) => claimBackfill(db, workerId, leaseMs),

    // The page's rows and its cursor commit together: a restart resumes after the last page stored whole.
    advanceBackfill: (claim, workerId, progress) =>
      db.transaction(async (tx) => {
        const rows = await tx
          .update(knowledgeChannels)
          .set({
            cursor: progress.cursor,
            pages: sql`${knowledgeChannels.pages} + 1`,
            messages: sql`${knowledgeChannels.messages} + ${progress.messages}`,
            backfill: progress.cursor === null ? 'done' : 'running',
            leaseUntil: progress.cursor === null ? null : sql`now() + ${`${progress.leaseMs} milliseconds`}::interval`,
            claimedBy: progress.cursor === null ? null : workerId,
            attempts: 0,
            lastError: null,
            updatedAt: sql`now()`,
          })
          .where(and(channelRow(claim.scope, claim.channel.id), eq(knowledgeChannels.claimedBy, workerId), eq(knowledgeChannels.backfill, 'running')))
          .returning({ pages: knowledgeChannels.pages });
        // The lease was lost (another instance has the channel): nothing of this page is stored.
        if (rows.length === 0) return false;
        await writeBatch(tx, claim.scope, progress.batch);
        return true;
      }),

    async releaseBackfill(claim, workerId, outcome) {
      await db
        .update(knowledgeChannels)
        .set({
          backfill: outcome.giveUp ? 'failed' : 'running',
          claimedBy: null,
          leaseUntil: null,
          notBefore: sql`now() + ${`${outcome.retryInMs} milliseconds`}::interval`,
          attempts: outcome.error === null ? knowledgeChannels.attempts : sql`${knowledgeChannels.attempts} + 1`,
          lastError: outcome.error?.slice(0, 200) ?? null,
          updatedAt: sql`now()`,
        })
        .where(and(channelRow(claim.scope, claim.channel.id), eq(knowledgeChannels.claimedBy, workerId)));
    },
  };
}
