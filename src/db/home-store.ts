/** HomeReads and AssistantThreads on drizzle: usage over a period, channels with admin rules, assistant threads. Always scoped. */
import { and, asc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import type { AssistantThreads, ChannelRules, HomeReads } from '../core/ports.js';
import type { Db } from './client.js';
import { assistantThreads, channels, channelTools, usage } from './schema.js';

export function createHomeReads(db: Db): HomeReads {
  return {
    async usageSince(scope, since, principalId) {
      const [row] = await db
        .select({
          calls: sql<number>`coalesce(sum(${usage.calls}), 0)::bigint`,
          inputTokens: sql<number>`coalesce(sum(${usage.inputTokens}), 0)::bigint`,
          outputTokens: sql<number>`coalesce(sum(${usage.outputTokens}), 0)::bigint`,
          costMicroUsd: sql<number>`coalesce(sum(${usage.costMicroUsd}), 0)::bigint`,
        })
        .from(usage)
        .where(and(eq(usage.workspaceId, scope.workspaceId), gte(usage.day, since), principalId ? eq(usage.principalId, principalId) : undefined));
      return {
        calls: Number(row?.calls ?? 0),
        inputTokens: Number(row?.inputTokens ?? 0),
        outputTokens: Number(row?.outputTokens ?? 0),
        costMicroUsd: Number(row?.costMicroUsd ?? 0),
      };
    },

    async channelRules(scope, limit) {
      const withTools = db.select({ id: channelTools.channelId }).from(channelTools).where(eq(channelTools.workspaceId, scope.workspaceId));
      const rows = await db
        .select({ id: channels.id, externalId: channels.externalId, name: channels.name, agentEnabled: channels.agentEnabled })
        .from(channels)
        .where(and(eq(channels.workspaceId, scope.workspaceId), or(eq(channels.agentEnabled, false), inArray(channels.id, withTools))))
        .orderBy(asc(channels.externalId))
        .limit(limit);
      if (rows.length === 0) return [];
      const rules = await db
        .select({ channelId: channelTools.channelId, tool: channelTools.tool, allowed: channelTools.allowed })
        .from(channelTools)
        .where(and(eq(channelTools.workspaceId, scope.workspaceId), inArray(channelTools.channelId, rows.map((r) => r.id))));
      return rows.map((r): ChannelRules => ({
        externalId: r.externalId,
        name: r.name,
        agentEnabled: r.agentEnabled,
        tools: Object.fromEntries(rules.filter((t) => t.channelId === r.id).map((t) => [t.tool, t.allowed])),
      }));
    },
  };
}

export function createAssistantThreads(db: Db): AssistantThreads {
  return {
    async remember(scope, thread, contextChannelId) {
      await db
        .insert(assistantThreads)
        .values({ workspaceId: scope.workspaceId, channelId: thread.channelId, threadTs: thread.threadTs, contextChannelId })
        .onConflictDoUpdate({
          target: [assistantThreads.workspaceId, assistantThreads.channelId, assistantThreads.threadTs],
          set: { contextChannelId, updatedAt: sql`now()` },
        });
    },

    async ask(scope, thread) {
      const where = and(
        eq(assistantThreads.workspaceId, scope.workspaceId),
        eq(assistantThreads.channelId, thread.channelId),
        eq(assistantThreads.threadTs, thread.threadTs),
      );
      // One statement decides who titles the thread: the update that flips `titled` from false.
      const [first] = await db
        .update(assistantThreads)
        .set({ titled: true })
        .where(and(where, eq(assistantThreads.titled, false)))
        .returning({ contextChannelId: assistantThreads.contextChannelId });
      if (first) return { contextChannelId: first.contextChannelId, firstQuestion: true };
      const [seen] = await db.select({ contextChannelId: assistantThreads.contextChannelId }).from(assistantThreads).where(where);
      return seen ? { contextChannelId: seen.contextChannelId, firstQuestion: false } : null;
    },
  };
}
