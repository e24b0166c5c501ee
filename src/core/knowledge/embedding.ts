/**
 * The background embedder: gives chunks stored without a vector theirs, long after the platform's
 * ack (indexing stores the text only). It is its own throttle: one batch in flight at a time, the
 * next no sooner than `intervalMs` after the last began, a bounded number of batches per pass, and
 * after a failure it backs off (doubling) instead of retrying at once. Turns never wait for it.
 */
import type { ChunkEmbeddings, Embedder, Logger } from '../ports.js';

export interface EmbeddingDeps {
  queue: ChunkEmbeddings;
  embedder: Embedder;
  log: Logger;
  /** Chunks per request. */
  batch: number;
  /** Least time between the starts of two requests (the embedder's rate limit). */
  intervalMs: number;
  /** How long an idle embedder waits before it looks again without being woken. */
  idleMs: number;
  /** The first wait after a failure; it doubles, up to 64 times this. */
  retryMs: number;
}

export interface EmbeddingRunner {
  /** New chunks were stored: embed them soon. */
  wake(): void;
  stop(): Promise<void>;
}

/** Batches per pass before the runner yields (every loop is bounded). */
const BATCHES_PER_PASS = 50;
/** Chunks with another model's vector put back in the queue per statement. */
const REQUEUE_BATCH = 1_000;
/**
 * A wake starts a pass this much later: the event that stored the chunks is acked first, and a
 * burst of messages goes out as one batch.
 */
const WAKE_DELAY_MS = 100;

export function startEmbedding(deps: EmbeddingDeps): EmbeddingRunner {
  const { queue, embedder, log } = deps;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let dueAt = 0;
  let running: Promise<void> | null = null;
  let again = false;
  let failures = 0;
  let lastStart = 0;
  // Once per process: vectors a previous EMBEDDING_MODEL made go back in the queue.
  let requeued = false;
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

  /** One pass; true when chunks are left for the next one. */
  async function pass(): Promise<boolean> {
    if (!requeued) {
      for (let i = 0; i < 1_000 && !stopped; i++) if ((await queue.requeueOtherModels(REQUEUE_BATCH)) < REQUEUE_BATCH) break;
      requeued = true;
    }
    for (let i = 0; i < BATCHES_PER_PASS && !stopped; i++) {
      const rows = await queue.pending(deps.batch);
      if (rows.length === 0) return false;
      await pause(Math.max(0, lastStart + deps.intervalMs - Date.now()));
      lastStart = Date.now();
      const vectors = await embedder.embed(rows.map((r) => r.content), 'index');
      await queue.store(rows.map((r, n) => ({ id: r.id, embedding: vectors[n]! })));
      if (rows.length < deps.batch) return false;
    }
    return true;
  }

  function schedule(ms: number) {
    clearTimeout(timer);
    if (stopped) return;
    dueAt = Date.now() + ms;
    timer = setTimeout(run, ms);
    timer.unref?.();
  }

  function run() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    again = false;
    running = pass()
      .then((more) => {
        if (failures > 0) log.info({ event: 'knowledge.embed_resumed', failures }, 'the embedding model answers again');
        failures = 0;
        schedule(more || again ? 0 : deps.idleMs);
      })
      .catch((err: unknown) => {
        failures += 1;
        const waitMs = deps.retryMs * 2 ** Math.min(failures - 1, 6);
        // The chunks' text is never logged; the error is the provider's (status, message).
        log.warn({ event: 'knowledge.embed_failed', use: 'index', failures, retryInMs: waitMs, err: (err as Error).message.slice(0, 200) }, 'chunks not embedded; will retry');
        schedule(waitMs);
      })
      .finally(() => {
        running = null;
      });
  }

  schedule(0);
  return {
    wake() {
      // A failing embedder keeps its back-off; a pass in progress goes on with the new chunks.
      if (failures > 0 || stopped) return;
      if (running) again = true;
      else if (dueAt > Date.now() + WAKE_DELAY_MS) schedule(WAKE_DELAY_MS);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // A request in flight is left to finish or time out; nothing waits on it beyond a second.
      await Promise.race([running, pause(1_000)]);
    },
  };
}
