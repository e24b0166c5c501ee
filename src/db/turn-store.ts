/** TurnStore on drizzle: workspaces, principals, conversations and messages, always scoped. */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { ChannelRef, UserRef, WorkspaceRef } from '../core/envelope.js';
import type { Principal, Scope, UserFacts } from '../core/identity.js';
import type { Conversation, StoredMessage, TurnRecord, TurnStore, WorkspaceSettings } from '../core/ports.js';
import { builtOnce, rowsOf, type Db } from './client.js';
import { appendAudit } from './audit-store.js';
import { channels, conversations, grants, messages, principals, workspaceSettings, workspaces } from './schema.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Executor = Db | Tx;

export function scopeOf(row: { id: string; platform: Scope['platform'] }): Scope {
  return { workspaceId: row.id, platform: row.platform } as Scope;
}

/** Upserts the workspace in one statement. Safe under concurrent first messages. */
export async function upsertWorkspace(db: Executor, ref: WorkspaceRef): Promise<Scope> {
  const [row] = await db
    .insert(workspaces)
    .values({ platform: ref.platform, externalId: ref.externalId, enterpriseId: ref.enterpriseId ?? null })
    // A no-op update so that RETURNING yields the existing row too.
    .onConflictDoUpdate({ target: [workspaces.platform, workspaces.externalId], set: { platform: sql`excluded.platform` } })
    .returning({ id: workspaces.id, platform: workspaces.platform });
  if (!row) throw new Error('workspace upsert returned no row');
  return scopeOf(row);
}

export async function upsertChannel(db: Executor, scope: Scope, channel: ChannelRef): Promise<{ id: string; agentEnabled: boolean }> {
  const [row] = await db
    .insert(channels)
    .values({ workspaceId: scope.workspaceId, externalId: channel.id, kind: channel.kind, name: channel.name ?? null })
    .onConflictDoUpdate({
      target: [channels.workspaceId, channels.externalId],
      set: { name: sql`coalesce(excluded.name, ${channels.name})` },
    })
    .returning({ id: channels.id, agentEnabled: channels.agentEnabled });
  if (!row) throw new Error('channel upsert returned no row');
  return row;
}

const principalColumns = {
  id: principals.id,
  workspaceId: principals.workspaceId,
  platformUserId: principals.platformUserId,
  displayName: principals.displayName,
  homeWorkspaceId: principals.homeWorkspaceId,
  platformRole: principals.platformRole,
  grantedRole: grants.role,
};

function principalQuery(db: Executor) {
  return db
    .select(principalColumns)
    .from(principals)
    .leftJoin(grants, and(eq(grants.principalId, principals.id), eq(grants.workspaceId, principals.workspaceId)))
    .where(and(eq(principals.workspaceId, sql.placeholder('workspaceId')), eq(principals.platformUserId, sql.placeholder('userId'))));
}

type FoundPrincipal = Principal & { homeWorkspaceId: string | null };

export async function findPrincipalByUserId(db: Executor, scope: Scope, platformUserId: string): Promise<FoundPrincipal | null> {
  const [row] = await principalQuery(db).execute({ workspaceId: scope.workspaceId, userId: platformUserId });
  return row ?? null;
}

/** Workspace ids never change once created, so each process resolves a workspace from the database once. */
export function createWorkspaceCache(db: Db, limit = 10_000): (ref: WorkspaceRef) => Promise<Scope> {
  const cache = new Map<string, Scope>();
  return async (ref) => {
    const key = `${ref.platform}:${ref.externalId}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const scope = await upsertWorkspace(db, ref);
    if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
    cache.set(key, scope);
    return scope;
  };
}

export function createTurnStore(db: Db, resolveWorkspace = createWorkspaceCache(db)): TurnStore {
  // The reads every turn makes, built once (see builtOnce).
  const principalByUser = builtOnce(() => principalQuery(db).prepare('principal_by_user'));
  const findPrincipal = async (scope: Scope, userId: string): Promise<FoundPrincipal | null> =>
    (await principalByUser().execute({ workspaceId: scope.workspaceId, userId }))[0] ?? null;
  const conversationByThread = builtOnce(() =>
    db
      .select({
        id: conversations.id,
        kind: conversations.kind,
        ownerPrincipalId: conversations.ownerPrincipalId,
        agentEnabled: channels.agentEnabled,
      })
      .from(conversations)
      .innerJoin(channels, and(eq(channels.id, conversations.channelId), eq(channels.workspaceId, sql.placeholder('workspaceId'))))
      .where(
        and(
          eq(conversations.workspaceId, sql.placeholder('workspaceId')),
          eq(channels.externalId, sql.placeholder('channelId')),
          eq(conversations.threadKey, sql.placeholder('threadKey')),
        ),
      )
      .prepare('conversation_by_thread'),
  );
  const history = builtOnce(() =>
    db
      .select({
        id: messages.id,
        conversationId: messages.conversationId,
        principalId: messages.principalId,
        role: messages.role,
        content: messages.content,
        createdAt: messages.createdAt,
      })
      .from(messages)
      .where(and(eq(messages.workspaceId, sql.placeholder('workspaceId')), eq(messages.conversationId, sql.placeholder('conversationId'))))
      .orderBy(desc(messages.createdAt))
      .limit(sql.placeholder('limit'))
      .prepare('conversation_history'),
  );
  const settings = builtOnce(() => settingsQuery(db).prepare('workspace_settings'));
  return {
    resolveWorkspace,

    async resolvePrincipal(scope, user: UserRef, facts: UserFacts) {
      // Most turns come from people already known with the same facts: a read, no write (and no WAL flush).
      const known = await findPrincipal(scope, user.id);
      const displayName = facts.displayName ?? user.displayName ?? null;
      if (
        known &&
        known.platformRole === facts.platformRole &&
        known.homeWorkspaceId === (user.homeWorkspaceId ?? null) &&
        (displayName === null || known.displayName === displayName)
      )
        return known;
      const [row] = await db
        .insert(principals)
        .values({
          workspaceId: scope.workspaceId,
          platformUserId: user.id,
          homeWorkspaceId: user.homeWorkspaceId ?? null,
          displayName: facts.displayName ?? user.displayName ?? null,
          platformRole: facts.platformRole,
        })
        .onConflictDoUpdate({
          target: [principals.workspaceId, principals.platformUserId],
          set: {
            platformRole: facts.platformRole,
            displayName: sql`coalesce(excluded.display_name, ${principals.displayName})`,
            homeWorkspaceId: sql`excluded.home_workspace_id`,
            updatedAt: sql`now()`,
          },
        })
        .returning({ id: principals.id });
      if (!row) throw new Error('principal upsert returned no row');
      const principal = await findPrincipal(scope, user.id);
      if (!principal) throw new Error('principal vanished after upsert');
      return principal;
    },

    async resolveConversation(scope, input): Promise<Conversation> {
      const [existing] = await conversationByThread().execute({
        workspaceId: scope.workspaceId,
        channelId: input.channel.id,
        threadKey: input.threadKey,
      });
      // An existing thread is read, not rewritten: upserts would write (and flush) a row version per turn.
      if (existing) return { ...existing, channelExternalId: input.channel.id };
      const channel = await upsertChannel(db, scope, input.channel);
      const [row] = await db
        .insert(conversations)
        .values({
          workspaceId: scope.workspaceId,
          channelId: channel.id,
          kind: input.channel.kind,
          threadKey: input.threadKey,
          ownerPrincipalId: input.ownerPrincipalId,
        })
        .onConflictDoUpdate({
          target: [conversations.workspaceId, conversations.channelId, conversations.threadKey],
          set: { kind: sql`excluded.kind` },
        })
        .returning({ id: conversations.id, kind: conversations.kind, ownerPrincipalId: conversations.ownerPrincipalId });
      if (!row) throw new Error('conversation upsert returned no row');
      return { ...row, channelExternalId: input.channel.id, agentEnabled: channel.agentEnabled };
    },

    async listHistory(scope, conversationId, limit): Promise<StoredMessage[]> {
      const rows = await history().execute({ workspaceId: scope.workspaceId, conversationId, limit });
      return rows.reverse();
    },

    async findAnswer(scope, idempotencyKey) {
      const [row] = await db
        .select({ content: messages.content })
        .from(messages)
        .where(
          and(
            eq(messages.workspaceId, scope.workspaceId),
            eq(messages.idempotencyKey, idempotencyKey),
            eq(messages.role, 'assistant'),
          ),
        );
      return row?.content ?? null;
    },

    async recordTurn(scope, turn: TurnRecord) {
      await db.transaction(async (tx) => {
        // Plain SQL: every turn writes these two rows, and building the insert cost more than running it.
        const ws = scope.workspaceId;
        const inserted = rowsOf(
          await tx.execute(sql`insert into messages (workspace_id, conversation_id, principal_id, role, content, idempotency_key, created_at)
            values (${ws}, ${turn.conversationId}, ${turn.principalId}, 'user', ${turn.userText}, ${turn.idempotencyKey}, now()),
              -- One millisecond later keeps question-then-answer order stable in history.
              (${ws}, ${turn.conversationId}, ${turn.principalId}, 'assistant', ${turn.answerText}, ${turn.idempotencyKey}, now() + interval '1 millisecond')
            on conflict do nothing
            returning id`),
        );
        // A re-run of a delivery that was already recorded changes nothing.
        if (inserted.length === 0) return;
        // Usage is not added here: the model gate settles it per call (usage-ledger.ts), so that
        // retries, fallbacks and refused turns are counted once, where the tokens were spent.
        await appendAudit(tx, scope, {
          action: 'turn',
          outcome: 'ok',
          actorPrincipalId: turn.principalId,
          channelExternalId: turn.channelExternalId,
          channelKind: turn.channelKind,
          model: turn.model,
          inputTokens: turn.usage.inputTokens,
          outputTokens: turn.usage.outputTokens,
          latencyMs: turn.latencyMs,
          content: turn.userText,
          detail: { idempotencyKey: turn.idempotencyKey },
        });
      });
    },

    settings: async (scope) => (await settings().execute({ workspaceId: scope.workspaceId }))[0] ?? defaultSettings,
  };
}


const defaultSettings: WorkspaceSettings = {
  storeContent: false,
  rpm: null,
  concurrency: null,
  dailyTokens: null,
  retentionDays: null,
  guestsEnabled: true,
};

function settingsQuery(db: Executor) {
  return db
    .select({
      storeContent: workspaceSettings.storeContent,
      rpm: workspaceSettings.rpm,
      concurrency: workspaceSettings.concurrency,
      dailyTokens: workspaceSettings.dailyTokens,
      retentionDays: workspaceSettings.retentionDays,
      guestsEnabled: workspaceSettings.guestsEnabled,
    })
    .from(workspaceSettings)
    .where(eq(workspaceSettings.workspaceId, sql.placeholder('workspaceId')));
}

