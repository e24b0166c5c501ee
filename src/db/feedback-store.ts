/** FeedbackStore on drizzle: one row per person and answer (a unique index makes a second click a no-op). */
import { and, desc, eq, gte, isNotNull, isNull, sql } from 'drizzle-orm';
import type { FeedbackStore } from '../core/ports.js';
import type { Db } from './client.js';
import { channels, conversations, feedback, messages } from './schema.js';

const MAX_REASONS = 5;

export function createFeedbackStore(db: Db): FeedbackStore {
  return {
    async answer(scope, idempotencyKey) {
      const [row] = await db
        .select({
          messageId: messages.id,
          conversationKind: conversations.kind,
          channelExternalId: channels.externalId,
          ownerPrincipalId: conversations.ownerPrincipalId,
        })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .innerJoin(channels, eq(channels.id, conversations.channelId))
        .where(and(eq(messages.workspaceId, scope.workspaceId), eq(messages.idempotencyKey, idempotencyKey), eq(messages.role, 'assistant')))
        .limit(1);
      return row ?? null;
    },

    async give(scope, input) {
      const rows = await db
        .insert(feedback)
        .values({ workspaceId: scope.workspaceId, messageId: input.messageId, principalId: input.principalId, rating: input.rating })
        .onConflictDoNothing()
        .returning({ id: feedback.id });
      return rows.length === 1 ? 'stored' : 'already';
    },

    async addReason(scope, input) {
      const rows = await db
        .update(feedback)
        .set({ reason: input.reason })
        .where(
          and(
            eq(feedback.workspaceId, scope.workspaceId),
            eq(feedback.messageId, input.messageId),
            eq(feedback.principalId, input.principalId),
            eq(feedback.rating, 'down'),
            isNull(feedback.reason),
          ),
        )
        .returning({ id: feedback.id });
      return rows.length === 1;
    },

    async summary(scope, since) {
      const day = sql<string>`to_char(${feedback.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
      const [days, reasons] = await Promise.all([
        db
          .select({ day, up: sql<number>`count(*) filter (where ${feedback.rating} = 'up')::int`, down: sql<number>`count(*) filter (where ${feedback.rating} = 'down')::int` })
          .from(feedback)
          .where(and(eq(feedback.workspaceId, scope.workspaceId), gte(feedback.createdAt, since)))
          .groupBy(day)
          .orderBy(day),
        db
          .select({ reason: feedback.reason, at: feedback.createdAt })
          .from(feedback)
          .where(and(eq(feedback.workspaceId, scope.workspaceId), gte(feedback.createdAt, since), isNotNull(feedback.reason)))
          .orderBy(desc(feedback.createdAt))
          .limit(MAX_REASONS),
      ]);
      const total = (k: 'up' | 'down') => days.reduce((n, d) => n + Number(d[k]), 0);
      return {
        up: total('up'),
        down: total('down'),
        days: days.map((d) => ({ day: d.day, up: Number(d.up), down: Number(d.down) })),
        reasons: reasons.map((r) => ({ reason: r.reason ?? '', at: r.at })),
      };
    },
  };
}
