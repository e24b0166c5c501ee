/**
 * Intake under load: deliveries that arrive together are written in one multi-row INSERT (one
 * commit, one fsync) instead of one commit each. Each caller still learns its own outcome, and
 * still gets an error when the write failed, so nothing is acked that was not stored.
 */

import type { Envelope, WorkspaceRef } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { InboxStore } from '../core/ports.js';
import type { Db } from './client.js';
import { inbox } from './schema.js';
import { createWorkspaceCache } from './turn-store.js';

const MAX_BATCH = 200;
/** Writes in flight at once; what arrives meanwhile waits and goes in the next batch (group commit). */
const MAX_IN_FLIGHT = 4;

interface Pending {
  envelope: Envelope;
  resolve: (status: 'accepted' | 'duplicate') => void;
  reject: (err: unknown) => void;
}

/** Wraps a store so that `enqueue` batches; claim/complete/release/depth are the store's own. */
export function withBatchedEnqueue(
  db: Db,
  store: InboxStore,
  resolveWorkspace: (ref: WorkspaceRef) => Promise<Scope> = createWorkspaceCache(db),
): InboxStore {
  let queue: Pending[] = [];
  let scheduled = false;
  let inFlight = 0;

  async function flush(batch: Pending[]): Promise<void> {
    // The same delivery twice in one batch: the first one decides, the others are duplicates.
    const first = new Map<string, Pending>();
    const repeats: Pending[] = [];
    for (const p of batch) {
      const key = `${p.envelope.workspace.platform}\u0000${p.envelope.idempotencyKey}`;
      if (first.has(key)) repeats.push(p);
      else first.set(key, p);
    }
    try {
      const unique = [...first.values()];
      const rows = await Promise.all(
        unique.map(async (p) => ({
          workspaceId: (await resolveWorkspace(p.envelope.workspace)).workspaceId,
          platform: p.envelope.workspace.platform,
          idempotencyKey: p.envelope.idempotencyKey,
          envelope: p.envelope,
        })),
      );
      const inserted = await db
        .insert(inbox)
        .values(rows)
        .onConflictDoNothing({ target: [inbox.platform, inbox.idempotencyKey] })
        .returning({ platform: inbox.platform, idempotencyKey: inbox.idempotencyKey });
      const accepted = new Set(inserted.map((r) => `${r.platform}\u0000${r.idempotencyKey}`));
      for (const [key, p] of first) p.resolve(accepted.has(key) ? 'accepted' : 'duplicate');
      for (const p of repeats) p.resolve('duplicate');
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  function drain(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < MAX_IN_FLIGHT) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      inFlight += 1;
      void flush(batch).finally(() => {
        inFlight -= 1;
        drain();
      });
    }
  }

  return {
    ...store,
    enqueue(envelope) {
      return new Promise((resolve, reject) => {
        queue.push({ envelope, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // Collect what arrives in the same turn of the event loop (and I/O callbacks just before it).
          setImmediate(drain);
        }
      });
    },
  };
}

