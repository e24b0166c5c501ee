/** AgentStore on drizzle: full-text message search, personal notes, tool rules, usage. Always scoped. */
import { and, desc, eq, gte, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { AgentStore, FoundMessage } from '../core/ports.js';
import type { Db } from './client.js';
import { channels, channelTools, conversations, memories, messages, usage } from './schema.js';

/** Messages with where they came from (channel, conversation kind, DM owner), within one workspace. */
function foundMessages(db: Db, scope: Scope) {
  return db
    .select({
      content: messages.content,
      role: messages.role,
      createdAt: messages.createdAt,
      channelExternalId: channels.externalId,
      conversationKind: conversations.kind,
      ownerPrincipalId: conversations.ownerPrincipalId,
    })
    .from(messages)
    .innerJoin(conversations, and(eq(conversations.id, messages.conversationId), eq(conversations.workspaceId, scope.workspaceId)))
    .innerJoin(channels, and(eq(channels.id, conversations.channelId), eq(channels.workspaceId, scope.workspaceId)))
    .$dynamic();
}

export function createAgentStore(db: Db): AgentStore {
  return {
    async searchMessages(scope: Scope, query): Promise<FoundMessage[]> {
      // Exactly two kinds of source: the named non-DM channels, and the one owner's own DMs.
      const sources: SQL[] = [];
      if (query.channelExternalIds.length > 0)
        sources.push(and(inArray(channels.externalId, query.channelExternalIds), ne(conversations.kind, 'dm')) as SQL);
      if (query.dmOwnerPrincipalId)
        sources.push(and(eq(conversations.kind, 'dm'), eq(conversations.ownerPrincipalId, query.dmOwnerPrincipalId)) as SQL);
      if (sources.length === 0) return [];
      // Any of the words matches (a request in plain words rarely holds all of them), best first.
      // 'simple' configuration: no stemming, identical on PostgreSQL and PGlite. Only letters
      // and digits reach to_tsquery, so its operators cannot be injected.
      const words = (query.text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 20);
      if (words.length === 0) return [];
      const tsquery = sql`to_tsquery('simple', ${words.join(' | ')})`;
      const vector = sql`to_tsvector('simple', ${messages.content})`;
      const matches = sql`${vector} @@ ${tsquery}`;
      const rows = await foundMessages(db, scope)
        .where(
          and(
            eq(messages.workspaceId, scope.workspaceId),
            or(...sources),
            matches,
            ...(query.since ? [gte(messages.createdAt, query.since)] : []),
          ),
        )
        .orderBy(desc(sql`ts_rank(${vector}, ${tsquery})`), desc(messages.createdAt))
        .limit(query.limit);
      return rows;
    },

    async recentMessages(scope, channelExternalId, limit) {
      const rows = await foundMessages(db, scope)
        .where(and(eq(messages.workspaceId, scope.workspaceId), eq(channels.externalId, channelExternalId), ne(conversations.kind, 'dm')))
        .orderBy(desc(messages.createdAt))
        .limit(limit);
      return rows.reverse();
    },

    async channelsWithHistory(scope, limit) {
      return db
        .selectDistinct({ externalId: channels.externalId, kind: channels.kind })
        .from(channels)
        .innerJoin(conversations, and(eq(conversations.channelId, channels.id), eq(conversations.workspaceId, scope.workspaceId)))
        .where(and(eq(channels.workspaceId, scope.workspaceId), ne(channels.kind, 'dm')))
        .limit(limit);
    },

    async toolRule(scope, channelExternalId, tool) {
      const [row] = await db
        .select({ allowed: channelTools.allowed })
        .from(channelTools)
        .innerJoin(channels, and(eq(channels.id, channelTools.channelId), eq(channels.workspaceId, scope.workspaceId)))
        .where(and(eq(channelTools.workspaceId, scope.workspaceId), eq(channels.externalId, channelExternalId), eq(channelTools.tool, tool)));
      return row?.allowed;
    },

    async remember(scope, principalId, content) {
      await db.insert(memories).values({ workspaceId: scope.workspaceId, principalId, content });
    },

    async recall(scope, principalId, limit) {
      return db
        .select({ content: memories.content, createdAt: memories.createdAt })
        .from(memories)
        .where(and(eq(memories.workspaceId, scope.workspaceId), eq(memories.principalId, principalId)))
        .orderBy(desc(memories.createdAt))
        .limit(limit);
    },

    async usageToday(scope, principalId) {
      const [row] = await db
        .select({
          calls: sql<number>`coalesce(sum(${usage.calls}), 0)::int`,
          inputTokens: sql<number>`coalesce(sum(${usage.inputTokens}), 0)::int`,
          outputTokens: sql<number>`coalesce(sum(${usage.outputTokens}), 0)::int`,
        })
        .from(usage)
        .where(and(eq(usage.workspaceId, scope.workspaceId), eq(usage.principalId, principalId), sql`${usage.day} = current_date`));
      return { calls: Number(row?.calls ?? 0), inputTokens: Number(row?.inputTokens ?? 0), outputTokens: Number(row?.outputTokens ?? 0) };
    },
  };
}
