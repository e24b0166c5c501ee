/**
 * Knowledge, put together: the indexer the adapters tell of changes, the search the agent's
 * search_history reads, the backfill runner, the file worker (shared files' text), and (with an
 * embedding model and pgvector) the embedder that fills in chunks' vectors in the background,
 * woken whenever chunks are stored. The composition root makes one.
 */
import type { Platform, WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { AuditLog, Embedder, FileText, KnowledgeSource, KnowledgeStore, Logger } from '../ports.js';
import { startBackfill, type BackfillRunner } from './backfill.js';
import { startEmbedding, type EmbeddingRunner } from './embedding.js';
import { startFileWorker, type FileWorker } from './file-worker.js';
import { createKnowledgeIndexer, type KnowledgeIntake } from './indexer.js';
import { createKnowledgeSearch, type KnowledgeSearch } from './retrieval.js';

export interface KnowledgeOptions {
  store: KnowledgeStore;
  resolveWorkspace(ref: WorkspaceRef): Promise<Scope>;
  /** Set when an embedding model is configured and the database has pgvector (the store then has `embeddings`). */
  embedder: Embedder | null;
  /** Reads shared files (the files module, wired by the composition root); without it, files are indexed by name only. */
  fileText?: FileText;
  /** Where each file read by the index is audited. */
  audit?: AuditLog;
  log: Logger;
  workerId: string;
  backfill: { leaseMs: number; pagesPerClaim: number; idleMs?: number; retryMs?: number };
  files?: { leaseMs: number; idleMs?: number; retryMs?: number; maxAttempts?: number };
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
/** The store's writes that add chunks: each wakes the background embedder. */
const STORING = ['replaceSource', 'storeBatch', 'advanceBackfill', 'completeFileJob'] as const;

/** `store`, with `stored()` called after each write that may have added chunks. */
function notifyingStore(store: KnowledgeStore, stored: () => void): KnowledgeStore {
  const wrapped: KnowledgeStore = { ...store };
  for (const name of STORING) {
    const write = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>;
    (wrapped as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const result = await write(...args);
      stored();
      return result;
    };
  }
  return wrapped;
}

export function createKnowledge(options: KnowledgeOptions): Knowledge {
  const sources: Partial<Record<Platform, KnowledgeSource>> = {};
  let runner: BackfillRunner | null = null;
  let fileWorker: FileWorker | null = null;
  let embedding: EmbeddingRunner | null = null;
  const filesQueued = () => fileWorker?.wake();
  const queue = options.embedder ? options.store.embeddings : undefined;
  const embedder = queue ? options.embedder : null;
  // Whatever stores chunks (events, backfill, file text) wakes the background embedder.
  const store = queue ? notifyingStore(options.store, () => embedding?.wake()) : options.store;
  const indexer = createKnowledgeIndexer({
    store,
    resolveWorkspace: options.resolveWorkspace,
    sources,
    backfillQueued: () => runner?.wake(),
    filesQueued,
    log: options.log,
  });
  return {
    intake: indexer,
    search: createKnowledgeSearch(store, embedder, options.log),
    sources,
    start() {
      runner = startBackfill({
        store,
        sources,
        batchOf: (workspace, place, message) => indexer.batchOf(workspace, place, message),
        filesQueued,
        log: options.log,
        workerId: options.workerId,
        ...options.backfill,
      });
      if (options.fileText)
        fileWorker = startFileWorker({ store, fileText: options.fileText, ...(options.audit ? { audit: options.audit } : {}), log: options.log, workerId: options.workerId, leaseMs: 120_000, ...options.files });
      if (embedder && queue)
        embedding = startEmbedding({ queue, embedder, log: options.log, batch: EMBED_BATCH, intervalMs: embedder.indexIntervalMs, idleMs: 30_000, retryMs: 5_000 });
    },
    async stop() {
      await Promise.all([runner?.stop(), fileWorker?.stop(), embedding?.stop()]);
    },
  };
}
