/**
 * Connected tools' records on drizzle: parked confirmations (every transition one conditional
 * UPDATE), the admins' confirm rules (audited in their transaction), and credentials sealed with
 * the SecretBox like the platform tokens.
 */
import { signerOf } from './audit-signing.js';
import { and, eq, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { envelopeSchema } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { ConfirmationStore, ConfirmMode, ConfirmRules, CredentialStore, PendingConfirmation } from '../core/ports.js';
import { matchesToolPattern } from '../core/confirm/rules.js';
import type { SecretBox } from '../secrets.js';
import type { Db } from './client.js';
import { appendAudit } from './audit-store.js';
import { pendingConfirmations as pc, toolConfirmRules, toolCredentials, toolOauthStates } from './schema-tools.js';

/** Started OAuth sign-ins beside the credentials they end in (one import for the composition root). */
export { createOAuthStateStore } from './oauth-state-store.js';

type Row = typeof pc.$inferSelect;

function confirmationOf(row: Row): PendingConfirmation {
  return {
    id: row.id,
    requesterPrincipalId: row.requesterPrincipalId,
    requesterUserId: row.requesterUserId,
    channelExternalId: row.channelExternalId,
    tool: row.tool,
    input: row.input,
    envelope: envelopeSchema.parse(row.envelope),
    state: row.state,
    decidedByUserId: row.decidedByUserId,
    result: row.result,
    expiresAt: row.expiresAt,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const mine = (scope: Scope, id: string) => and(eq(pc.workspaceId, scope.workspaceId), eq(pc.id, id));

export function createConfirmationStore(db: Db): ConfirmationStore {
  return {
    async park(scope, input) {
      const [row] = await db
        .insert(pc)
        .values({
          workspaceId: scope.workspaceId,
          sourceKey: input.sourceKey,
          requesterPrincipalId: input.requesterPrincipalId,
          requesterUserId: input.requesterUserId,
          channelExternalId: input.channelExternalId,
          tool: input.tool,
          input: input.input ?? null,
          envelope: JSON.parse(JSON.stringify(input.envelope)) as Record<string, unknown>,
          expiresAt: new Date(Date.now() + input.ttlMs),
        })
        .onConflictDoNothing({ target: [pc.workspaceId, pc.sourceKey] })
        .returning();
      if (row) return confirmationOf(row);
      // A re-run of the same delivery: the call it parked before.
      const [existing] = await db.select().from(pc).where(and(eq(pc.workspaceId, scope.workspaceId), eq(pc.sourceKey, input.sourceKey)));
      if (!existing) throw new Error('parked confirmation vanished');
      return confirmationOf(existing);
    },
    async find(scope, id) {
      if (!UUID.test(id)) return null;
      const [row] = await db.select().from(pc).where(mine(scope, id));
      return row ? confirmationOf(row) : null;
    },
    async decide(scope, id, decision, byUserId) {
      if (!UUID.test(id)) return null;
      const [row] = await db
        .update(pc)
        .set({ state: decision, decidedByUserId: byUserId, decidedAt: sql`now()` })
        .where(and(mine(scope, id), eq(pc.state, 'pending'), gt(pc.expiresAt, sql`now()`)))
        .returning();
      return row ? confirmationOf(row) : null;
    },
    async claimRun(scope, id) {
      const rows = await db.update(pc).set({ state: 'running' }).where(and(mine(scope, id), eq(pc.state, 'confirmed'))).returning({ id: pc.id });
      return rows.length === 1;
    },
    async finishRun(scope, id, result) {
      await db.update(pc).set({ state: 'done', result }).where(and(mine(scope, id), eq(pc.state, 'running')));
    },
    async sweep(now, keepMs) {
      const expired = await db
        .update(pc)
        .set({ state: 'expired' })
        .where(and(eq(pc.state, 'pending'), lte(pc.expiresAt, now)))
        .returning({ id: pc.id });
      await db.delete(pc).where(and(inArray(pc.state, ['cancelled', 'expired', 'done']), lt(pc.expiresAt, new Date(now.getTime() - keepMs))));
      // Sign-ins through a server's OAuth that were never finished: their state can no longer be used.
      await db.delete(toolOauthStates).where(lte(toolOauthStates.expiresAt, now));
      return expired.length;
    },
  };
}

export function createConfirmRules(db: Db): ConfirmRules {
  return {
    async modeFor(scope, channelExternalId, tool) {
      const rules = await db
        .select({ channel: toolConfirmRules.channelExternalId, pattern: toolConfirmRules.pattern, mode: toolConfirmRules.mode })
        .from(toolConfirmRules)
        .where(and(eq(toolConfirmRules.workspaceId, scope.workspaceId), or(eq(toolConfirmRules.channelExternalId, channelExternalId), eq(toolConfirmRules.channelExternalId, '*'))));
      return pickRule(rules, channelExternalId, tool);
    },
    async set(scope, rule, actorPrincipalId) {
      return db.transaction(async (tx) => {
        const key = and(
          eq(toolConfirmRules.workspaceId, scope.workspaceId),
          eq(toolConfirmRules.channelExternalId, rule.channelExternalId),
          eq(toolConfirmRules.pattern, rule.pattern),
        );
        const [before] = await tx.select({ mode: toolConfirmRules.mode }).from(toolConfirmRules).where(key).for('update');
        await tx
          .insert(toolConfirmRules)
          .values({ workspaceId: scope.workspaceId, ...rule })
          .onConflictDoUpdate({ target: [toolConfirmRules.workspaceId, toolConfirmRules.channelExternalId, toolConfirmRules.pattern], set: { mode: rule.mode, updatedAt: sql`now()` } });
        const old = before?.mode ?? null;
        await appendAudit(tx, scope, {
          action: 'admin_change',
          outcome: 'ok',
          actorPrincipalId,
          channelExternalId: rule.channelExternalId === '*' ? null : rule.channelExternalId,
          detail: { setting: `tool_confirm:${rule.channelExternalId}:${rule.pattern}`, old: old ?? 'default', new: rule.mode },
        }, signerOf(db));
        return { old };
      });
    },
  };
}

/**
 * The channel's rules before the workspace's; within them the most specific pattern (the longest
 * without its wildcards) wins, so `github.delete_*` overrides `github.*`.
 */
function pickRule(rules: { channel: string; pattern: string; mode: ConfirmMode }[], channel: string, tool: string): ConfirmMode | undefined {
  const specificity = (p: string) => p.replace(/\*/g, '').length;
  for (const where of [channel, '*']) {
    const matching = rules.filter((r) => r.channel === where && matchesToolPattern(r.pattern, tool));
    matching.sort((a, b) => specificity(b.pattern) - specificity(a.pattern));
    if (matching[0]) return matching[0].mode;
  }
  return undefined;
}

export function createCredentialStore(db: Db, secrets: SecretBox): CredentialStore {
  const owner = (scope: Scope, connection: string, principalId: string | null) =>
    and(
      eq(toolCredentials.workspaceId, scope.workspaceId),
      eq(toolCredentials.connection, connection),
      principalId === null ? isNull(toolCredentials.principalId) : eq(toolCredentials.principalId, principalId),
    );
  return {
    async save(scope, connection, principalId, secret, kind = 'token') {
      const sealed = secrets.seal(secret);
      return db.transaction(async (tx) => {
        const deleted = await tx.delete(toolCredentials).where(owner(scope, connection, principalId)).returning({ id: toolCredentials.id });
        await tx.insert(toolCredentials).values({ workspaceId: scope.workspaceId, connection, principalId, kind, sealed });
        return { replaced: deleted.length > 0 };
      });
    },
    async read(scope, connection, principalId) {
      const [row] = await db.select({ sealed: toolCredentials.sealed, kind: toolCredentials.kind }).from(toolCredentials).where(owner(scope, connection, principalId));
      return row ? { secret: secrets.open(row.sealed), kind: row.kind } : null;
    },
    async unlink(scope, connection, principalId) {
      const rows = await db.delete(toolCredentials).where(owner(scope, connection, principalId)).returning({ id: toolCredentials.id });
      return rows.length > 0;
    },
    async linked(scope, principalId) {
      const rows = await db
        .select({ connection: toolCredentials.connection })
        .from(toolCredentials)
        .where(and(eq(toolCredentials.workspaceId, scope.workspaceId), eq(toolCredentials.principalId, principalId)));
      return rows.map((r) => r.connection).sort();
    },
    async forget(scope, principalId) {
      const rows = await db
        .delete(toolCredentials)
        .where(and(eq(toolCredentials.workspaceId, scope.workspaceId), eq(toolCredentials.principalId, principalId)))
        .returning({ id: toolCredentials.id });
      return rows.length;
    },
  };
}
