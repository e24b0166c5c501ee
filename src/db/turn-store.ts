/** TurnStore on drizzle: workspaces, principals, conversations and messages, always scoped. */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { ChannelRef, UserRef, WorkspaceRef } from '../core/envelope.js';
import type { Principal, Scope, UserFacts } from '../core/identity.js';
import type { Conversation, OpenTurnInput, StoredMessage, TurnRecord, TurnStore, WorkspaceSettings } from '../core/ports.js';
import { openTurnStepByStep } from '../core/turn-context.js';
import { builtOnce, rowsOf, type Db } from './client.js';
import { reserveAuditHeads, writeAuditEntries, type ReservedHead } from './audit-store.js';
import { groupCommit } from './group-commit.js';
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
  // Turns that finish together are recorded in one transaction (group-commit.ts); one that cannot
  // be written (its conversation was just erased) is then retried alone and fails alone.
  const record = groupCommit<{ scope: Scope; turn: TurnRecord }, void>(
    async (batch) => {
      await db.transaction((tx) => recordTurns(tx, batch));
      return batch.map(() => undefined);
    },
    { retryAlone: true },
  );
  // Turns claimed together start together: their reads go in one statement too.
  const readContext = groupCommit((batch: ContextRequest[]) => readTurnContexts(db, batch));
  const store: TurnStore = {
    resolveWorkspace,

    async openTurn(scope, input) {
      const found = await readContext({ scope, input });
      // Someone new, whose platform facts changed, or a new thread: written step by step.
      if (!found || !sameFacts(found.principal, input.user, input.facts) || !found.conversation)
        return openTurnStepByStep(store, scope, input);
      return { principal: found.principal, conversation: found.conversation, settings: found.settings, history: found.history };
    },

    async resolvePrincipal(scope, user: UserRef, facts: UserFacts) {
      const known = await findPrincipal(scope, user.id);
      if (known && sameFacts(known, user, facts)) return known;
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

    recordTurn: (scope, turn) => record({ scope, turn }),

    settings: async (scope) => (await settings().execute({ workspaceId: scope.workspaceId }))[0] ?? defaultSettings,
  };
  return store;
}

/** Most turns come from people already known with the same facts: nothing to write (and no WAL flush). */
function sameFacts(known: FoundPrincipal, user: UserRef, facts: UserFacts): boolean {
  const displayName = facts.displayName ?? user.displayName ?? null;
  return (
    known.platformRole === facts.platformRole &&
    known.homeWorkspaceId === (user.homeWorkspaceId ?? null) &&
    (displayName === null || known.displayName === displayName)
  );
}

type StoredContext = { principal: FoundPrincipal; conversation: Conversation | null; settings: WorkspaceSettings; history: StoredMessage[] };
type ContextRequest = { scope: Scope; input: OpenTurnInput };
type ContextRow = { principal: Json | null; conversation: Json | null; settings: Json | null; history: Json[] };

/**
 * For each request, the principal, the conversation, the settings and the history, all in one
 * statement: four reads that each cost a round trip (and most of their CPU in the round trip)
 * before. JSON keeps each row's shape simple; null where the principal is not stored yet.
 */
async function readTurnContexts(db: Db, batch: ContextRequest[]): Promise<(StoredContext | null)[]> {
  const requests = batch.map(({ scope, input }, ord) => ({
    ord,
    ws: scope.workspaceId,
    userId: input.user.id,
    channelId: input.channel.id,
    threadKey: input.threadKey,
    historyLimit: input.historyLimit,
  }));
  const rows = rowsOf<ContextRow & { ord: number }>(
    await db.execute(sql`select i.ord, x.* from jsonb_to_recordset(${JSON.stringify(requests)}::jsonb)
        as i(ord int, ws uuid, "userId" text, "channelId" text, "threadKey" text, "historyLimit" int)
      cross join lateral (
        with p as (
          select p.id, p.workspace_id, p.platform_user_id, p.display_name, p.home_workspace_id, p.platform_role, g.role as granted_role
          from principals p left join grants g on g.principal_id = p.id and g.workspace_id = p.workspace_id
          where p.workspace_id = i.ws and p.platform_user_id = i."userId"),
        c as (
          select c.id, c.kind, c.owner_principal_id, ch.agent_enabled
          from conversations c join channels ch on ch.id = c.channel_id and ch.workspace_id = i.ws
          where c.workspace_id = i.ws and ch.external_id = i."channelId"
            -- No thread key: the requester's DM, keyed as dmThreadKey (turn-context.ts) keys it.
            and c.thread_key = coalesce(i."threadKey", 'dm:' || (select id from p)))
        select (select row_to_json(p) from p) as principal,
          (select row_to_json(c) from c) as conversation,
          (select row_to_json(s) from (select store_content, rpm, concurrency, daily_tokens, retention_days, guests_enabled
            from workspace_settings where workspace_id = i.ws) s) as settings,
          (select coalesce(json_agg(h order by h.created_at), '[]'::json) from (
            select id, conversation_id, principal_id, role, content, created_at from messages
            where workspace_id = i.ws and conversation_id = (select id from c)
            order by created_at desc limit i."historyLimit") h) as history) x`),
  );
  const byOrd = new Map(rows.map((r) => [Number(r.ord), r]));
  return batch.map(({ input }, ord) => contextOf(byOrd.get(ord), input));
}

function contextOf(row: ContextRow | undefined, input: OpenTurnInput): StoredContext | null {
  if (!row?.principal) return null;
  const p = row.principal;
  const c = row.conversation;
  const s = row.settings;
  return {
    principal: {
      id: p.id as string,
      workspaceId: p.workspace_id as string,
      platformUserId: p.platform_user_id as string,
      displayName: p.display_name as string | null,
      homeWorkspaceId: p.home_workspace_id as string | null,
      platformRole: p.platform_role as Principal['platformRole'],
      grantedRole: p.granted_role as Principal['grantedRole'],
    },
    conversation: c
      ? {
          id: c.id as string,
          kind: c.kind as Conversation['kind'],
          ownerPrincipalId: c.owner_principal_id as string | null,
          agentEnabled: c.agent_enabled as boolean,
          channelExternalId: input.channel.id,
        }
      : null,
    settings: s
      ? {
          storeContent: s.store_content as boolean,
          rpm: s.rpm as number | null,
          concurrency: s.concurrency as number | null,
          dailyTokens: s.daily_tokens === null ? null : Number(s.daily_tokens),
          retentionDays: s.retention_days as number | null,
          guestsEnabled: s.guests_enabled as boolean,
        }
      : defaultSettings,
    history: row.history.map((m) => ({
      id: m.id as string,
      conversationId: m.conversation_id as string,
      principalId: m.principal_id as string | null,
      role: m.role as StoredMessage['role'],
      content: m.content as string,
      createdAt: new Date(m.created_at as string),
    })),
  };
}

type Json = Record<string, unknown>;

/**
 * Each turn's question and answer, and its audit entry. Plain SQL: every turn writes these rows,
 * and building the insert cost more than running it. A re-run of a delivery that was already
 * recorded changes nothing. Usage is not added here: the model gate settles it per call
 * (usage-ledger.ts), so that retries, fallbacks and refused turns are counted once, where the
 * tokens were spent.
 */
async function recordTurns(tx: Tx, batch: { scope: Scope; turn: TurnRecord }[]): Promise<void> {
  const rows = batch.map(({ scope, turn }, ord) => ({
    ord,
    ws: scope.workspaceId,
    conversation: turn.conversationId,
    principal: turn.principalId,
    question: turn.userText,
    answer: turn.answerText,
    key: turn.idempotencyKey,
  }));
  // A microsecond apart keeps question-then-answer order stable in history, also for two turns
  // of one conversation recorded together. The audit seqs for the turns that are new are
  // reserved in the same statement (one round trip less per group).
  const [result] = rowsOf<{ fresh: { ws: string; key: string }[]; heads: ReservedHead[] }>(
    await tx.execute(sql`with m as (
        insert into messages (workspace_id, conversation_id, principal_id, role, content, idempotency_key, created_at)
        select v.ws, v.conversation, v.principal, r.role, case r.role when 'user' then v.question else v.answer end, v.key,
          now() + (v.ord * 2 + r.k) * interval '1 microsecond'
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as v(ord int, ws uuid, conversation uuid, principal uuid, question text, answer text, key text)
          cross join (values ('user', 0), ('assistant', 1)) as r(role, k)
        order by v.ord, r.k
        on conflict do nothing
        returning workspace_id as ws, idempotency_key as key, role),
      fresh as (select ws, key from m where role = 'user'),
      h as (${reserveAuditHeads(sql`(select ws, count(*)::int as n from fresh group by ws) as v`)})
      select (select coalesce(json_agg(fresh), '[]'::json) from fresh) as fresh, (select coalesce(json_agg(h), '[]'::json) from h) as heads`),
  );
  const fresh = new Set((result?.fresh ?? []).map((r) => `${r.ws}\u0000${r.key}`));
  await writeAuditEntries(
    tx,
    result?.heads ?? [],
    batch
      // delete(): the same delivery twice in one group is recorded (and audited) once.
      .filter(({ scope, turn }) => fresh.delete(`${scope.workspaceId}\u0000${turn.idempotencyKey}`))
      .map(({ scope, turn }) => ({
        scope,
        input: {
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
        },
      })),
  );
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

