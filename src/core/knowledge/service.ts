/**
 * Knowledge, put together: the indexer the adapters tell of changes, the search the agent's
 * search_history reads, the backfill runner, and (with an embedding model and pgvector) the
 * embedder that fills in chunks' vectors in the background, woken whenever chunks are stored.
 * The composition root makes one.
 */
import type { Platform, WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { Embedder, FileText, KnowledgeSource, KnowledgeStore, Logger } from '../ports.js';
import { startBackfill, type BackfillRunner } from './backfill.js';
import { startEmbedding, type EmbeddingRunner } from './embedding.js';
import { createKnowledgeIndexer, type KnowledgeIntake } from './indexer.js';
import { createKnowledgeSearch, type KnowledgeSearch } from './retrieval.js';

export interface KnowledgeOptions {
  store: KnowledgeStore;
  resolveWorkspace(ref: WorkspaceRef): Promise<Scope>;
  /** Set when an embedding model is configured and the database has pgvector (the store then has `embeddings`). */
  embedder: Embedder | null;
  /**
   * The background embedder's pace: least time between two requests (EMBED_BATCH chunks each). The
   * composition root gives it at most half the provider account's request rate (MODEL_RPM).
   */
  embedIntervalMs?: number;
  fileText?: FileText;
  log: Logger;
  workerId: string;
  backfill: { leaseMs: number; pagesPerClaim: number; idleMs?: number; retryMs?: number };
}

export interface Knowledge {
  intake: KnowledgeIntake;
  search: KnowledgeSearch;
  /** Each platform's history source, filled in as adapters start. */
  sources: Partial<Record<Platform, KnowledgeSource>>;
  start(): void;
  stop(): Promise<void>;
}

/** Chunks per embedding request. */
const EMBED_BATCH = 64;

export function createKnowledge(options: KnowledgeOptions): Knowledge {
  const sources: Partial<Record<Platform, KnowledgeSource>> = {};
  let runner: BackfillRunner | null = null;
  let embedding: EmbeddingRunner | null = null;
  const { embedder } = options;
  const queue = embedder ? options.store.embeddings : undefined;
  // Whatever stores chunks (events, backfill, file text) wakes the background embedder.
  const store: KnowledgeStore = queue
    ? {
        ...options.store,
        replaceSource: async (...args) => {
          const stored = await options.store.replaceSource(...args);
          if (stored > 0) embedding?.wake();
          return stored;
        },
      }
    : options.store;
  const indexer = createKnowledgeIndexer({
    store,
    resolveWorkspace: options.resolveWorkspace,
    sources,
    ...(options.fileText ? { fileText: options.fileText } : {}),
    backfillQueued: () => runner?.wake(),
    log: options.log,
  });
  return {
    intake: indexer,
    search: createKnowledgeSearch(store, queue ? embedder : null, options.log),
    sources,
    start() {
      runner = startBackfill({
        store,
        sources,
        index: (scope, workspace, place, message) => indexer.indexMessage(scope, workspace, place, message),
        log: options.log,
        workerId: options.workerId,
        ...options.backfill,
      });
      if (embedder && queue)
        embedding = startEmbedding({ queue, embedder, log: options.log, batch: EMBED_BATCH, intervalMs: options.embedIntervalMs ?? 250, idleMs: 30_000, retryMs: 5_000 });
    },
    async stop() {
      await Promise.all([runner?.stop(), embedding?.stop()]);
    },
  };
}
