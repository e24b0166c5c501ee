/**
 * The one drizzle schema. drizzle-kit generates drizzle/ from it (`npm run db:generate`).
 * Every table that holds user data carries workspace_id.
 */
import { sql } from 'drizzle-orm';
import type { FileRef } from '../core/envelope.js';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
export const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
/** The workspace a row belongs to: it goes with the workspace. */
export const workspaceRef = () => uuid('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' });
/** The person a row belongs to: it goes with the person (`forget`). */
export const principalRef = () => uuid('principal_id').notNull().references(() => principals.id, { onDelete: 'cascade' });

export const workspaces = pgTable(
  'workspaces',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    platform: text('platform', { enum: ['slack', 'teams', 'console'] }).notNull(),
    externalId: text('external_id').notNull(),
    enterpriseId: text('enterprise_id'),
    name: text('name'),
    /** Set when the app is removed; data is deleted after UNINSTALL_GRACE_DAYS. */
    uninstalledAt: timestamp('uninstalled_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('workspaces_platform_external').on(t.platform, t.externalId)],
);

export const workspaceSettings = pgTable('workspace_settings', {
  workspaceId: uuid('workspace_id').primaryKey().references(() => workspaces.id, { onDelete: 'cascade' }),
  storeContent: boolean('store_content').notNull().default(false),
  rpm: integer('rpm'),
  concurrency: integer('concurrency'),
  dailyTokens: bigint('daily_tokens', { mode: 'number' }),
  /** Tokens per sliding minute for the workspace's model calls (`/agent limit tpm N`). */
  tpm: integer('tpm'),
  /** The other budgets (`/agent budget …`): tokens or micro-USD, per UTC day or calendar month; user_* apply to each user. */
  monthlyTokens: bigint('monthly_tokens', { mode: 'number' }),
  dailyMicroUsd: bigint('daily_micro_usd', { mode: 'number' }),
  monthlyMicroUsd: bigint('monthly_micro_usd', { mode: 'number' }),
  userDailyTokens: bigint('user_daily_tokens', { mode: 'number' }),
  userMonthlyTokens: bigint('user_monthly_tokens', { mode: 'number' }),
  userDailyMicroUsd: bigint('user_daily_micro_usd', { mode: 'number' }),
  userMonthlyMicroUsd: bigint('user_monthly_micro_usd', { mode: 'number' }),
  retentionDays: integer('retention_days'),
  guestsEnabled: boolean('guests_enabled').notNull().default(true),
  updatedAt: updatedAt(),
});

export const principals = pgTable(
  'principals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    platformUserId: text('platform_user_id').notNull(),
    homeWorkspaceId: text('home_workspace_id'),
    displayName: text('display_name'),
    platformRole: text('platform_role', { enum: ['owner', 'admin', 'member', 'guest', 'external'] }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('principals_workspace_user').on(t.workspaceId, t.platformUserId)],
);

/** Roles set by workspace admins; they override the platform's role. */
export const grants = pgTable(
  'grants',
  {
    workspaceId: workspaceRef(),
    principalId: principalRef(),
    role: text('role', { enum: ['owner', 'admin', 'member', 'guest', 'external'] }).notNull(),
    grantedBy: uuid('granted_by'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.principalId] })],
);

export const channels = pgTable(
  'channels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    externalId: text('external_id').notNull(),
    kind: text('kind', { enum: ['dm', 'group', 'channel'] }).notNull(),
    name: text('name'),
    agentEnabled: boolean('agent_enabled').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('channels_workspace_external').on(t.workspaceId, t.externalId)],
);

/** Per-channel tool rules set with `/agent tools #channel allow|deny NAME`. */
export const channelTools = pgTable(
  'channel_tools',
  {
    workspaceId: workspaceRef(),
    channelId: uuid('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    tool: text('tool').notNull(),
    allowed: boolean('allowed').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.channelId, t.tool] })],
);

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    channelId: uuid('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['dm', 'group', 'channel'] }).notNull(),
    /** The thread (channel), or `dm:<principal>` so that a DM conversation can only ever be its owner's. */
    threadKey: text('thread_key').notNull(),
    ownerPrincipalId: uuid('owner_principal_id').references(() => principals.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('conversations_workspace_channel_thread').on(t.workspaceId, t.channelId, t.threadKey)],
);

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    conversationId: uuid('conversation_id').notNull().references(() => conversations.id, { onDelete: 'cascade' }),
    /** The author (user messages) or the requester (assistant messages). */
    principalId: uuid('principal_id').references(() => principals.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['user', 'assistant'] }).notNull(),
    content: text('content').notNull(),
    /** The files a user message carried (references only, never their content), for later questions in the thread. */
    files: jsonb('files').$type<FileRef[]>(),
    /** The platform delivery this message came from or answered: a retried delivery writes nothing new. */
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('messages_workspace_delivery_role').on(t.workspaceId, t.idempotencyKey, t.role),
    index('messages_conversation_created').on(t.conversationId, t.createdAt),
    index('messages_workspace_created').on(t.workspaceId, t.createdAt),
  ],
);

/** Personal notes (`remember` / `recall`), readable only in their owner's DMs. */
export const memories = pgTable(
  'memories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    principalId: principalRef(),
    content: text('content').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('memories_workspace_principal').on(t.workspaceId, t.principalId)],
);

/** Tokens and cost per workspace, user, model, channel and day. */
export const usage = pgTable(
  'usage',
  {
    workspaceId: workspaceRef(),
    principalId: principalRef(),
    day: date('day', { mode: 'string' }).notNull(),
    model: text('model').notNull(),
    /** The platform channel the call answered in ('' when unknown: rows from before channels were recorded). */
    channel: text('channel').notNull().default(''),
    calls: integer('calls').notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    costMicroUsd: bigint('cost_micro_usd', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.principalId, t.day, t.model, t.channel] })],
);

/**
 * Spend per budget period: the workspace's (subject '') and each user's (subject = principal id),
 * per UTC day ('2026-12-06') and calendar month ('2026-12'), in tokens and micro-USD. Settled
 * usage plus the reservations of calls in flight; a reservation locks its rows, so concurrent
 * calls (on any instance) cannot overshoot a budget.
 */
export const budgetCounters = pgTable(
  'budget_counters',
  {
    workspaceId: workspaceRef(),
    subject: text('subject').notNull(),
    period: text('period').notNull(),
    spentTokens: bigint('spent_tokens', { mode: 'number' }).notNull().default(0),
    spentMicroUsd: bigint('spent_micro_usd', { mode: 'number' }).notNull().default(0),
    /** Set when the 80% warning of this period's token / money budget went out, so it goes out once. */
    warnedTokensAt: timestamp('warned_tokens_at', { withTimezone: true }),
    warnedUsdAt: timestamp('warned_usd_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.subject, t.period] })],
);

/**
 * Calls in flight and what they reserved (already counted in budget_counters). Settling deletes
 * the row; a row whose lease ran out (its process died) is released by the next reservation that
 * would not fit, so a dead process holds budget for one lease, not for the rest of the period.
 */
export const budgetReservations = pgTable(
  'budget_reservations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    principalId: uuid('principal_id').notNull(),
    day: text('day').notNull(),
    month: text('month').notNull(),
    tokens: bigint('tokens', { mode: 'number' }).notNull(),
    microUsd: bigint('micro_usd', { mode: 'number' }).notNull(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }).notNull(),
  },
  (t) => [index('budget_reservations_lease').on(t.workspaceId, t.leaseUntil)],
);

/** Append-only, hash-chained per workspace: each entry holds the previous entry's hash. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workspaceId: workspaceRef(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    actorPrincipalId: uuid('actor_principal_id'),
    channelExternalId: text('channel_external_id'),
    model: text('model'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    latencyMs: integer('latency_ms'),
    contentHash: text('content_hash'),
    content: text('content'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [uniqueIndex('audit_workspace_seq').on(t.workspaceId, t.seq)],
);

/** The newest link of each workspace's audit chain; its row lock serializes appends. */
export const auditHeads = pgTable('audit_heads', {
  workspaceId: uuid('workspace_id').primaryKey().references(() => workspaces.id, { onDelete: 'cascade' }),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
  /**
   * HMAC-SHA256 of (workspace, seq, hash) under a key that is never in the database (audit-signing.ts):
   * whoever can write here cannot rebuild a chain that verifies. Null when written without a key.
   */
  signature: text('signature'),
});

/** The workspace's model choices and instructions (`/agent model`, `/agent instructions`); null: the default / none. */
export const workspaceProfiles = pgTable('workspace_profiles', {
  workspaceId: uuid('workspace_id').primaryKey().references(() => workspaces.id, { onDelete: 'cascade' }),
  /** A MODEL_CHOICES name; one the operator no longer lists falls back to the default. */
  model: text('model'),
  /** The model of the cheap steps (router, specialists). */
  cheapModel: text('cheap_model'),
  instructions: text('instructions'),
  updatedAt: updatedAt(),
});

/** A channel's own model and instructions, over the workspace's. */
export const channelProfiles = pgTable(
  'channel_profiles',
  {
    workspaceId: workspaceRef(),
    channelId: uuid('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    model: text('model'),
    instructions: text('instructions'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.channelId] })],
);

/** Every accepted platform delivery, written before the ack. */
export const inbox = pgTable(
  'inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workspaceId: workspaceRef(),
    platform: text('platform', { enum: ['slack', 'teams', 'console'] }).notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    envelope: jsonb('envelope').notNull(),
    status: text('status', { enum: ['pending', 'working', 'done', 'dead'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    claimedBy: text('claimed_by'),
    lastError: text('last_error'),
    platformMessageId: text('platform_message_id'),
    /** The status message an attempt showed; a later attempt's answer replaces it instead of posting again. */
    statusMessageId: text('status_message_id'),
    /** The messages of a long reply's parts after the first, in order; a re-run updates them instead of posting again. */
    partMessageIds: jsonb('part_message_ids').$type<string[]>(),
    /** When its sender was told it waits behind its workspace's own backlog (once per row). */
    queuedNoticeAt: timestamp('queued_notice_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('inbox_platform_key').on(t.platform, t.idempotencyKey),
    index('inbox_claimable').on(t.status, t.id).where(sql`status in ('pending', 'working')`),
    // Claiming takes each workspace's oldest rows (round-robin across workspaces).
    index('inbox_claimable_workspace').on(t.workspaceId, t.id).where(sql`status in ('pending', 'working')`),
  ],
);

/** Platform installations (Slack OAuth installs, Teams conversation references); secrets encrypted at rest. */
export const installations = pgTable(
  'installations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: uuid('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
    platform: text('platform', { enum: ['slack', 'teams', 'console'] }).notNull(),
    /** team id, `enterprise:<id>` for org-wide installs, or a Teams conversation id. */
    installKey: text('install_key').notNull(),
    /** AES-256-GCM ciphertext of the platform's installation object. */
    secretData: text('secret_data'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('installations_platform_key').on(t.platform, t.installKey)],
);

/** Jobs that must survive restarts (retention sweeps, uninstall purges). */
export const scheduledJobs = pgTable('scheduled_jobs', {
  name: text('name').primaryKey(),
  nextRunAt: timestamp('next_run_at', { withTimezone: true }).notNull(),
  lastRunAt: timestamp('last_run_at', { withTimezone: true }),
});

/**
 * Signed platform requests already acted on (a hash of each): a slash command or interaction replayed
 * within Slack's five minutes finds its row and does nothing. Holds no user data; rows expire.
 */
export const seenRequests = pgTable(
  'seen_requests',
  {
    key: text('key').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('seen_requests_expires').on(t.expiresAt)],
);

/**
 * Slack assistant threads (the AI side panel): the channel the person was looking at when the
 * thread started or its context changed, which the answer treats as the channel asked about.
 * `titled` flips once, so only the first answer sets the thread's title. No content.
 */
export const assistantThreads = pgTable(
  'assistant_threads',
  {
    workspaceId: workspaceRef(),
    /** The DM channel the thread lives in, and its root ts. */
    channelId: text('channel_id').notNull(),
    threadTs: text('thread_ts').notNull(),
    contextChannelId: text('context_channel_id'),
    titled: boolean('titled').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.channelId, t.threadTs] })],
);

/** PostgreSQL's full-text document type (drizzle has no built-in for it). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * Knowledge: what Quorum may find again, one row per chunk of a message or a shared file. Each
 * chunk keeps its source (conversation, thread, author, platform id, permalink) and its audience:
 * the channel, or for a DM its owner (a platform user id, the one person who may get it back).
 * Deleting a source deletes its rows. With pgvector, an `embedding` column is added after the
 * migrations (src/db/vector.ts), never here: this migration must run where pgvector is absent.
 */
export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workspaceId: workspaceRef(),
    channelExternalId: text('channel_external_id').notNull(),
    channelKind: text('channel_kind', { enum: ['dm', 'group', 'channel'] }).notNull(),
    /** A DM's owner (platform user id); null for channels and groups, whose members are the audience. */
    dmOwnerUserId: text('dm_owner_user_id'),
    sourceKind: text('source_kind', { enum: ['message', 'file'] }).notNull(),
    /** The platform's id: a Slack message ts or Teams activity id, or a file id. */
    sourceId: text('source_id').notNull(),
    threadId: text('thread_id'),
    authorUserId: text('author_user_id'),
    chunkNo: integer('chunk_no').notNull().default(0),
    content: text('content').notNull(),
    /** A link to the source (Slack permalink, Teams deep link), cited in answers. */
    permalink: text('permalink'),
    sourceAt: timestamp('source_at', { withTimezone: true }).notNull(),
    tsv: tsvector('tsv').generatedAlwaysAs(sql`to_tsvector('simple', content)`),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('knowledge_chunks_source').on(t.workspaceId, t.channelExternalId, t.sourceKind, t.sourceId, t.chunkNo),
    index('knowledge_chunks_tsv').using('gin', t.tsv),
    index('knowledge_chunks_author').on(t.workspaceId, t.authorUserId),
    // A DM owner's own entries (their DM searches read these, then match the words).
    index('knowledge_chunks_dm_owner').on(t.workspaceId, t.dmOwnerUserId).where(sql`channel_kind = 'dm'`),
    index('knowledge_chunks_file').on(t.workspaceId, t.sourceKind, t.sourceId),
    index('knowledge_chunks_age').on(t.workspaceId, t.sourceAt),
  ],
);

/**
 * Knowledge per channel: whether admins let it be indexed (`/agent knowledge #ch on|off`) and how
 * far its backfill is. The backfill's cursor lives here, so a restart resumes where it stood; a
 * lease lets exactly one instance work on a channel at a time.
 */
export const knowledgeChannels = pgTable(
  'knowledge_channels',
  {
    workspaceId: workspaceRef(),
    channelExternalId: text('channel_external_id').notNull(),
    channelKind: text('channel_kind', { enum: ['dm', 'group', 'channel'] }).notNull().default('channel'),
    enabled: boolean('enabled').notNull().default(true),
    /** Archived channels are kept but not offered to searches from elsewhere. */
    archived: boolean('archived').notNull().default(false),
    backfill: text('backfill', { enum: ['none', 'pending', 'running', 'done', 'failed'] }).notNull().default('none'),
    cursor: text('cursor'),
    pages: integer('pages').notNull().default(0),
    messages: integer('messages').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    claimedBy: text('claimed_by'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    /** When the backfill may be tried again (after a failure or a platform rate limit). */
    notBefore: timestamp('not_before', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.channelExternalId] }),
    index('knowledge_channels_backfill').on(t.backfill, t.notBefore).where(sql`backfill in ('pending', 'running')`),
  ],
);

/**
 * Shared files to read into the index in the background (too slow for the 3 s ack): one row per
 * file and place it was shared, with that place's audience. A worker claims due rows (lease,
 * `skip locked`), reads the file, stores its chunks and marks the row in one transaction; what
 * cannot be read is kept as `skipped` with a reason (shown by `/agent knowledge`), never retried
 * forever. Deleted with the file, the channel, the workspace; `forget` deletes the sharer's.
 */
export const knowledgeFileJobs = pgTable(
  'knowledge_file_jobs',
  {
    workspaceId: workspaceRef(),
    channelExternalId: text('channel_external_id').notNull(),
    channelKind: text('channel_kind', { enum: ['dm', 'group', 'channel'] }).notNull(),
    /** A DM's owner: the one person who may get the file's text back. */
    dmOwnerUserId: text('dm_owner_user_id'),
    fileId: text('file_id').notNull(),
    name: text('name').notNull(),
    mimetype: text('mimetype'),
    permalink: text('permalink'),
    /** Where the platform keeps the file when its id alone does not say (Teams: the SharePoint address). */
    source: jsonb('source').$type<Record<string, unknown>>(),
    threadId: text('thread_id'),
    authorUserId: text('author_user_id'),
    sharedAt: timestamp('shared_at', { withTimezone: true }).notNull(),
    status: text('status', { enum: ['pending', 'running', 'indexed', 'skipped'] }).notNull().default('pending'),
    /** Why it was skipped (or why the last try failed): a person's sentence, never content. */
    reason: text('reason'),
    attempts: integer('attempts').notNull().default(0),
    chunks: integer('chunks').notNull().default(0),
    claimedBy: text('claimed_by'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    notBefore: timestamp('not_before', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.channelExternalId, t.fileId] }),
    index('knowledge_file_jobs_due').on(t.status, t.notBefore).where(sql`status in ('pending', 'running')`),
    index('knowledge_file_jobs_file').on(t.workspaceId, t.fileId),
  ],
);

/**
 * 👍 / 👎 on an answer: one row per person and answer (a second click finds it and changes
 * nothing), with an optional reason given after a 👎. Goes with the answer it is about (retention,
 * `forget`) and with the person who gave it.
 */
export const feedback = pgTable(
  'feedback',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    /** The assistant message (the answer) it is about. */
    messageId: uuid('message_id').notNull().references(() => messages.id, { onDelete: 'cascade' }),
    principalId: principalRef(),
    rating: text('rating', { enum: ['up', 'down'] }).notNull(),
    reason: text('reason'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('feedback_workspace_message_principal').on(t.workspaceId, t.messageId, t.principalId),
    index('feedback_workspace_created').on(t.workspaceId, t.createdAt),
  ],
);
