/** The stores the core reads and writes (src/db implements them): turns, audit, usage, the agent's notes, the inbox. */
import type { ChannelKind, ChannelRef, Envelope, FileRef, UserRef, WorkspaceRef } from '../envelope.js';
import type { Principal, Scope, UserFacts } from '../identity.js';
import type { Budget, BudgetAlert, TokenPrice } from '../budgets.js';
import type { TokenUsage } from './model.js';

export interface WorkspaceSettings {
  storeContent: boolean;
  rpm: number | null;
  concurrency: number | null;
  dailyTokens: number | null;
  /** Tokens per sliding minute (`/agent limit tpm N`); null: none. */
  tpm?: number | null;
  /** The other budgets (budgets.ts): tokens, or micro-USD; user* apply to each user. null: none. */
  monthlyTokens?: number | null;
  dailyMicroUsd?: number | null;
  monthlyMicroUsd?: number | null;
  userDailyTokens?: number | null;
  userMonthlyTokens?: number | null;
  userDailyMicroUsd?: number | null;
  userMonthlyMicroUsd?: number | null;
  retentionDays: number | null;
  guestsEnabled: boolean;
}

export interface Conversation {
  id: string;
  kind: ChannelKind;
  channelExternalId: string;
  /** For a DM, the one principal who may read it. */
  ownerPrincipalId: string | null;
  /** Admins can switch the agent off per channel. */
  agentEnabled: boolean;
}

export interface StoredMessage {
  id: string;
  conversationId: string;
  principalId: string | null;
  role: 'user' | 'assistant';
  content: string;
  createdAt: Date;
  /** The files a user message carried (without their transient part), so a later question in the thread can read them again. */
  files?: FileRef[] | undefined;
}

export interface AuditEntryInput {
  action: 'turn' | 'model_call' | 'tool_call' | 'command' | 'admin_change' | 'denial' | 'erasure' | 'error' | 'budget' | 'feedback' | 'file_read';
  outcome: 'ok' | 'denied' | 'refused' | 'error';
  actorPrincipalId?: string | null;
  channelExternalId?: string | null;
  /**
   * The kind of conversation the entry comes from. Content is kept in clear only when the
   * workspace opted in and this says 'channel': admins read the audit log, and a DM is its owner's
   * alone (a group DM its members'), so their content, and content of unknown origin, is kept as
   * its SHA-256 only. Callers that pass `content` set it.
   */
  channelKind?: ChannelKind | null;
  model?: string | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  latencyMs?: number | null;
  /** Message content: stored as SHA-256, and in clear too only as `channelKind` allows. */
  content?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: Date;
  action: AuditEntryInput['action'];
  outcome: AuditEntryInput['outcome'];
  actorPrincipalId: string | null;
  channelExternalId: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  latencyMs: number | null;
  contentHash: string | null;
  content: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** One finished turn, written in one transaction so nothing is half-written. */
export interface TurnRecord {
  conversationId: string;
  principalId: string;
  idempotencyKey: string;
  channelExternalId: string;
  /** Where the turn happened: only a channel's text may be kept in clear in the audit log. */
  channelKind: ChannelKind;
  userText: string;
  /** The files the question carried, kept with it (their transient part is dropped by the store). */
  files?: FileRef[];
  answerText: string;
  model: string;
  usage: TokenUsage;
  latencyMs: number;
}

/** Everything a turn reads before it decides. */
export interface TurnContext {
  principal: Principal;
  conversation: Conversation;
  settings: WorkspaceSettings;
  /**
   * The conversation's latest messages, oldest first. Read before the decision so that it costs
   * no extra round trip: the caller must drop it unless the requester may read it.
   */
  history: StoredMessage[];
}

export interface OpenTurnInput {
  user: UserRef;
  facts: UserFacts;
  channel: ChannelRef;
  /** The conversation's key within its channel (conversation-key.ts). */
  threadKey: string;
  /** A DM: the conversation, when new, is created owned by the requester. */
  ownedByRequester: boolean;
  historyLimit: number;
}

export interface TurnStore {
  resolveWorkspace(ref: WorkspaceRef): Promise<Scope>;
  /**
   * The requester, the conversation (both created or updated as needed), the workspace's
   * settings and the history: one round trip when all of it is already stored.
   */
  openTurn(scope: Scope, input: OpenTurnInput): Promise<TurnContext>;
  resolvePrincipal(scope: Scope, user: UserRef, facts: UserFacts): Promise<Principal>;
  listHistory(scope: Scope, conversationId: string, limit: number): Promise<StoredMessage[]>;
  /** The answer already stored for this delivery, if a previous attempt got that far. */
  findAnswer(scope: Scope, idempotencyKey: string): Promise<string | null>;
  recordTurn(scope: Scope, turn: TurnRecord): Promise<void>;
  settings(scope: Scope): Promise<WorkspaceSettings>;
}

export interface AuditLog {
  append(scope: Scope, entry: AuditEntryInput): Promise<void>;
  list(scope: Scope, filter: { actorPrincipalId?: string; since?: Date; limit: number }): Promise<AuditEntry[]>;
}

/** The workspace's audit trail as a file anyone can verify outside Quorum (src/db/audit-export.ts). */
export interface AuditExporter {
  /** JSON Lines: a header, the entries since `since` with their chain hashes, the signed head. */
  exportJsonl(scope: Scope, since: Date): Promise<{ content: string; entries: number }>;
}

/** One model's share of a settled call: the tokens the provider reported and their cost. */
export interface UsageEntry {
  model: string;
  usage: TokenUsage;
  costMicroUsd: number;
}

/** What a call asks of its budgets before it runs (see budgets.ts planOutput). */
export interface ReserveRequest {
  principalId: string;
  /** The budgets in force (at least one). */
  budgets: Budget[];
  /** The prompt's estimate, tool definitions included: deliberately generous. */
  promptTokens: number;
  /** The most output the call would like; the reservation may grant less. */
  maxOutputTokens: number;
  minOutputTokens: number;
  /** The dearest price the call may be answered at (its model or the fallback). */
  price: TokenPrice;
  /** How long the reservation holds without a renewal (a dead process's is released after it). */
  leaseMs: number;
}

export type Reservation =
  | { ok: true; id: string; maxOutputTokens: number; tokens: number; microUsd: number }
  /** No room: the tightest budget that refused it. */
  | { ok: false; budget: Budget };

export interface SettleInput {
  principalId: string;
  /** Where the call answered (usage by channel); '' when unknown. */
  channelExternalId?: string | undefined;
  /** The reservation the call made; null when no budget applied. */
  reservationId: string | null;
  entries: UsageEntry[];
  /** The budgets in force: their 80% warnings are checked. */
  budgets: Budget[];
}

/**
 * Spend per workspace and user, per UTC day and month, in tokens and micro-USD (implemented in
 * src/db, used by the model gate). A call reserves the most it can cost first (held in the
 * database, so every instance sees it) and settles the real figure after, so concurrent calls
 * cannot overshoot a budget.
 */
export interface UsageLedger {
  /** Reserves prompt + the output the tightest budget allows, or names the budget with no room. */
  reserve(scope: Scope, request: ReserveRequest): Promise<Reservation>;
  /**
   * Replaces a reservation (none when null) with what was really used, records usage per user,
   * model and channel, and answers the budgets whose 80% line this call crossed first.
   */
  settle(scope: Scope, input: SettleInput): Promise<{ crossed: BudgetAlert[] }>;
  /** Extends the leases of reservations of calls still running. */
  renew(reservations: ReadonlyArray<{ scope: Scope; id: string }>, leaseMs: number): Promise<void>;
}

/**
 * Told once per budget and period when spend crosses 80% of a budget. The gate audits the
 * crossing itself; src/core/alerts.ts implements this to message the workspace's admins.
 */
export interface BudgetAlertSink {
  budgetWarning(scope: Scope, alert: BudgetAlert): Promise<void>;
}

/** A message found by `search_history`, with where it came from so the audience rule can be applied. */
export interface FoundMessage {
  content: string;
  role: 'user' | 'assistant';
  createdAt: Date;
  channelExternalId: string;
  conversationKind: ChannelKind;
  ownerPrincipalId: string | null;
}

/** What the agent's built-in tools read and write (implemented in src/db). Always scoped. */
export interface AgentStore {
  /**
   * Full-text search over messages of the given channels, plus (when `dmOwnerPrincipalId` is
   * set) that one principal's own DMs. Nothing else is searched.
   */
  searchMessages(
    scope: Scope,
    query: { text: string; channelExternalIds: string[]; dmOwnerPrincipalId: string | null; since?: Date; limit: number },
  ): Promise<FoundMessage[]>;
  /** The latest messages of one channel's (non-DM) conversations, oldest first. */
  recentMessages(scope: Scope, channelExternalId: string, limit: number): Promise<FoundMessage[]>;
  /** Group and channel conversations of the workspace that hold messages (candidates for a DM search). */
  channelsWithHistory(scope: Scope, limit: number): Promise<{ externalId: string; kind: ChannelKind }[]>;
  /** The channel's admin rule for a tool (`/agent tools`); undefined when none was set. */
  toolRule(scope: Scope, channelExternalId: string, tool: string): Promise<boolean | undefined>;
  remember(scope: Scope, principalId: string, content: string): Promise<void>;
  recall(scope: Scope, principalId: string, limit: number): Promise<{ content: string; createdAt: Date }[]>;
  usageToday(scope: Scope, principalId: string): Promise<{ calls: number; inputTokens: number; outputTokens: number }>;
}

export type InboxStatus = 'pending' | 'working' | 'done' | 'dead';

export interface InboxItem {
  id: string;
  envelope: Envelope;
  attempts: number;
  /** The status message an earlier attempt posted (see DeliveryAttempt). */
  statusMessageId: string | null;
  /** The further parts' messages earlier attempts posted (see DeliveryAttempt). */
  partMessageIds: string[];
}

/** Durable intake: rows keyed by the platform's idempotency key, claimed by workers with a lease. */
export interface InboxStore {
  enqueue(envelope: Envelope): Promise<'accepted' | 'duplicate'>;
  /**
   * Claims up to `limit` rows, round-robin across workspaces (each one's oldest first), never more
   * than a workspace may run: its concurrency setting, else `perWorkspace`, minus the rows any
   * instance holds for it under a live lease.
   */
  claim(workerId: string, limit: number, leaseMs: number, perWorkspace: number): Promise<InboxItem[]>;
  /**
   * Rows that waited `olderThanMs` behind their own workspace's backlog (the workspace runs all it
   * may, see `claim`) and whose sender was not told yet: marks up to `limit` as told and answers
   * them with their place in that workspace's queue.
   */
  takeQueuedNotices(olderThanMs: number, limit: number, perWorkspace: number): Promise<Array<{ id: string; envelope: Envelope; position: number }>>;
  /** Remembers the "busy" status message shown for a row nobody has shown a status for yet. */
  rememberQueuedStatus(id: string, statusMessageId: string): Promise<void>;
  complete(id: string, workerId: string, platformMessageId: string | null): Promise<void>;
  /** Extends the leases of rows this worker still holds (a long turn is not taken by another worker). */
  renew(ids: string[], workerId: string, leaseMs: number): Promise<void>;
  /** Remembers the status message shown for a claimed row (only while this worker holds it). */
  rememberStatus(id: string, workerId: string, statusMessageId: string): Promise<void>;
  /** Remembers the messages of a long reply's further parts, all of them (only while this worker holds the row). */
  rememberParts(id: string, workerId: string, messageIds: string[]): Promise<void>;
  /** Gives a row back (shutdown, transient failure); dead-letters it after maxAttempts. */
  release(id: string, workerId: string, error: string, maxAttempts: number): Promise<InboxStatus>;
  depth(): Promise<{ pending: number; oldestPendingAgeMs: number | null }>;
  /** Deletes done rows older than doneMs and dead rows older than deadMs; returns how many. */
  prune(doneMs: number, deadMs: number): Promise<number>;
}

