/**
 * The knowledge ports: the index the core keeps of what Quorum may find again (src/db implements
 * KnowledgeStore), what a platform gives it to backfill (KnowledgeSource, adapters implement it),
 * the seams to the file extractor (FileText) and to an embedding model (Embedder).
 */
import type { ChannelKind, ChannelRef, WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';

/** One message (and the files it carries) as the platform has it; its text is never logged. */
export interface SourceMessage {
  /** The platform's id of the message (Slack ts, Teams activity id). */
  id: string;
  /** The thread's root id, when the message is in a thread. */
  threadId: string | null;
  authorId: string | null;
  text: string;
  at: Date;
  files: SharedFile[];
  /** A thread root with replies: the backfill reads the thread too. */
  hasReplies?: boolean;
  /** A link to the message (Slack permalink, Teams deep link), when the platform gave one. */
  permalink?: string | null;
}

export interface SharedFile {
  id: string;
  name: string;
  mimetype?: string | undefined;
  permalink?: string | null | undefined;
  /** Where the platform keeps it when its id alone does not say (Teams: the SharePoint address); opaque to the core. */
  source?: Record<string, unknown> | undefined;
}

/** Where a source lives and who may get it back (the audience rule, stored with every chunk). */
export interface KnowledgePlace {
  channel: ChannelRef;
  /** For a DM: the platform user id of its owner. */
  dmOwnerUserId: string | null;
}

/** A chunk ready to store: its text, its source and its audience. */
export interface ChunkInput {
  sourceKind: 'message' | 'file';
  sourceId: string;
  threadId: string | null;
  authorId: string | null;
  chunkNo: number;
  content: string;
  permalink: string | null;
  at: Date;
}

/** One source's chunks, replacing what was stored for it (an edit). */
export interface SourceWrite {
  place: KnowledgePlace;
  source: { kind: 'message' | 'file'; id: string };
  chunks: ChunkInput[];
}

/** A shared file to read in the background, with where it was shared (its audience) and how to cite it. */
export interface FileJobInput {
  place: KnowledgePlace;
  file: SharedFile;
  threadId: string | null;
  authorId: string | null;
  at: Date;
  permalink: string | null;
}

/**
 * What one message (or one backfill page) writes, in one transaction: its sources' chunks and its
 * files queued for reading. A file already queued at that place keeps its row and its chunks (an
 * edit of the message does not read the file again); a newly queued one is stored by name at once.
 */
export interface KnowledgeBatch {
  sources: SourceWrite[];
  files: FileJobInput[];
}

/** A file job as claimed by one worker (lease), with what reading and storing it needs. */
export interface FileJobClaim extends FileJobInput {
  scope: Scope;
  workspace: WorkspaceRef;
  attempts: number;
}

/**
 * How a file job ended: its text's chunks stored (`indexed`), or `skipped` with a reason a person
 * can read, its chunks then only its name (a changed file that can no longer be read loses its old text).
 */
export interface FileJobOutcome {
  status: 'indexed' | 'skipped';
  reason: string | null;
  chunks: ChunkInput[];
}

/**
 * The durable queue of files to read (src/db/knowledge-file-jobs.ts): claimed by one worker of any
 * instance at a time, resumed by another when its lease runs out.
 */
export interface FileIndexQueue {
  claimFileJob(workerId: string, leaseMs: number): Promise<FileJobClaim | null>;
  /** Stores the outcome (and the chunks) in one transaction, only while the claim holds; false when it was lost (the file was deleted or changed meanwhile). */
  completeFileJob(claim: FileJobClaim, workerId: string, outcome: FileJobOutcome): Promise<boolean>;
  /** A try failed: due again after `retryInMs`; `giveUp` records it as skipped with the reason. */
  failFileJob(claim: FileJobClaim, workerId: string, failure: { reason: string; retryInMs: number; giveUp: boolean }): Promise<void>;
  /** Gives the job back untouched (the worker stops): due again at once, for any instance. */
  releaseFileJob(claim: FileJobClaim, workerId: string): Promise<void>;
  /** The file changed: read it again wherever it was shared. Answers how many places were queued. */
  requeueFile(scope: Scope, fileId: string): Promise<number>;
}

/** A chunk found for a requester, with what is needed to cite it. */
export interface FoundChunk {
  content: string;
  channelExternalId: string;
  channelKind: ChannelKind;
  dmOwnerUserId: string | null;
  sourceKind: 'message' | 'file';
  sourceId: string;
  authorId: string | null;
  permalink: string | null;
  at: Date;
}

export interface KnowledgeQuery {
  text: string;
  /** The non-DM channels the requester (and the whole audience) may read: a parameter of the query. */
  channelExternalIds: string[];
  /** The requester's own DMs are searched too when set (a DM audience only). */
  dmOwnerUserId: string | null;
  /** The query's embedding: adds vector similarity where the database has pgvector. */
  embedding?: number[] | null;
  since?: Date;
  limit: number;
}

export interface ChannelKnowledge {
  channelExternalId: string;
  channelKind: ChannelKind;
  enabled: boolean;
  archived: boolean;
  backfill: 'none' | 'pending' | 'running' | 'done' | 'failed';
  pages: number;
  messages: number;
  chunks: number;
  lastError: string | null;
  /** Its shared files: read into the index, skipped (with the latest reasons), waiting. */
  files: { indexed: number; skipped: number; pending: number; skippedReasons: Array<{ name: string; reason: string }> };
}

/** A channel's backfill as claimed by one worker (its lease is renewed as pages are stored). */
export interface BackfillClaim {
  scope: Scope;
  workspace: WorkspaceRef;
  channel: ChannelRef;
  cursor: string | null;
  pages: number;
}

/** What erasures removed from the index. */
export interface KnowledgeErasure {
  chunks: number;
}

/** The index (src/db/knowledge-store.ts). Every method is scoped; membership is a parameter of searches. */
export interface KnowledgeStore extends FileIndexQueue {
  /**
   * Replaces one source's chunks with these (an edit), in one statement per source; nothing is
   * stored for a channel whose knowledge an admin switched off. Answers how many were stored.
   */
  replaceSource(scope: Scope, place: KnowledgePlace, source: { kind: 'message' | 'file'; id: string }, chunks: ChunkInput[]): Promise<number>;
  /** Stores one message's batch in one transaction; answers how many chunks were stored. */
  storeBatch(scope: Scope, batch: KnowledgeBatch): Promise<number>;
  /** Deletes a message's chunks (and its thread's, when it was a thread root deleted with its replies). */
  deleteMessage(scope: Scope, channelExternalId: string, messageId: string): Promise<number>;
  /** Deletes a file's chunks wherever it was shared, and its jobs (a read in progress stores nothing). */
  deleteFile(scope: Scope, fileId: string): Promise<number>;
  /** Deletes a whole channel's chunks (the channel was deleted). */
  deleteChannel(scope: Scope, channelExternalId: string): Promise<number>;
  setArchived(scope: Scope, channelExternalId: string, archived: boolean): Promise<void>;
  search(scope: Scope, query: KnowledgeQuery): Promise<FoundChunk[]>;
  /** Channels with knowledge that a DM search may offer (not archived, not switched off). */
  channels(scope: Scope, limit: number): Promise<{ externalId: string; kind: ChannelKind }[]>;
  status(scope: Scope, limit: number): Promise<ChannelKnowledge[]>;
  /** Queues a backfill for a channel (unless it is switched off, or one already ran); true when queued. */
  requestBackfill(scope: Scope, channel: ChannelRef): Promise<boolean>;
  /** Takes one channel whose backfill is due, for `leaseMs`; null when none is. */
  claimBackfill(workerId: string, leaseMs: number): Promise<BackfillClaim | null>;
  /**
   * Stores a page: its rows and its progress (the next cursor) in one transaction, only while the
   * lease is held; false (nothing stored) when it was lost.
   */
  advanceBackfill(claim: BackfillClaim, workerId: string, progress: { cursor: string | null; messages: number; leaseMs: number; batch: KnowledgeBatch }): Promise<boolean>;
  /** Gives the channel back (error null: its turn is over, it is not a failure): to be retried after `retryInMs` (rate limits, failures), or failed for good. */
  releaseBackfill(claim: BackfillClaim, workerId: string, outcome: { error: string | null; retryInMs: number; giveUp: boolean }): Promise<void>;
  /** Where a file was indexed (one entry per place it was shared), to read it again after a change. */
  fileSources(scope: Scope, fileId: string): Promise<Array<{ place: KnowledgePlace; threadId: string | null; authorId: string | null; at: Date; permalink: string | null }>>;
  /** The chunks still to embed, and storing their vectors (present with an embedding model and pgvector). */
  embeddings?: ChunkEmbeddings;
}

/** The queue of chunks without a vector of the configured embedding model. */
export interface ChunkEmbeddings {
  /** Up to `limit` chunks without a vector, shared fairly across workspaces. */
  pending(limit: number): Promise<{ id: number; content: string }[]>;
  /** Stores vectors of chunks that still exist and still have none; answers how many were stored. */
  store(rows: { id: number; embedding: number[] }[]): Promise<number>;
  /** Puts up to `limit` chunks with another model's vector back in the queue; answers how many. */
  requeueOtherModels(limit: number): Promise<number>;
}

/** A platform's history, page by page, for backfills (Slack conversations.history / .replies). */
export interface KnowledgeSource {
  /** One page of the channel's top-level messages, newest first; `next` null at the end. */
  historyPage(workspace: WorkspaceRef, channel: ChannelRef, cursor: string | null): Promise<{ messages: SourceMessage[]; next: string | null }>;
  /** One page of a thread's messages, oldest first. */
  repliesPage(workspace: WorkspaceRef, channel: ChannelRef, threadId: string, cursor: string | null): Promise<{ messages: SourceMessage[]; next: string | null }>;
  /** A link to a message, for citations. */
  permalink(workspace: WorkspaceRef, channel: ChannelRef, message: { id: string; threadId: string | null }): Promise<string | null>;
}

/** What reading a shared file gave: its text; skipped for good (with why); or failed this time (worth another try). */
export type FileReadOutcome = { kind: 'text'; text: string; bytes: number } | { kind: 'skipped'; reason: string } | { kind: 'failed'; reason: string };

/**
 * The text of a shared file, read as the bot where it was shared (the platform checks the file is
 * shared in that conversation before anything is downloaded): the files module's FileSource and
 * extractor, wired by the composition root. Never throws for an expected outcome.
 */
export interface FileText {
  read(where: { workspace: WorkspaceRef; channel: ChannelRef }, file: SharedFile): Promise<FileReadOutcome>;
}

/** An embedding model (EMBEDDING_MODEL, through the AI SDK), throttled by its own limiter. */
export interface Embedder {
  /**
   * One vector per text, in order. A `query` (a search in a turn) goes ahead of `index` work (the
   * background embedder) and gives up sooner.
   */
  embed(texts: string[], use: 'query' | 'index'): Promise<number[][]>;
  /** Least time between two background requests: the embedder's share of the provider's rate. */
  readonly indexIntervalMs: number;
}
