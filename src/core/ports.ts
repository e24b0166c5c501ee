/**
 * The interfaces the core needs from the outside world. Adapters implement the platform ports
 * (membership, directory, replies); src/db implements the stores; src/model implements the gate.
 */
import type { ChannelKind, ChannelRef, Envelope, Platform, UserRef, WorkspaceRef } from './envelope.js';
import type { Principal, Role, Scope, UserFacts } from './identity.js';
import type { ContextReport } from './context-report.js';

// ---------------------------------------------------------------- logging

/** Structured logging (pino satisfies it). Never pass tokens, secrets or message content. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

// ---------------------------------------------------------------- platform ports

/** Who is in a channel, as the platform says. Implementations cache, bound, and fail with MEMBERSHIP_UNAVAILABLE. */
export interface MembershipSource {
  isMember(workspace: WorkspaceRef, channel: ChannelRef, userId: string): Promise<boolean>;
}

/** Who a user is, as the platform says (role facts). Fails with DIRECTORY_UNAVAILABLE. */
export interface UserDirectory {
  lookup(workspace: WorkspaceRef, user: UserRef): Promise<UserFacts>;
}

/** Where a reply goes: enough of the envelope for the adapter to find the thread again. */
export type ReplyTarget = Pick<
  Envelope,
  'workspace' | 'user' | 'channel' | 'threadId' | 'messageId' | 'idempotencyKey' | 'replyRoute'
>;

/**
 * What one delivery remembers so that a re-run after a crash shows nothing twice, handed to the
 * ReplySink with every call. The core's Delivery (src/core/turn/delivery.ts) owns it and keeps it
 * current; outside the inbox it remembers nothing (see deliveryMemoryOf).
 */
export interface DeliveryMemory {
  /** The status (or streamed) message this delivery showed, maybe in an earlier attempt: reuse it rather than post another. */
  readonly statusMessageId: string | null;
  /**
   * The messages holding a long reply's parts after the first, as an earlier attempt posted them
   * (in order): updated in place, never posted again.
   */
  readonly partMessageIds: readonly string[];
  /**
   * Stores the ids of the parts after the first posted so far (all of them, in order). Where it is
   * given, a sink awaits it before it shows a new part's text (see showFurtherParts); absent outside
   * the inbox.
   */
  readonly rememberParts?: (messageIds: string[]) => Promise<void>;
}

export interface OutgoingReply {
  /** answer: the agent's reply; error/notice: a short message from Quorum itself. */
  kind: 'answer' | 'error' | 'notice';
  text: string;
  /** Only the requester should see it (Slack ephemeral); adapters fall back to a DM-visible reply. */
  private?: boolean;
}

/** Posts replies on one platform. */
export interface ReplySink {
  post(target: ReplyTarget, reply: OutgoingReply, memory: DeliveryMemory): Promise<{ platformMessageId: string }>;
  /**
   * A visible sign of work while the model runs (status message, typing indicator). Best effort.
   * Answers the id of the status message when it posted a new one, so that it can be remembered.
   */
  progress?(target: ReplyTarget, status: string, memory: DeliveryMemory): Promise<{ statusMessageId: string } | void>;
  /**
   * A stream to show the answer in while the model writes it, or null where this platform or
   * place cannot stream (then the answer is posted normally). Nothing is sent before the first
   * `append`. Only answers stream; errors, refusals and private notices are always posted.
   * `started` is told the id of the message the answer streams into as soon as it exists, and
   * awaited before the status message goes, so that a re-run replaces that message.
   */
  openStream?(target: ReplyTarget, memory: DeliveryMemory, started?: (messageId: string) => Promise<void>): ReplyStream | null;
}

/** An answer shown while it is being written (Slack chat streaming, Teams streaming in 1:1 chats). */
export interface ReplyStream {
  /** Adds text to the shown answer. Never throws: the platform is called batched, in the background. */
  append(text: string): void;
  /**
   * Ends the stream showing exactly `fullText`, which starts with everything appended. Throws when
   * the stream broke: the caller then aborts it and posts the answer normally.
   */
  finish(fullText: string): Promise<{ platformMessageId: string }>;
  /** Withdraws whatever was shown (best effort, never throws): the reply will be posted another way. */
  abort(): Promise<void>;
}


/**
 * Which attempt at a delivery a turn is, and what a re-run needs to avoid showing anything
 * twice: the status message an earlier attempt posted (the answer replaces it in place) and the
 * messages of a long answer's further parts (updated in place, only the missing ones posted).
 * Kept in the inbox row.
 */
export interface DeliveryAttempt {
  /** 1 for the first try; more after a crash or a failure. */
  number: number;
  /** Aborted when the turn ran out of time (TURN_TIMEOUT_MS) or the process is stopping. */
  signal?: AbortSignal;
  statusMessageId: string | null;
  /** Stores the status message before the model runs; the answer then updates it, whatever attempt posts it. */
  rememberStatus(statusMessageId: string): Promise<void>;
  /** The messages of the parts after the first that earlier attempts posted, in order. */
  partMessageIds: string[];
  /** Stores all of them, each new one before its text is shown (one write per further part; none for one-part replies). */
  rememberParts(messageIds: string[]): Promise<void>;
}

/** One message as the platform shows it (not only the turns Quorum stored). Its text is never logged. */
export interface PlatformMessage {
  /** The author's platform user id (a bot's id when the platform names no user). */
  authorId: string;
  authorIsBot: boolean;
  text: string;
  at: Date;
}

/**
 * Reads a conversation's messages from the platform, oldest first, at most `limit` (bounded
 * pages). The caller decides access first: this port only fetches. Fails with
 * HISTORY_UNAVAILABLE when the platform cannot be asked (not in the channel, missing scope, down).
 */
export interface ConversationHistory {
  /** One thread: its root and replies. */
  thread(workspace: WorkspaceRef, channel: ChannelRef, threadId: string, limit: number): Promise<PlatformMessage[]>;
  /** The channel's (or DM's) latest top-level messages. */
  recent(workspace: WorkspaceRef, channel: ChannelRef, limit: number): Promise<PlatformMessage[]>;
}

/** Everything one platform adapter supplies to the core. */
export interface PlatformPorts {
  membership: MembershipSource;
  directory: UserDirectory;
  replies: ReplySink;
  /** Absent where the platform's history cannot be read (console; Teams without Graph): tools use stored messages. */
  history?: ConversationHistory;
  /**
   * A direct message from Quorum to one user of the workspace (budget alerts to admins), outside
   * any conversation they started. 'unreachable' when the platform gives no private way to reach
   * that user (Teams: no 1:1 chat with the bot yet). Throws REPLY_FAILED when the platform refused.
   * Absent where the platform cannot send one.
   */
  notify?(workspace: WorkspaceRef, userId: string, text: string): Promise<'sent' | 'unreachable'>;
  /**
   * Told, before the reply, what a turn gave the model and what it left out and why (the local
   * console's "why did it see this?" view). Absent on Slack and Teams; must not throw.
   */
  inspect?(target: ReplyTarget, report: ContextReport): void;
}

// ---------------------------------------------------------------- model gate

/**
 * One message of a prompt. A model's tool calls stay on its assistant message (with their ids),
 * and what a tool returned comes back as a `tool` message naming the call it answers: the
 * provider sends each in its own protocol (OpenAI `tool` messages, Anthropic `tool_result`
 * blocks), so a tool's output is never presented as the user's words.
 */
export type PromptMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] | undefined }
  | { role: 'tool'; content: string; toolCallId: string; toolName: string };

export interface ModelCall {
  scope: Scope;
  principalId: string;
  messages: PromptMessage[];
  /** 'answer' uses MODEL_NAME; 'small' uses MODEL_SMALL_NAME. */
  tier?: 'answer' | 'small';
  /** Called when the call waits in a queue, with its position. */
  onQueued?: (position: number) => void;
  signal?: AbortSignal;
  /** The workspace's settings as the turn read them; the gate reads them itself when absent. */
  settings?: WorkspaceSettings;
  /**
   * Tools the model may ask for (name → spec). They have no execute: the model answers with
   * `toolCalls` and the core runs them, as the requester, with permission checks.
   */
  tools?: Record<string, ToolSpec>;
  /** 'none': the tools are offered (the prompt holds earlier calls) but the model must answer in text. */
  toolChoice?: 'auto' | 'none';
  /**
   * Streams the answer: the model is called in streaming mode and each piece of text is passed
   * here as it arrives. Retries and the fallback model apply only until the first piece went out;
   * a failure after that refuses the call (the partial text is not an answer).
   */
  onTextDelta?: (delta: string) => void;
}

/** A tool offered to the model. `inputSchema` is a zod schema or a plain JSON schema object. */
export interface ToolSpec {
  description: string;
  inputSchema: unknown;
}

/** A tool the model asked for, with its (not yet validated) input. */
export interface ToolCall {
  /** The provider's id for the call; its result names it. Absent only from hand-made calls (tests). */
  id?: string | undefined;
  toolName: string;
  input: unknown;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export type ModelOutcome =
  | { kind: 'answer'; text: string; model: string; usage: TokenUsage; latencyMs: number; toolCalls?: ToolCall[] }
  | { kind: 'refused'; reason: 'budget' | 'unavailable' | 'timeout' | 'unusable'; message: string; model?: string; latencyMs: number };

/** The only way anything in Quorum calls a model. Never throws for provider trouble: it answers with an outcome. */
export interface ModelGate {
  generate(call: ModelCall): Promise<ModelOutcome>;
}

// ---------------------------------------------------------------- stores

export interface WorkspaceSettings {
  storeContent: boolean;
  rpm: number | null;
  concurrency: number | null;
  dailyTokens: number | null;
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
}

export interface AuditEntryInput {
  action: 'turn' | 'model_call' | 'tool_call' | 'command' | 'admin_change' | 'denial' | 'erasure' | 'error' | 'budget';
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

/** One model's share of a settled call: the tokens the provider reported and their cost. */
export interface UsageEntry {
  model: string;
  usage: TokenUsage;
  costMicroUsd: number;
}

/**
 * Token budgets and usage per workspace and day (implemented in src/db, used by the model gate).
 * A call reserves its estimate first and settles the real count after, so concurrent calls
 * cannot overshoot a budget.
 */
export interface UsageLedger {
  /** Adds `tokens` to today's spend only if the total stays within `dailyTokens`. */
  reserve(scope: Scope, tokens: number, dailyTokens: number): Promise<boolean>;
  /**
   * Replaces a reservation (0 when none was made) with what was really used, records usage per
   * user and model, and reports whether this call crossed `warnAt` tokens first today.
   */
  settle(
    scope: Scope,
    input: { principalId: string; reservedTokens: number; entries: UsageEntry[]; warnAt: number | null },
  ): Promise<{ spentTokens: number; crossedWarning: boolean }>;
}

/**
 * Told once per workspace and day when token use crosses 80% of the daily budget. The gate
 * audits the crossing itself; src/core/alerts.ts implements this to message the workspace's admins.
 */
export interface BudgetAlertSink {
  budgetWarning(scope: Scope, alert: { spentTokens: number; dailyTokens: number }): Promise<void>;
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

export type { Platform, Role };

// ---------------------------------------------------------------- installations

/** One stored platform installation. `secret` is the platform's credentials (tokens), sealed at rest by the store. */
export interface InstallationRecord {
  secret: string;
  /** Non-secret facts (ids, scopes) that may be read without opening the secret. */
  data: Record<string, unknown>;
}

/**
 * Platform installations (Slack OAuth installs), keyed by platform and install key (a team id,
 * or `enterprise:<id>` for an org-wide install). Implemented in src/db; secrets never leave it unsealed on disk.
 */
export interface InstallationRecords {
  save(input: { platform: Platform; installKey: string; workspace: WorkspaceRef | null } & InstallationRecord): Promise<void>;
  find(platform: Platform, installKey: string): Promise<InstallationRecord | null>;
  remove(platform: Platform, installKey: string): Promise<void>;
  /** The app was removed from the workspace: stamp it uninstalled (its data is purged after the grace period). */
  markUninstalled(workspace: WorkspaceRef): Promise<void>;
}

// ---------------------------------------------------------------- replayed requests

/**
 * Signed platform requests already acted on, shared by every instance: a request replayed while its
 * signature is still valid is seen again and does nothing.
 */
export interface SeenRequests {
  /** True the first time `key` is offered (remembered for `ttlMs`), false for every later offer. */
  firstTime(key: string, ttlMs: number): Promise<boolean>;
}

// ---------------------------------------------------------------- conversation references

/**
 * Where an adapter can post later, outside the request that told it (Teams conversation
 * references for proactive replies, installs that admit a tenant). Rows belong to one workspace;
 * `data` is the platform's own routing object, opaque to the core, never a secret.
 */
export interface ConversationRefStore {
  save(workspace: WorkspaceRef, key: string, data: Record<string, unknown>): Promise<void>;
  load(workspace: WorkspaceRef, key: string): Promise<Record<string, unknown> | null>;
  /** Whether any reference whose key starts with `prefix` is stored (no workspace is created). */
  has(workspace: WorkspaceRef, prefix: string): Promise<boolean>;
  /** Drops the references whose key starts with `prefix`; returns how many went. */
  remove(workspace: WorkspaceRef, prefix: string): Promise<number>;
}
