/** Batched intake: one commit for many deliveries, each caller told its own outcome, failures reach every caller. */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { envelopeSchema, type Envelope } from '../../src/core/envelope.js';
import { withBatchedEnqueue } from '../../src/db/inbox-batch.js';
import { createInboxStore } from '../../src/db/inbox-store.js';
import { inbox } from '../../src/db/schema.js';
import { drivers, useTestDatabase } from '../support/db.js';

const envelope = (key: string, team = 'T0ACME0001'): Envelope =>
  envelopeSchema.parse({
    kind: 'mention',
    idempotencyKey: key,
    workspace: { platform: 'slack', externalId: team },
    user: { id: 'U0ACMEMEM1' },
    channel: { id: 'C0ACMEGEN1', kind: 'channel' },
    threadId: '1.1',
    messageId: '1.1',
    text: 'hello',
    receivedAt: new Date(),
  });

describe.each(drivers)('batched inbox intake (%s)', (driver) => {
  const database = useTestDatabase(driver);

  it('accepts each delivery once, even when it is repeated inside one batch', async () => {
    const store = withBatchedEnqueue(database().db, createInboxStore(database().db));
    const keys = Array.from({ length: 30 }, (_, i) => `EvBATCH${i % 20}`);
    const teams = ['T0ACME0001', 'T0GLOBEX01'];
    const results = await Promise.all(keys.map((k, i) => store.enqueue(envelope(k, teams[i % 2]))));
    expect(results.filter((r) => r === 'accepted')).toHaveLength(20);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(10);
    const again = await Promise.all(keys.slice(0, 5).map((k) => store.enqueue(envelope(k))));
    expect(again).toEqual(Array(5).fill('duplicate'));
    const rows = await database().db.select().from(inbox).where(sql`${inbox.idempotencyKey} like 'EvBATCH%'`);
    expect(rows).toHaveLength(20);
  });

  it('fails every caller of a batch that could not be written', async () => {
    const store = withBatchedEnqueue(database().db, createInboxStore(database().db));
    await store.enqueue(envelope('EvWARM')); // the workspace id is cached from here on
    await database().db.execute(sql`alter table inbox rename to inbox_gone`);
    try {
      const results = await Promise.allSettled([store.enqueue(envelope('EvDOWN1')), store.enqueue(envelope('EvDOWN2'))]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    } finally {
      await database().db.execute(sql`alter table inbox_gone rename to inbox`);
    }
    expect(await store.enqueue(envelope('EvDOWN1'))).toBe('accepted');
  });
});
