/**
 * Keeps the index true as the platforms report changes: a new or edited message replaces its
 * chunks, a deleted message or file deletes them (rows gone, not hidden), an archived channel
 * is withdrawn from searches elsewhere, a deleted one is dropped, and the bot joining a channel
 * queues its backfill. Adapters call this while handling the event, before they ack it, so a
 * failed write is retried by the platform. Nothing here calls a model.
 */
import type { ChannelRef, Platform, WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { FileText, KnowledgePlace, KnowledgeSource, KnowledgeStore, Logger, SharedFile, SourceMessage } from '../ports.js';
import { fileChunks, messageChunks } from './chunks.js';

/** What the adapters tell the index. Every method is idempotent (a platform retry does no harm). */
export interface KnowledgeIntake {
  /** A new or edited message (with the files it carries). */
  message(workspace: WorkspaceRef, place: KnowledgePlace, message: SourceMessage): Promise<void>;
  messageDeleted(workspace: WorkspaceRef, channelId: string, messageId: string): Promise<void>;
  fileDeleted(workspace: WorkspaceRef, fileId: string): Promise<void>;
  /** A file's content changed: read again where it was shared (through the FileText seam). */
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
  /** The files module's extractor; without it, files are indexed by name only. */
  fileText?: FileText;
  /** Told when a backfill was queued (the runner wakes up). */
  backfillQueued?(): void;
  log: Logger;
}

export function createKnowledgeIndexer(deps: IndexerDeps): KnowledgeIntake & { indexMessage(scope: Scope, workspace: WorkspaceRef, place: KnowledgePlace, message: SourceMessage): Promise<number> } {
  const { store, log } = deps;

  async function permalinkOf(workspace: WorkspaceRef, channel: ChannelRef, message: SourceMessage): Promise<string | null> {
    if (message.permalink) return message.permalink;
    try {
      return (await deps.sources[workspace.platform]?.permalink(workspace, channel, { id: message.id, threadId: message.threadId })) ?? null;
    } catch {
      return null;
    }
  }

  async function readFile(workspace: WorkspaceRef, file: SharedFile): Promise<string | null> {
    if (!deps.fileText) return null;
    try {
      return await deps.fileText.read(workspace, file);
    } catch (err) {
      log.warn({ event: 'knowledge.file_unread', file: file.id, err: (err as Error).message.slice(0, 200) }, 'shared file indexed by name only');
      return null;
    }
  }

  /** Stores one message and its files; answers how many chunks were stored. */
  async function indexMessage(scope: Scope, workspace: WorkspaceRef, place: KnowledgePlace, message: SourceMessage): Promise<number> {
    const permalink = await permalinkOf(workspace, place.channel, message);
    let stored = await store.replaceSource(scope, place, { kind: 'message', id: message.id }, messageChunks(message, permalink));
    for (const file of message.files) {
      const text = await readFile(workspace, file);
      stored += await store.replaceSource(scope, place, { kind: 'file', id: file.id }, fileChunks(file, text, message, permalink));
    }
    return stored;
  }

  return {
    indexMessage,
    async message(workspace, place, message) {
      const scope = await deps.resolveWorkspace(workspace);
      await indexMessage(scope, workspace, place, message);
    },
    async messageDeleted(workspace, channelId, messageId) {
      const scope = await deps.resolveWorkspace(workspace);
      await store.deleteMessage(scope, channelId, messageId);
    },
    async fileDeleted(workspace, fileId) {
      const scope = await deps.resolveWorkspace(workspace);
      await store.deleteFile(scope, fileId);
    },
    async fileChanged(workspace, file) {
      // Without an extractor the index holds only the name, which file_change does not carry anew.
      if (!deps.fileText) return;
      const scope = await deps.resolveWorkspace(workspace);
      const places = await store.fileSources(scope, file.id);
      if (places.length === 0) return;
      const text = await readFile(workspace, file);
      for (const p of places) {
        const shared: SourceMessage = { id: file.id, threadId: p.threadId, authorId: p.authorId, text: '', at: p.at, files: [] };
        await store.replaceSource(scope, p.place, { kind: 'file', id: file.id }, fileChunks(file, text, shared, p.permalink));
      }
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
