/**
 * Knowledge, put together: the indexer the adapters tell of changes, the search the agent's
 * search_history reads, the backfill runner, the file worker (shared files' text), and (with an embedding model and pgvector) the
 * embedder that fills in chunks' vectors in the background. The composition root makes one.
 */
import type { Platform, WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { AuditLog, Embedder, FileText, KnowledgeSource, KnowledgeStore, Logger } from '../ports.js';
import { startBackfill, type BackfillRunner } from './backfill.js';
import { startFileWorker, type FileWorker } from './file-worker.js';
import { createKnowledgeIndexer, type KnowledgeIntake } from './indexer.js';
import { createKnowledgeSearch, type KnowledgeSearch } from './retrieval.js';

export interface KnowledgeOptions {
  store: KnowledgeStore;
  resolveWorkspace(ref: WorkspaceRef): Promise<Scope>;
  /** Set when an embedding model is configured and the database has pgvector. */
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

/** Chunks embedded per background pass. */
const EMBED_BATCH = 64;

export function createKnowledge(options: KnowledgeOptions): Knowledge {
  const sources: Partial<Record<Platform, KnowledgeSource>> = {};
  let runner: BackfillRunner | null = null;
  let fileWorker: FileWorker | null = null;
  const filesQueued = () => fileWorker?.wake();
  const indexer = createKnowledgeIndexer({
    store: options.store,
    resolveWorkspace: options.resolveWorkspace,
    sources,
    backfillQueued: () => runner?.wake(),
    filesQueued,
    log: options.log,
  });
  const { embedder, store } = options;
  /** Fills in vectors of chunks stored without one (new messages are indexed before the ack, unembedded). */
  const embedPending = async () => {
    if (!embedder || !store.unembedded || !store.storeEmbeddings) return;
    const rows = await store.unembedded(EMBED_BATCH);
    if (rows.length === 0) return;
    const vectors = await embedder.embed(rows.map((r) => r.content));
    await store.storeEmbeddings(rows.map((r, i) => ({ id: r.id, embedding: vectors[i] ?? [] })).filter((r) => r.embedding.length > 0));
  };
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
        ...(embedder ? { afterPass: embedPending } : {}),
      });
      if (options.fileText)
        fileWorker = startFileWorker({ store, fileText: options.fileText, ...(options.audit ? { audit: options.audit } : {}), log: options.log, workerId: options.workerId, leaseMs: 120_000, ...options.files });
    },
    async stop() {
      await Promise.all([runner?.stop(), fileWorker?.stop()]);
    },
  };
}
