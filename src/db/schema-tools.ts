/**
 * The tables of connected tools (issue 16): connections and their listed tools, the rules that open
 * them, calls waiting for a click, and sealed credentials. Beside schema.ts (drizzle.config.ts
 * reads both); stores import these tables from here.
 */
import { sql } from 'drizzle-orm';
import { boolean, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, principalRef, principals, updatedAt, workspaceRef } from './schema.js';

/** MCP servers made available to a workspace: added in chat (`/agent connect`) or declared in the operator's tools file. */
export const toolConnections = pgTable(
  'tool_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    name: text('name').notNull(),
    /** null for a local (stdio) server of the operator's file. */
    url: text('url'),
    auth: text('auth', { enum: ['none', 'workspace', 'per-user'] }).notNull(),
    source: text('source', { enum: ['chat', 'file'] }).notNull(),
    resultsShared: boolean('results_shared').notNull().default(false),
    refreshedAt: timestamp('refreshed_at', { withTimezone: true }),
    /** Why the last discovery failed; null when it worked. */
    problem: text('problem'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('tool_connections_workspace_name').on(t.workspaceId, t.name)],
);

/** The tools a connection's server listed (`tools/list`), kept until the next discovery. */
export const connectionTools = pgTable(
  'connection_tools',
  {
    connectionId: uuid('connection_id').notNull().references(() => toolConnections.id, { onDelete: 'cascade' }),
    workspaceId: workspaceRef(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    inputSchema: jsonb('input_schema').$type<Record<string, unknown>>().notNull(),
    readOnly: boolean('read_only').notNull(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.name] }), index('connection_tools_workspace').on(t.workspaceId)],
);

/** `/agent tools #channel|all allow|deny PATTERN [guests]` for connected tools; channel '*' is the whole workspace. */
export const connectedToolRules = pgTable(
  'connected_tool_rules',
  {
    workspaceId: workspaceRef(),
    channelExternalId: text('channel_external_id').notNull(),
    pattern: text('pattern').notNull(),
    allowed: boolean('allowed').notNull(),
    guests: boolean('guests').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.channelExternalId, t.pattern] })],
);

/**
 * Tool calls waiting for their requester's click (issue 16): the exact call, the envelope the
 * turn resumes from, and the state. Every change of state is one UPDATE … WHERE state = '…', so a
 * double click, a second instance or a retried resume does its work once. `result` holds what the
 * call answered, read only by the resumed turn of the same requester and conversation.
 */
export const pendingConfirmations = pgTable(
  'pending_confirmations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    /** The delivery that asked (its idempotency key): a re-run of that delivery finds this row instead of asking twice. */
    sourceKey: text('source_key').notNull(),
    requesterPrincipalId: uuid('requester_principal_id').notNull().references(() => principals.id, { onDelete: 'cascade' }),
    /** The requester's platform user id: a click is theirs only if the verified request says so. */
    requesterUserId: text('requester_user_id').notNull(),
    channelExternalId: text('channel_external_id').notNull(),
    tool: text('tool').notNull(),
    input: jsonb('input').$type<unknown>(),
    /** The turn's envelope: the resumed turn rebuilds its prompt from it, under the same audience rule. */
    envelope: jsonb('envelope').$type<Record<string, unknown>>().notNull(),
    state: text('state', { enum: ['pending', 'confirmed', 'cancelled', 'expired', 'running', 'done'] }).notNull().default('pending'),
    decidedByUserId: text('decided_by_user_id'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    result: text('result'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('pending_confirmations_source').on(t.workspaceId, t.sourceKey), index('pending_confirmations_expiry').on(t.state, t.expiresAt)],
);

/** `/agent tools #channel|all confirm PATTERN always|never`: '*' as the channel is the whole workspace. */
export const toolConfirmRules = pgTable(
  'tool_confirm_rules',
  {
    workspaceId: workspaceRef(),
    channelExternalId: text('channel_external_id').notNull(),
    pattern: text('pattern').notNull(),
    mode: text('mode', { enum: ['always', 'never'] }).notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.channelExternalId, t.pattern] })],
);

/**
 * Credentials of connected tools, sealed with QUORUM_ENCRYPTION_KEY like the platform tokens: a
 * workspace secret (principal_id null) or one person's own token (their principal).
 */
export const toolCredentials = pgTable(
  'tool_credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: workspaceRef(),
    connection: text('connection').notNull(),
    principalId: uuid('principal_id').references(() => principals.id, { onDelete: 'cascade' }),
    /** `token`: a pasted secret; `oauth`: the tokens of a sign-in through the server's own OAuth (sealed JSON). */
    kind: text('kind', { enum: ['token', 'oauth'] }).notNull().default('token'),
    sealed: text('sealed').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('tool_credentials_person').on(t.workspaceId, t.connection, t.principalId).where(sql`${t.principalId} is not null`),
    uniqueIndex('tool_credentials_workspace').on(t.workspaceId, t.connection).where(sql`${t.principalId} is null`),
  ],
);

/**
 * Sign-ins through a server's OAuth (MCP authorization) that were started and not finished: the
 * state is kept only as its SHA-256, bound to one person and connection, used once, and expires.
 * The sealed part holds the PKCE verifier and what the token exchange needs.
 */
export const toolOauthStates = pgTable(
  'tool_oauth_states',
  {
    stateHash: text('state_hash').primaryKey(),
    workspaceId: workspaceRef(),
    principalId: principalRef(),
    connection: text('connection').notNull(),
    sealed: text('sealed').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('tool_oauth_states_expiry').on(t.expiresAt)],
);

/** Quorum's own client registration (RFC 7591) at a connection's authorization server, sealed (it may hold a client secret). */
export const toolOauthClients = pgTable(
  'tool_oauth_clients',
  {
    workspaceId: workspaceRef(),
    connection: text('connection').notNull(),
    sealed: text('sealed').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.connection] })],
);
