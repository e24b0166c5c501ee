/** TurnStore on drizzle: workspaces, principals, conversations and messages, always scoped. */
import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { channelKindSchema, fileRefSchema, type ChannelRef, type FileRef, type UserRef, type WorkspaceRef } from '../core/envelope.js';
import { roleSchema, type Principal, type Scope, type UserFacts } from '../core/identity.js';
import type { Conversation, OpenTurnInput, StoredMessage, TurnRecord, TurnStore, WorkspaceSettings } from '../core/ports.js';
import { builtOnce, type Db } from './client.js';
import { col, decodeRows, scoped, scopedBatch } from './raw.js';
import { reservedHeadRow, reserveAuditHeads, writeAuditEntries } from './audit-store.js';
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
      // Someone new or whose platform facts changed, and a new thread, are written; the rest was read.
      const principal = found.principal && sameFacts(found.principal, input.user, input.facts) ? found.principal : await store.resolvePrincipal(scope, input.user, input.facts);
      if (found.conversation) return { principal, conversation: found.conversation, settings: found.settings, history: found.history };
      const conversation = await createConversation(db, scope, {
        channel: input.channel,
        threadKey: input.threadKey,
        ownerPrincipalId: input.ownedByRequester ? principal.id : null,
      });
      return { principal, conversation, settings: found.settings, history: [] };
    },

    async resolvePrincipal(scope, user: UserRef, facts: UserFacts) {
      const known = await findPrincipal(scope, user.id);
      if (known && sameFacts(known, user, facts)) return known;
      await upsertPrincipal(db, scope, user, facts);
      const principal = await findPrincipal(scope, user.id);
      if (!principal) throw new Error('principal vanished after upsert');
      return principal;
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

async function upsertPrincipal(db: Db, scope: Scope, user: UserRef, facts: UserFacts): Promise<void> {
  await db
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
    });
}

/** A new thread's conversation; two first messages of one thread racing get the same row. */
async function createConversation(
  db: Db,
  scope: Scope,
  input: { channel: ChannelRef; threadKey: string; ownerPrincipalId: string | null },
): Promise<Conversation> {
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
}

type ContextRequest = { scope: Scope; input: OpenTurnInput };

// What one statement reads for a turn, decoded at the edge; each decoder is checked against the port's type.
const principalRow = z.object({
  id: z.string(),
  workspaceId: z.string(),
  platformUserId: z.string(),
  displayName: z.string().nullable(),
  homeWorkspaceId: z.string().nullable(),
  platformRole: roleSchema,
  grantedRole: roleSchema.nullable(),
}) satisfies z.ZodType<FoundPrincipal>;
const conversationRow = z.object({
  id: z.string(),
  kind: channelKindSchema,
  ownerPrincipalId: z.string().nullable(),
  agentEnabled: z.boolean(),
  channelExternalId: z.string(),
}) satisfies z.ZodType<Conversation>;
const settingsRow = z.object({
  storeContent: z.boolean(),
  rpm: z.number().nullable(),
  concurrency: z.number().nullable(),
  dailyTokens: col.number.nullable(),
  tpm: col.number.nullable(),
  monthlyTokens: col.number.nullable(),
  dailyMicroUsd: col.number.nullable(),
  monthlyMicroUsd: col.number.nullable(),
  userDailyTokens: col.number.nullable(),
  userMonthlyTokens: col.number.nullable(),
  userDailyMicroUsd: col.number.nullable(),
  userMonthlyMicroUsd: col.number.nullable(),
  retentionDays: z.number().nullable(),
  guestsEnabled: z.boolean(),
}) satisfies z.ZodType<WorkspaceSettings>;
const messageRow = z.object({
  id: z.string(),
  conversationId: z.string(),
  principalId: z.string().nullable(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  createdAt: col.date,
  files: z.array(fileRefSchema).nullish().transform((v) => v ?? undefined),
}) satisfies z.ZodType<StoredMessage>;
const contextRow = z.object({
  ord: z.number(),
  principal: principalRow.nullable(),
  conversation: conversationRow.nullable(),
  settings: settingsRow.nullable(),
  history: z.array(messageRow),
});
type StoredContext = { principal: FoundPrincipal | null; conversation: Conversation | null; settings: WorkspaceSettings; history: StoredMessage[] };

/**
 * For each request, the principal, the conversation, the settings and the history, all in one
 * statement: four reads that each cost a round trip (and most of their CPU in the round trip)
 * before. Null where the principal or the conversation is not stored yet.
 */
async function readTurnContexts(db: Db, batch: ContextRequest[]): Promise<StoredContext[]> {
  const requests = scopedBatch(
    'i',
    { userId: 'text', channelId: 'text', threadKey: 'text', historyLimit: 'int' },
    batch.map(({ scope, input }) => ({
      scope,
      values: { userId: input.user.id, channelId: input.channel.id, threadKey: input.threadKey, historyLimit: input.historyLimit },
    })),
  );
  const statement = scoped(
    requests,
    (ws) => sql`select i.ord, x.* from ${requests.from}
      cross join lateral (
        with c as (
          select c.id, c.kind, c.owner_principal_id as "ownerPrincipalId", ch.agent_enabled as "agentEnabled", ch.external_id as "channelExternalId"
          from conversations c join channels ch on ch.id = c.channel_id and ch.workspace_id = ${ws}
          where c.workspace_id = ${ws} and ch.external_id = i."channelId" and c.thread_key = i."threadKey")
        select (select row_to_json(p) from (
            select p.id, p.workspace_id as "workspaceId", p.platform_user_id as "platformUserId", p.display_name as "displayName",
              p.home_workspace_id as "homeWorkspaceId", p.platform_role as "platformRole", g.role as "grantedRole"
            from principals p left join grants g on g.principal_id = p.id and g.workspace_id = p.workspace_id
            where p.workspace_id = ${ws} and p.platform_user_id = i."userId") p) as principal,
          (select row_to_json(c) from c) as conversation,
          (select row_to_json(s) from (select store_content as "storeContent", rpm, concurrency, daily_tokens as "dailyTokens",
              tpm as "tpm", monthly_tokens as "monthlyTokens", daily_micro_usd as "dailyMicroUsd", monthly_micro_usd as "monthlyMicroUsd", user_daily_tokens as "userDailyTokens", user_monthly_tokens as "userMonthlyTokens", user_daily_micro_usd as "userDailyMicroUsd", user_monthly_micro_usd as "userMonthlyMicroUsd",
              retention_days as "retentionDays", guests_enabled as "guestsEnabled"
            from workspace_settings where workspace_id = ${ws}) s) as settings,
          (select coalesce(json_agg(h order by h."createdAt"), '[]'::json) from (
            select id, conversation_id as "conversationId", principal_id as "principalId", role, content, files, created_at as "createdAt"
            from messages where workspace_id = ${ws} and conversation_id = (select id from c)
            order by created_at desc limit i."historyLimit") h) as history) x`,
  );
  const byOrd = new Map(decodeRows(contextRow, await db.execute(statement)).map((r) => [r.ord, r]));
  return batch.map((_, ord) => {
    const row = byOrd.get(ord);
    if (!row) throw new Error('turn context read returned no row');
    return { principal: row.principal, conversation: row.conversation, settings: row.settings ?? defaultSettings, history: row.history };
  });
}



const recordedRow = z.object({ fresh: z.array(z.object({ ws: z.string(), key: z.string() })), heads: z.array(reservedHeadRow) });

/**
 * Each turn's question and answer, and its audit entry. Plain SQL: every turn writes these rows,
 * and building the insert cost more than running it. A re-run of a delivery that was already
 * recorded changes nothing. Usage is not added here: the model gate settles it per call
 * (usage-ledger.ts), so that retries, fallbacks and refused turns are counted once, where the
 * tokens were spent.
 */
async function recordTurns(tx: Tx, batch: { scope: Scope; turn: TurnRecord }[]): Promise<void> {
  const turns = scopedBatch(
    'v',
    { conversation: 'uuid', principal: 'uuid', question: 'text', answer: 'text', key: 'text', files: 'jsonb' },
    batch.map(({ scope, turn }) => ({
      scope,
      values: { conversation: turn.conversationId, principal: turn.principalId, question: turn.userText, answer: turn.answerText, key: turn.idempotencyKey, files: keptFiles(turn.files) },
    })),
  );
  // A microsecond apart keeps question-then-answer order stable in history, also for two turns
  // of one conversation recorded together. The audit seqs for the turns that are new are
  // reserved in the same statement (one round trip less per group).
  const statement = scoped(
    turns,
    (ws) => sql`with m as (
        insert into messages (workspace_id, conversation_id, principal_id, role, content, files, idempotency_key, created_at)
        select ${ws}, v.conversation, v.principal, r.role, case r.role when 'user' then v.question else v.answer end,
          case r.role when 'user' then v.files end, v.key,
          now() + (v.ord * 2 + r.k) * interval '1 microsecond'
        from ${turns.from} cross join (values ('user', 0), ('assistant', 1)) as r(role, k)
        order by v.ord, r.k
        on conflict do nothing
        returning workspace_id as ws, idempotency_key as key, role),
      fresh as (select ws, key from m where role = 'user'),
      h as (${reserveAuditHeads(sql`(select ws, count(*)::int as n from fresh group by ws) as v`)})
      select (select coalesce(json_agg(fresh), '[]'::json) from fresh) as fresh, (select coalesce(json_agg(h), '[]'::json) from h) as heads`,
  );
  const [result] = decodeRows(recordedRow, await tx.execute(statement));
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

/** The references a question's files leave in its message: never their transient part (a short-lived download link); null for none. */
const keptFiles = (files: FileRef[] | undefined) => (files?.length ? files.map(({ transient: _, ...kept }) => kept) : null);

const defaultSettings: WorkspaceSettings = {
  storeContent: false,
  rpm: null,
  concurrency: null,
  dailyTokens: null,
  tpm: null,
  monthlyTokens: null,
  dailyMicroUsd: null,
  monthlyMicroUsd: null,
  userDailyTokens: null,
  userMonthlyTokens: null,
  userDailyMicroUsd: null,
  userMonthlyMicroUsd: null,
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
      tpm: workspaceSettings.tpm,
      monthlyTokens: workspaceSettings.monthlyTokens,
      dailyMicroUsd: workspaceSettings.dailyMicroUsd,
      monthlyMicroUsd: workspaceSettings.monthlyMicroUsd,
      userDailyTokens: workspaceSettings.userDailyTokens,
      userMonthlyTokens: workspaceSettings.userMonthlyTokens,
      userDailyMicroUsd: workspaceSettings.userDailyMicroUsd,
      userMonthlyMicroUsd: workspaceSettings.userMonthlyMicroUsd,
      retentionDays: workspaceSettings.retentionDays,
      guestsEnabled: workspaceSettings.guestsEnabled,
    })
    .from(workspaceSettings)
    .where(eq(workspaceSettings.workspaceId, sql.placeholder('workspaceId')));
}

