/**
 * `/agent knowledge #channel on|off`, inside the admin change's transaction (audited there with
 * old and new value). Off deletes the channel's chunks and file jobs and stops indexing it; on indexes it again
 * from the start (a backfill is queued).
 */
import { and, eq, sql } from 'drizzle-orm';
import type { ChannelRef } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { Db } from './client.js';
import { knowledgeChannels, knowledgeChunks, knowledgeFileJobs } from './schema.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export async function switchKnowledge(tx: Tx, scope: Scope, channel: ChannelRef, enabled: boolean): Promise<{ setting: string; old: string; new: string }> {
  const where = and(eq(knowledgeChannels.workspaceId, scope.workspaceId), eq(knowledgeChannels.channelExternalId, channel.id));
  await tx.insert(knowledgeChannels).values({ workspaceId: scope.workspaceId, channelExternalId: channel.id, channelKind: channel.kind }).onConflictDoNothing();
  const [row] = await tx.select({ enabled: knowledgeChannels.enabled }).from(knowledgeChannels).where(where).for('update');
  const was = row?.enabled !== false;
  if (was !== enabled) {
    if (!enabled) {
      await tx.delete(knowledgeChunks).where(and(eq(knowledgeChunks.workspaceId, scope.workspaceId), eq(knowledgeChunks.channelExternalId, channel.id)));
      // Its files are not read any more either (a read in progress finds its claim gone).
      await tx.delete(knowledgeFileJobs).where(and(eq(knowledgeFileJobs.workspaceId, scope.workspaceId), eq(knowledgeFileJobs.channelExternalId, channel.id)));
      await tx
        .update(knowledgeChannels)
        .set({ enabled: false, backfill: 'none', cursor: null, pages: 0, messages: 0, claimedBy: null, leaseUntil: null, updatedAt: sql`now()` })
        .where(where);
    } else {
      await tx
        .update(knowledgeChannels)
        .set({ enabled: true, backfill: 'pending', cursor: null, pages: 0, messages: 0, attempts: 0, lastError: null, notBefore: null, updatedAt: sql`now()` })
        .where(where);
    }
  }
  return { setting: `knowledge:${channel.id}`, old: was ? 'on' : 'off', new: enabled ? 'on' : 'off' };
}
