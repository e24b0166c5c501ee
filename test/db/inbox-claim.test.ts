/**
 * The inbox's fair claim on the real migrations: round-robin across workspaces, each capped at its
 * concurrency over every worker's live leases (a lapsed lease does not count), a workspace's own
 * setting over the default; and each waiting sender told once.
 */
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/core/envelope.js';
import { createInboxStore } from '../../src/db/inbox-store.js';
import { inbox, workspaceSettings } from '../../src/db/schema.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { drivers, useTestDatabase } from '../support/db.js';
import { directMessage } from '../support/envelopes.js';

describe.each(drivers)('fair inbox claims (%s)', (driver) => {
  const db = useTestDatabase(driver);

  it('claims round-robin, caps each workspace over every worker, and counts lapsed leases out', async () => {
    const store = createInboxStore(db().db);
    const envelope = (key: string, team: string) => directMessage(key, 'hi', team) as Envelope;
    for (let n = 0; n < 6; n++) await store.enqueue(envelope(`busy-${n}`, 'T-BUSY'));
    for (let n = 0; n < 2; n++) await store.enqueue(envelope(`calm-${n}`, 'T-CALM'));
    const teams = (items: Array<{ envelope: Envelope }>) => items.map((i) => i.envelope.idempotencyKey);

    // Round-robin: the calm workspace's first row comes before the busy one's second (items come back in id order).
    expect(teams(await store.claim('w1', 2, 60_000, 2))).toEqual(['busy-0', 'calm-0']);
    // Two workers (of two instances): together never more than 2 of a workspace.
    expect(teams(await store.claim('w2', 10, 60_000, 2))).toEqual(['busy-1', 'calm-1']);
    expect(await store.claim('w2', 10, 60_000, 2)).toEqual([]);

    // w1 died: its leases lapse and stop counting, and its rows are each workspace's first claimed again.
    await db().db.update(inbox).set({ leaseUntil: new Date(Date.now() - 1_000) }).where(eq(inbox.claimedBy, 'w1'));
    expect(teams(await store.claim('w2', 10, 60_000, 2))).toEqual(['busy-0', 'calm-0']);

    // An admin lets the busy workspace run 4 at once: two more.
    const scope = await createTurnStore(db().db).resolveWorkspace({ platform: 'slack', externalId: 'T-BUSY' });
    await db().db
      .insert(workspaceSettings)
      .values({ workspaceId: scope.workspaceId, concurrency: 4 })
      .onConflictDoUpdate({ target: workspaceSettings.workspaceId, set: { concurrency: 4, updatedAt: sql`now()` } });
    expect(teams(await store.claim('w3', 10, 60_000, 2))).toEqual(['busy-2', 'busy-3']);
  });

  it('tells each sender waiting behind their own workspace once, with their place in its queue', async () => {
    const store = createInboxStore(db().db);
    for (let n = 0; n < 3; n++) await store.enqueue(directMessage(`told-${n}`, 'hi', 'T-TOLD') as Envelope);
    // Nothing running yet: they wait for a worker, not behind their own workspace's limits.
    expect((await store.takeQueuedNotices(0, 10, 1)).filter((t) => t.envelope.idempotencyKey.startsWith('told-'))).toEqual([]);
    const [first] = await store.claim('w', 1, 60_000, 1);
    expect(first?.envelope.idempotencyKey).toBe('told-0');
    const told = await store.takeQueuedNotices(0, 10, 1);
    const mine = told.filter((t) => t.envelope.idempotencyKey.startsWith('told-'));
    expect(mine.map((t) => [t.envelope.idempotencyKey, t.position])).toEqual([
      ['told-1', 2],
      ['told-2', 3],
    ]);
    expect((await store.takeQueuedNotices(0, 10, 1)).filter((t) => t.envelope.idempotencyKey.startsWith('told-'))).toEqual([]);
    // The notice is what a later attempt replaces; a status already shown is never overwritten.
    await store.rememberQueuedStatus(mine[0]!.id, 'ts-busy');
    await store.rememberQueuedStatus(mine[0]!.id, 'ts-other');
    const [row] = await db().db.select().from(inbox).where(eq(inbox.idempotencyKey, 'told-1'));
    expect(row?.statusMessageId).toBe('ts-busy');
  });
});
