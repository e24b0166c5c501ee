/** The platform ports: what the core asks of Slack, Teams and the console (membership, the directory, replies, history), and logging. */
import type { ContextReport } from '../context-report.js';
import type { ChannelRef, Envelope, FileRef, UserRef, WorkspaceRef } from '../envelope.js';
import type { UserFacts } from '../identity.js';
import type { KnowledgeSource } from './knowledge.js';
import type { ReplyAction } from '../interactions.js';
import type { HomeSurface } from './home.js';

/** Structured logging (pino satisfies it). Never pass tokens, secrets or message content. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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
  /**
   * Buttons under the message (confirm/cancel, feedback): each click comes back as an `action`
   * interaction through the adapter's verified entry point (src/core/interactions.ts).
   */
  actions?: ReplyAction[];
}

/** A private place to answer one person in: an Envelope's channel and replyRoute. */
export interface PrivatePlace {
  channel: ChannelRef;
  replyRoute: Record<string, unknown>;
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
   * the stream broke: the caller then aborts it and posts the answer normally. `actions` go under
   * the finished message (feedback buttons).
   */
  finish(fullText: string, actions?: ReplyAction[]): Promise<{ platformMessageId: string }>;
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
  /** The files the message shares (where the platform says). */
  files?: FileRef[];
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

/** What a file fetch answers. Expected outcomes are values: only the unexpected throws. */
export type FetchedFile =
  | { kind: 'ok'; bytes: Uint8Array; name: string; mimetype: string }
  /** The platform says the bot may not see it (Slack file_not_found, another workspace's file): it was not downloaded. */
  | { kind: 'not_visible' }
  /** Over the limit: the platform said so, or the download passed it and was stopped. */
  | { kind: 'too_large'; size: number | null }
  /** The platform could not be asked or refused for another reason (said in a few words, never a token). */
  | { kind: 'failed'; reason: string };

/**
 * Reads a file a message carried, as the bot, for the requester's turn. The caller decided access
 * (the requester may read the conversation the file came from); the adapter asks the platform
 * whether the bot may see the file before it downloads anything, sends its token only to the
 * platform's own hosts, and stops reading at `maxBytes`.
 */
export interface FileSource {
  fetch(where: { workspace: WorkspaceRef; channel: ChannelRef }, file: FileRef, maxBytes: number): Promise<FetchedFile>;
}

/** A file Quorum sends (UTF-8 text). */
export interface OutgoingFile {
  name: string;
  title: string;
  content: string;
}

export type FileDelivery = { kind: 'sent' } | { kind: 'offered' } | { kind: 'link'; url: string } | { kind: 'unreachable' };

/** Everything one platform adapter supplies to the core. */
export interface PlatformPorts {
  membership: MembershipSource;
  directory: UserDirectory;
  replies: ReplySink;
  /** Absent where the platform's history cannot be read (console; Teams without Graph): tools use stored messages. */
  history?: ConversationHistory;
  /** Absent where files cannot be read (the console): a turn with files says they were skipped. */
  files?: FileSource;
  /** The platform's history page by page, for knowledge backfills and permalinks; absent where it cannot be read. */
  knowledge?: KnowledgeSource;
  /**
   * A direct message from Quorum to one user of the workspace (budget alerts to admins), outside
   * any conversation they started. 'unreachable' when the platform gives no private way to reach
   * that user (Teams: no 1:1 chat with the bot yet). Throws REPLY_FAILED when the platform refused.
   * Absent where the platform cannot send one.
   */
  notify?(workspace: WorkspaceRef, userId: string, text: string): Promise<'sent' | 'unreachable'>;
  /**
   * Where this person can be answered privately, outside the conversation they clicked in (Slack:
   * the app's DM, opened with conversations.open; Teams: their 1:1 chat with the bot). null when
   * the platform gives no private place yet (Teams: no 1:1 chat). Absent where it cannot.
   */
  privateChannel?(workspace: WorkspaceRef, userId: string): Promise<PrivatePlace | null>;
  /**
   * Sends one user a file privately (`/agent audit export`): 'sent' into their DM, 'offered' when
   * they must accept it first (Teams file consent), 'link' to download it (the local console),
   * 'unreachable' when the platform gives no private way to them yet. Throws REPLY_FAILED when the
   * platform refused. Absent where the platform cannot send files.
   */
  sendFile?(workspace: WorkspaceRef, userId: string, file: OutgoingFile): Promise<FileDelivery>;
  /**
   * Told, before the reply, what a turn gave the model and what it left out and why (the local
   * console's "why did it see this?" view). Absent on Slack and Teams; must not throw.
   */
  inspect?(target: ReplyTarget, report: ContextReport): void;
  /** A person's own Home (Slack App Home, Teams settings card); absent where the platform has none. */
  home?: HomeSurface;
}
