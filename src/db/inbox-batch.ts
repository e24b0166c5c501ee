/**
 * Intake under load: deliveries that arrive together are written in one multi-row INSERT (one
 * commit, one fsync) instead of one commit each (group-commit.ts). Each caller still learns its
 * own outcome, and still gets an error when the write failed, so nothing is acked that was not stored.
 */

import type { Envelope, WorkspaceRef } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { InboxStore } from '../core/ports.js';
import type { Db } from './client.js';
import { groupCommit } from './group-commit.js';
import { inbox } from './schema.js';
import { createWorkspaceCache } from './turn-store.js';

type Outcome = 'accepted' | 'duplicate';

/** Wraps a store so that `enqueue` batches; claim/complete/release/depth are the store's own. */
export function withBatchedEnqueue(
  db: Db,
  store: InboxStore,
  resolveWorkspace: (ref: WorkspaceRef) => Promise<Scope> = createWorkspaceCache(db),
): InboxStore {
  const keyOf = (e: Envelope) => `${e.workspace.platform}\u0000${e.idempotencyKey}`;
  const enqueue = groupCommit<Envelope, Outcome>(async (batch) => {
    // The same delivery twice in one batch: the first one decides, the others are duplicates.
    const first = new Map<string, number>();
    batch.forEach((e, i) => first.has(keyOf(e)) || first.set(keyOf(e), i));
    const unique = [...first.values()].map((i) => batch[i]!);
    const rows = await Promise.all(
      unique.map(async (e) => ({
        workspaceId: (await resolveWorkspace(e.workspace)).workspaceId,
        platform: e.workspace.platform,
        idempotencyKey: e.idempotencyKey,
        envelope: e,
      })),
    );
    const inserted = await db
      .insert(inbox)
      .values(rows)
      .onConflictDoNothing({ target: [inbox.platform, inbox.idempotencyKey] })
      .returning({ platform: inbox.platform, idempotencyKey: inbox.idempotencyKey });
    const accepted = new Set(inserted.map((r) => `${r.platform}\u0000${r.idempotencyKey}`));
    return batch.map((e, i) => (first.get(keyOf(e)) === i && accepted.has(keyOf(e)) ? 'accepted' : 'duplicate'));
  });
  return { ...store, enqueue };
}
