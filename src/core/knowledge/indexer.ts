/**
 * Keeps the index true as the platforms report changes: a new or edited message replaces its
 * chunks, a deleted message or file deletes them (rows gone, not hidden), an archived channel
 * is withdrawn from searches elsewhere, a deleted one is dropped, and the bot joining a channel
 * queues its backfill. Adapters call this while handling the event, before they ack it, so a
 * failed write is retried by the platform. Shared files are only queued here (by name at once):
 * reading one can take seconds, so the file worker does it (file-worker.ts). Nothing here calls a model.
 */
import type { ChannelRef, Platform, WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { KnowledgeBatch, KnowledgePlace, KnowledgeSource, KnowledgeStore, Logger, SharedFile, SourceMessage } from '../ports.js';
import { messageChunks } from './chunks.js';

/** What the adapters tell the index. Every method is idempotent (a platform retry does no harm). */
export interface KnowledgeIntake {
  /** A new or edited message (with the files it carries). */
  message(workspace: WorkspaceRef, place: KnowledgePlace, message: SourceMessage): Promise<void>;
  messageDeleted(workspace: WorkspaceRef, channelId: string, messageId: string): Promise<void>;
  fileDeleted(workspace: WorkspaceRef, fileId: string): Promise<void>;
  /** A file's content changed: read again, in the background, wherever it was shared. */
  fileChanged(workspace: WorkspaceRef, file: SharedFile): Promise<void>;
  channelArchived(workspace: WorkspaceRef, channelId: string, archived: boolean): Promise<void>;
  channelDeleted(workspace: WorkspaceRef, channelId: string): Promise<void>;
  /** The bot was added to a channel: its history is backfilled in the background. */
  botJoined(workspace: WorkspaceRef, channel: ChannelRef): Promise<void>;
}

export interface IndexerDeps {
  store: KnowledgeStore;
  resolveWorkspace(ref: WorkspaceRef): Promise<Scope>;
  /** Platform history, for permalinks (and backfills). */
  sources: Partial<Record<Platform, KnowledgeSource>>;
  /** Told when a backfill was queued (the runner wakes up). */
  backfillQueued?(): void;
  /** Told when files were queued for reading (the file worker wakes up). */
  filesQueued?(): void;
  log: Logger;
}

export interface KnowledgeIndexer extends KnowledgeIntake {
  /** What one message writes (its chunks, its files queued), for the caller to store (the backfill: a page at once). */
  batchOf(workspace: WorkspaceRef, place: KnowledgePlace, message: SourceMessage): Promise<KnowledgeBatch>;
}

export function createKnowledgeIndexer(deps: IndexerDeps): KnowledgeIndexer {
  const { store, log } = deps;

  async function permalinkOf(workspace: WorkspaceRef, channel: ChannelRef, message: SourceMessage): Promise<string | null> {
    if (message.permalink) return message.permalink;
    try {
      return (await deps.sources[workspace.platform]?.permalink(workspace, channel, { id: message.id, threadId: message.threadId })) ?? null;
    } catch {
      return null;
    }
  }

  /** The message's chunks, and its files for the background reader (too slow to read before the ack). */
  async function batchOf(workspace: WorkspaceRef, place: KnowledgePlace, message: SourceMessage): Promise<KnowledgeBatch> {
    const permalink = await permalinkOf(workspace, place.channel, message);
    return {
      sources: [{ place, source: { kind: 'message', id: message.id }, chunks: messageChunks(message, permalink) }],
      files: message.files.map((file) => ({ place, file, threadId: message.threadId, authorId: message.authorId, at: message.at, permalink: file.permalink ?? permalink })),
    };
  }

  return {
    batchOf,
    async message(workspace, place, message) {
      const scope = await deps.resolveWorkspace(workspace);
      const batch = await batchOf(workspace, place, message);
      await store.storeBatch(scope, batch);
      if (batch.files.length > 0) deps.filesQueued?.();
    },
    async messageDeleted(workspace, channelId, messageId) {
      const scope = await deps.resolveWorkspace(workspace);
      await store.deleteMessage(scope, channelId, messageId);
    },
    async fileDeleted(workspace, fileId) {
      const scope = await deps.resolveWorkspace(workspace);
      const removed = await store.deleteFile(scope, fileId);
      log.info({ event: 'knowledge.file_deleted', file: fileId, chunks: removed }, 'shared file removed from the index');
    },
    async fileChanged(workspace, file) {
      // Read again in the background wherever it was shared; a file never queued is not known here.
      const scope = await deps.resolveWorkspace(workspace);
      if ((await store.requeueFile(scope, file.id)) > 0) deps.filesQueued?.();
    },
    async channelArchived(workspace, channelId, archived) {
      const scope = await deps.resolveWorkspace(workspace);
      await store.setArchived(scope, channelId, archived);
    },
    async channelDeleted(workspace, channelId) {
      const scope = await deps.resolveWorkspace(workspace);
      await store.deleteChannel(scope, channelId);
    },
    async botJoined(workspace, channel) {
      if (channel.kind === 'dm') return;
      const scope = await deps.resolveWorkspace(workspace);
      if (await store.requestBackfill(scope, channel)) {
        log.info({ event: 'knowledge.backfill_queued', channel: channel.id }, 'channel history will be indexed');
        deps.backfillQueued?.();
      }
    },
  };
}
