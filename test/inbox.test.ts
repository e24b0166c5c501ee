import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createInboxStore } from '../src/db/inbox-store.js';
import { inbox, messages } from '../src/db/schema.js';
import { RecordingModelGate } from './fakes/recording-model.js';
import { FakePlatform } from './fakes/platform.js';
import { useTestApp } from './support/app.js';
import { drivers } from './support/db.js';
import { directMessage } from './support/envelopes.js';
import { waitFor } from './support/wait.js';

describe.each(drivers)('inbox (%s)', (driver) => {
  const platform = new FakePlatform();
  const model = new RecordingModelGate();
  const t = useTestApp(driver, () => ({ model, platforms: { slack: platform } }));

  it('runs one turn and posts one reply for a duplicated delivery', async () => {
    const first = await t.app.running.intake.submit(directMessage('evt-dup'));
    const second = await t.app.running.intake.submit(directMessage('evt-dup'));
    expect(first.status).toBe('accepted');
    expect(second.status).toBe('duplicate');
    await waitFor(async () => (await t.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, 'evt-dup')))[0]?.status === 'done');
    const third = await t.app.running.intake.submit(directMessage('evt-dup'));
    expect(third.status).toBe('duplicate');
    expect(platform.posted.filter((p) => p.target.idempotencyKey === 'evt-dup')).toHaveLength(1);
    expect(model.calls.filter((c) => c.messages.at(-1)?.content === 'hello')).toHaveLength(1);
  });

  it('keeps one row for 20 concurrent submits of one key', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => t.app.running.intake.submit(directMessage('evt-race', 'race'))));
    expect(results.filter((r) => r.status === 'accepted')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(19);
    expect(await t.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, 'evt-race'))).toHaveLength(1);
    await waitFor(() => platform.posted.some((p) => p.target.idempotencyKey === 'evt-race'));
    const stored = await t.db.db.select().from(messages).where(eq(messages.idempotencyKey, 'evt-race'));
    expect(stored).toHaveLength(2);
  });

  it('rejects an invalid envelope and ignores unsupported ones without storing', async () => {
    const before = (await t.db.db.select().from(inbox)).length;
    const invalid = await t.app.running.intake.submit({ ...directMessage('evt-bad'), channel: { id: 'C1', kind: 'space' } });
    expect(invalid.status).toBe('invalid');
    const ignored = await t.app.running.intake.submit({ ...directMessage('evt-unsupported'), kind: 'unsupported' });
    expect(ignored.status).toBe('ignored');
    expect((await t.db.db.select().from(inbox)).length).toBe(before);
  });

  it('claims a row again once its lease has run out, and never while it holds', async () => {
    const store = createInboxStore(t.db.db);
    await t.app.running.worker.stop(1_000);
    await store.enqueue({ ...(directMessage('evt-lease') as any), receivedAt: new Date(), replyRoute: {} });
    const first = await store.claim('crashed-worker', 10, 60_000, 10);
    expect(first.map((i) => i.envelope.idempotencyKey)).toContain('evt-lease');
    expect((await store.claim('other-worker', 10, 60_000, 10)).map((i) => i.envelope.idempotencyKey)).not.toContain('evt-lease');
    // Simulate the crashed worker's lease running out.
    await t.db.db.update(inbox).set({ leaseUntil: new Date(Date.now() - 1_000) }).where(eq(inbox.idempotencyKey, 'evt-lease'));
    const again = await store.claim('other-worker', 10, 60_000, 10);
    expect(again.find((i) => i.envelope.idempotencyKey === 'evt-lease')?.attempts).toBe(2);
    // The crashed worker can no longer complete a row it lost.
    const lost = again.find((i) => i.envelope.idempotencyKey === 'evt-lease')!;
    await store.complete(lost.id, 'crashed-worker', 'x');
    expect((await t.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, 'evt-lease')))[0]?.status).toBe('working');
    await store.complete(lost.id, 'other-worker', 'x');
    expect((await t.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, 'evt-lease')))[0]?.status).toBe('done');
    // Dead-lettering after the allowed attempts.
    await store.enqueue({ ...(directMessage('evt-dead') as any), receivedAt: new Date(), replyRoute: {} });
    const [row] = (await store.claim('w', 10, 60_000, 10)).filter((i) => i.envelope.idempotencyKey === 'evt-dead');
    expect(await store.release(row!.id, 'w', 'boom', 1)).toBe('dead');
  });

  it('hands the next attempt the messages of a long reply the holder stored, and ignores a lost holder', async () => {
    const store = createInboxStore(t.db.db);
    await store.enqueue({ ...(directMessage('evt-parts') as any), receivedAt: new Date(), replyRoute: {} });
    const [mine] = (await store.claim('first', 10, 60_000, 10)).filter((i) => i.envelope.idempotencyKey === 'evt-parts');
    expect(mine!.partMessageIds).toEqual([]);
    await Promise.all([store.rememberStatus(mine!.id, 'first', 's-1'), store.rememberParts(mine!.id, 'first', ['p-2'])]);
    await store.rememberParts(mine!.id, 'first', ['p-2', 'p-3']);
    await store.rememberParts(mine!.id, 'not-the-holder', ['x']);
    await t.db.db.update(inbox).set({ leaseUntil: new Date(Date.now() - 1_000) }).where(eq(inbox.idempotencyKey, 'evt-parts'));
    const [again] = (await store.claim('second', 10, 60_000, 10)).filter((i) => i.envelope.idempotencyKey === 'evt-parts');
    expect(again).toMatchObject({ attempts: 2, statusMessageId: 's-1', partMessageIds: ['p-2', 'p-3'] });
    await store.complete(again!.id, 'second', 's-1');
  });

  it('prunes done rows once platforms can no longer retry them, and keeps recent ones', async () => {
    const store = createInboxStore(t.db.db);
    await t.db.db.update(inbox).set({ updatedAt: new Date(Date.now() - 2 * 3_600_000) }).where(eq(inbox.idempotencyKey, 'evt-dup'));
    const removed = await store.prune(3_600_000, 7 * 24 * 3_600_000);
    expect(removed).toBe(1);
    const keys = (await t.db.db.select().from(inbox)).map((r) => r.idempotencyKey);
    expect(keys).not.toContain('evt-dup');
    expect(keys).toContain('evt-race');
    expect(keys).toContain('evt-dead');
  });
});
