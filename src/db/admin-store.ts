/** AdminStore on drizzle: settings, channel switches, tool rules, grants and erasure, each audited in its transaction. */
import { and, eq, inArray, isNotNull, ne, or, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { AdminChange, AdminStore, ChangeResult, ErasureCounts } from '../core/ports.js';
import type { Scope } from '../core/identity.js';
import type { Db } from './client.js';
import { appendAudit } from './audit-store.js';
import { signerOf } from './audit-signing.js';
import {
  auditLog,
  channelTools,
  channels,
  conversations,
  feedback,
  grants,
  inbox,
  knowledgeChunks,
  knowledgeFileJobs,
  memories,
  messages,
  principals,
  scheduledJobs,
  usage,
  workspaceSettings,
  workspaces,
} from './schema.js';
import { pendingConfirmations, toolCredentials, toolOauthStates } from './schema-tools.js';
import { findPrincipalByUserId, upsertChannel } from './turn-store.js';
import { workspaceUsage } from './usage-report.js';
import { formatUsd } from '../core/budgets.js';
import { switchKnowledge } from './knowledge-admin.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];


export const RETENTION_JOB = 'retention';

const show = (v: number | boolean | string | null | undefined, none = 'default'): string => (v === null || v === undefined ? none : String(v));

/** Locks the workspace's settings row (creating it with defaults first) so concurrent changes see each other's values. */
async function lockSettings(tx: Tx, scope: Scope) {
  await tx.insert(workspaceSettings).values({ workspaceId: scope.workspaceId }).onConflictDoNothing();
  const [row] = await tx.select().from(workspaceSettings).where(eq(workspaceSettings.workspaceId, scope.workspaceId)).for('update');
  if (!row) throw new Error('settings row vanished');
  return row;
}

/** A yes/no workspace setting, shown to the admin and in the audit entry as one of its two labels. */
async function setFlag(
  tx: Tx,
  scope: Scope,
  key: 'guestsEnabled' | 'storeContent',
  value: boolean,
  setting: string,
  [no, yes]: [string, string],
): Promise<ChangeResult & { setting: string }> {
  const row = await lockSettings(tx, scope);
  await tx
    .update(workspaceSettings)
    .set({ [key]: value, updatedAt: sql`now()` })
    .where(eq(workspaceSettings.workspaceId, scope.workspaceId));
  return { setting, old: row[key] ? yes : no, new: value ? yes : no };
}

async function applyChange(tx: Tx, scope: Scope, change: AdminChange): Promise<ChangeResult & { setting: string }> {
  switch (change.kind) {
    case 'limit': {
      const row = await lockSettings(tx, scope);
      const old = row[change.key];
      await tx
        .update(workspaceSettings)
        .set({ [change.key]: change.value, updatedAt: sql`now()` })
        .where(eq(workspaceSettings.workspaceId, scope.workspaceId));
      // A new retention period is applied by the next sweep, which is due now.
      if (change.key === 'retentionDays' && change.value !== null)
        await tx
          .insert(scheduledJobs)
          .values({ name: RETENTION_JOB, nextRunAt: sql`now()` })
          .onConflictDoUpdate({ target: scheduledJobs.name, set: { nextRunAt: sql`now()` } });
      const none = change.key === 'retentionDays' ? 'off' : change.key === 'dailyTokens' || change.key === 'rpm' || change.key === 'concurrency' ? 'default' : 'none';
      // Money is shown as dollars, in the answer and the audit entry alike.
      const shown = (v: number | null | undefined) => (/MicroUsd$/.test(change.key) && typeof v === 'number' ? formatUsd(v) : show(v, none));
      return { setting: change.key, old: shown(old), new: shown(change.value) };
    }
    case 'guests':
      return setFlag(tx, scope, 'guestsEnabled', change.enabled, 'guests', ['off', 'on']);
    case 'content':
      return setFlag(tx, scope, 'storeContent', change.keep, 'content', ['hashed', 'kept']);
    case 'agent': {
      const channel = await upsertChannel(tx, scope, change.channel);
      const [row] = await tx
        .select({ agentEnabled: channels.agentEnabled })
        .from(channels)
        .where(and(eq(channels.workspaceId, scope.workspaceId), eq(channels.id, channel.id)))
        .for('update');
      await tx
        .update(channels)
        .set({ agentEnabled: change.enabled })
        .where(and(eq(channels.workspaceId, scope.workspaceId), eq(channels.id, channel.id)));
      return { setting: `agent:${change.channel.id}`, old: row?.agentEnabled === false ? 'off' : 'on', new: change.enabled ? 'on' : 'off' };
    }
    case 'tool': {
      const channel = await upsertChannel(tx, scope, change.channel);
      const [row] = await tx
        .select({ allowed: channelTools.allowed })
        .from(channelTools)
        .where(and(eq(channelTools.workspaceId, scope.workspaceId), eq(channelTools.channelId, channel.id), eq(channelTools.tool, change.tool)));
      await tx
        .insert(channelTools)
        .values({ workspaceId: scope.workspaceId, channelId: channel.id, tool: change.tool, allowed: change.allowed })
        .onConflictDoUpdate({
          target: [channelTools.workspaceId, channelTools.channelId, channelTools.tool],
          set: { allowed: change.allowed, updatedAt: sql`now()` },
        });
      const label = (v: boolean | undefined) => (v === undefined ? 'default' : v ? 'allow' : 'deny');
      return { setting: `tool:${change.channel.id}:${change.tool}`, old: label(row?.allowed), new: label(change.allowed) };
    }
    case 'knowledge':
      return switchKnowledge(tx, scope, change.channel, change.enabled);
    case 'role': {
      const [row] = await tx
        .select({ role: grants.role })
        .from(grants)
        .where(and(eq(grants.workspaceId, scope.workspaceId), eq(grants.principalId, change.principalId)))
        .for('update');
      if (change.role === null) {
        await tx.delete(grants).where(and(eq(grants.workspaceId, scope.workspaceId), eq(grants.principalId, change.principalId)));
      } else {
        await tx
          .insert(grants)
          .values({ workspaceId: scope.workspaceId, principalId: change.principalId, role: change.role })
          .onConflictDoUpdate({ target: [grants.workspaceId, grants.principalId], set: { role: change.role, updatedAt: sql`now()` } });
      }
      return { setting: `role:${change.principalId}`, old: show(row?.role, 'none'), new: show(change.role, 'none') };
    }
    default: {
      const unreachable: never = change;
      return unreachable;
    }
  }
}

export function createAdminStore(db: Db): AdminStore {
  return {
    async apply(scope, actor, change) {
      return db.transaction(async (tx) => {
        const result = await applyChange(tx, scope, change);
        await appendAudit(tx, scope, {
          action: 'admin_change',
          outcome: 'ok',
          actorPrincipalId: actor.principalId,
          channelExternalId: actor.channelExternalId,
          detail: { setting: result.setting, old: result.old, new: result.new },
        }, signerOf(db));
        return { old: result.old, new: result.new };
      });
    },

    privileged: (scope) => privilegedOf(db, scope),

    findPrincipal: (scope, platformUserId) => findPrincipalByUserId(db, scope, platformUserId),

    async platformUserIds(scope, ids) {
      if (ids.length === 0) return new Map();
      const rows = await db
        .select({ id: principals.id, platformUserId: principals.platformUserId })
        .from(principals)
        .where(and(eq(principals.workspaceId, scope.workspaceId), inArray(principals.id, ids)));
      return new Map(rows.map((r) => [r.id, r.platformUserId]));
    },

    async channelState(scope, channelExternalId) {
      const [channel] = await db
        .select({ id: channels.id, agentEnabled: channels.agentEnabled })
        .from(channels)
        .where(and(eq(channels.workspaceId, scope.workspaceId), eq(channels.externalId, channelExternalId)));
      if (!channel) return { agentEnabled: true, tools: {} };
      const rules = await db
        .select({ tool: channelTools.tool, allowed: channelTools.allowed })
        .from(channelTools)
        .where(and(eq(channelTools.workspaceId, scope.workspaceId), eq(channelTools.channelId, channel.id)));
      return { agentEnabled: channel.agentEnabled, tools: Object.fromEntries(rules.map((r) => [r.tool, r.allowed])) };
    },

    async usageToday(scope) {
      const [row] = await db
        .select({
          calls: sql<number>`coalesce(sum(${usage.calls}), 0)::int`,
          inputTokens: sql<number>`coalesce(sum(${usage.inputTokens}), 0)::bigint`,
          outputTokens: sql<number>`coalesce(sum(${usage.outputTokens}), 0)::bigint`,
        })
        .from(usage)
        .where(and(eq(usage.workspaceId, scope.workspaceId), eq(usage.day, sql`current_date`)));
      return { calls: Number(row?.calls ?? 0), inputTokens: Number(row?.inputTokens ?? 0), outputTokens: Number(row?.outputTokens ?? 0) };
    },

    usage: (scope, query) => workspaceUsage(db, scope, query),

    async erase(scope, target, actor) {
      return db.transaction(async (tx) => {
        const counts = await eraseIn(tx, scope, target);
        await appendAudit(tx, scope, {
          action: 'erasure',
          outcome: 'ok',
          actorPrincipalId: actor.principalId,
          channelExternalId: actor.channelExternalId,
          // Only that an erasure happened, of whom (an opaque id) and how much: nothing of the content.
          detail: { target: actor.self ? 'self' : target.principalId, ...counts },
        }, signerOf(db));
        return counts;
      });
    },

    adminsOf: (scope, limit) => listAdmins(db, scope, limit),

    async workspaceOf(scope) {
      const [row] = await db
        .select({ platform: workspaces.platform, externalId: workspaces.externalId, enterpriseId: workspaces.enterpriseId, name: workspaces.name })
        .from(workspaces)
        .where(eq(workspaces.id, scope.workspaceId));
      if (!row) return null;
      return { platform: row.platform, externalId: row.externalId, ...(row.enterpriseId ? { enterpriseId: row.enterpriseId } : {}), name: row.name };
    },
  };
}

async function privilegedOf(db: Db, scope: Scope) {
  return db
    .select({
      id: principals.id,
      platformUserId: principals.platformUserId,
      platformRole: principals.platformRole,
      grantedRole: grants.role,
    })
    .from(principals)
    .leftJoin(grants, and(eq(grants.principalId, principals.id), eq(grants.workspaceId, principals.workspaceId)))
    .where(
      and(
        eq(principals.workspaceId, scope.workspaceId),
        or(inArray(principals.platformRole, ['owner', 'admin']), inArray(grants.role, ['owner', 'admin'])),
      ),
    );
}

async function listAdmins(db: Db, scope: Scope, limit: number): Promise<string[]> {
  // The role decisions use (core/identity effectiveRole): a grant overrides the platform role.
  const role = sql<string>`coalesce(${grants.role}, ${principals.platformRole})`;
  const rows = await db
    .select({ platformUserId: principals.platformUserId })
    .from(principals)
    .leftJoin(grants, and(eq(grants.principalId, principals.id), eq(grants.workspaceId, principals.workspaceId)))
    .where(and(eq(principals.workspaceId, scope.workspaceId), ne(principals.platformRole, 'external'), inArray(role, ['owner', 'admin'])))
    .orderBy(sql`${role} = 'owner' desc`, principals.createdAt)
    .limit(limit);
  return rows.map((r) => r.platformUserId);
}

async function eraseIn(tx: Tx, scope: Scope, target: { principalId: string; platformUserId: string }): Promise<ErasureCounts> {
  const inScope = (t: { workspaceId: AnyPgColumn }) => eq(t.workspaceId, scope.workspaceId);
  // Their questions and the answers to them, in channels and DMs alike (messages first, so the count includes DMs).
  const msgs = await tx
    .delete(messages)
    .where(and(inScope(messages), eq(messages.principalId, target.principalId)))
    .returning({ id: messages.id });
  const dms = await tx
    .delete(conversations)
    .where(and(inScope(conversations), eq(conversations.kind, 'dm'), eq(conversations.ownerPrincipalId, target.principalId)))
    .returning({ id: conversations.id });
  // The ratings and reasons they gave others' answers (those on their own answers went with the answers).
  await tx.delete(feedback).where(and(inScope(feedback), eq(feedback.principalId, target.principalId)));
  const mems = await tx
    .delete(memories)
    .where(and(inScope(memories), eq(memories.principalId, target.principalId)))
    .returning({ id: memories.id });
  const usageRows = await tx
    .delete(usage)
    .where(and(inScope(usage), eq(usage.principalId, target.principalId)))
    .returning({ day: usage.day });
  // Deliveries keep the raw text of what was sent; the one being answered now goes too.
  const inboxRows = await tx
    .delete(inbox)
    .where(and(inScope(inbox), sql`${inbox.envelope} -> 'user' ->> 'id' = ${target.platformUserId}`))
    .returning({ id: inbox.id });
  // Kept audit content is redacted; the chain covers the content's hash, so it still verifies.
  const redacted = await tx
    .update(auditLog)
    .set({ content: null })
    .where(and(inScope(auditLog), eq(auditLog.actorPrincipalId, target.principalId), isNotNull(auditLog.content)))
    .returning({ id: auditLog.id });
  // Their own credentials of connected tools, and calls parked for them (they hold the request's text).
  const credentials = await tx
    .delete(toolCredentials)
    .where(and(inScope(toolCredentials), eq(toolCredentials.principalId, target.principalId)))
    .returning({ id: toolCredentials.id });
  await tx.delete(pendingConfirmations).where(and(inScope(pendingConfirmations), eq(pendingConfirmations.requesterPrincipalId, target.principalId)));
  // A sign-in they started and did not finish must not link them again after they asked to be forgotten.
  await tx.delete(toolOauthStates).where(and(inScope(toolOauthStates), eq(toolOauthStates.principalId, target.principalId)));
  // Knowledge: what they wrote or shared anywhere, and their DMs' chunks (rows deleted, not hidden).
  const chunks = await tx
    .delete(knowledgeChunks)
    .where(
      and(
        inScope(knowledgeChunks),
        or(eq(knowledgeChunks.authorUserId, target.platformUserId), and(eq(knowledgeChunks.channelKind, 'dm'), eq(knowledgeChunks.dmOwnerUserId, target.platformUserId))),
      ),
    )
    .returning({ id: knowledgeChunks.id });
  // Files they shared (or in their DM) waiting to be read: never read after this.
  await tx
    .delete(knowledgeFileJobs)
    .where(
      and(
        inScope(knowledgeFileJobs),
        or(eq(knowledgeFileJobs.authorUserId, target.platformUserId), and(eq(knowledgeFileJobs.channelKind, 'dm'), eq(knowledgeFileJobs.dmOwnerUserId, target.platformUserId))),
      ),
    );
  await tx
    .update(principals)
    .set({ displayName: null, updatedAt: sql`now()` })
    .where(and(inScope(principals), eq(principals.id, target.principalId)));
  return {
    messages: msgs.length,
    memories: mems.length,
    usageRows: usageRows.length,
    dmConversations: dms.length,
    inboxRows: inboxRows.length,
    auditContentRedacted: redacted.length,
    toolCredentials: credentials.length,
    knowledgeChunks: chunks.length,
  };
}
