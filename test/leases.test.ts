/**
 * Inbox leases against slow and stuck turns: a long turn keeps its row (the worker renews the
 * lease), and a turn that never ends is cut at TURN_TIMEOUT_MS, retried, then dead-lettered with
 * the user told once; the worker's slots are free again afterwards.
 */
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import type { ModelCall } from '../src/core/ports.js';
import { inbox } from '../src/db/schema.js';
import { FakePlatform } from './fakes/platform.js';
import { RecordingModelGate } from './fakes/recording-model.js';
import { useTestApp } from './support/app.js';
import { drivers } from './support/db.js';
import { directMessage } from './support/envelopes.js';
import { waitFor } from './support/wait.js';

const LEASE_MS = 500;
const envelope = (key: string, text: string) => directMessage(key, text, 'T-LEASE');

/** Waits `ms`, or until the call is aborted when `honourAbort`; a stuck call ignores its abort. */
const sleep = (ms: number, call: ModelCall, honourAbort: boolean) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    if (honourAbort) call.signal?.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))), { once: true });
  });

describe.each(drivers)('leases on slow and stuck turns (%s)', (driver) => {
  const platform = new FakePlatform();
  const model = new RecordingModelGate(async (call) => {
    const text = call.messages.at(-1)?.content ?? '';
    // "slow": four leases long. "stuck": longer than any test, deaf to its abort.
    if (text.includes('slow')) await sleep(LEASE_MS * 4, call, true);
    if (text.includes('stuck')) await sleep(60_000, call, false);
    return RecordingModelGate.echo(call);
  });
  const t = useTestApp(driver, () => ({
    model,
    platforms: { slack: platform },
    env: { INBOX_LEASE_MS: String(LEASE_MS), TURN_TIMEOUT_MS: '3000', INBOX_MAX_ATTEMPTS: '2', WORKER_CONCURRENCY: '2' },
  }));
  const callsFor = (word: string) => model.calls.filter((c) => c.messages.at(-1)?.content.includes(word)).length;
  const rowOf = async (key: string) => (await t.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, key)))[0];

  it('keeps a long turn to one worker: the lease is renewed while it runs', async () => {
    await t.app.running.intake.submit(envelope('lease-slow', 'a slow question'));
    await waitFor(async () => (await rowOf('lease-slow'))?.status === 'done', { timeoutMs: 20_000 });
    expect(callsFor('slow')).toBe(1);
    expect(platform.posted.filter((p) => p.reply.text === 'echo: a slow question')).toHaveLength(1);
  });

  it('cuts a stuck turn at the deadline, retries it, dead-letters it and tells the user once', async () => {
    await t.app.running.intake.submit(envelope('lease-stuck', 'a stuck question'));
    await waitFor(async () => (await rowOf('lease-stuck'))?.status === 'dead', { timeoutMs: 20_000 });
    const row = await rowOf('lease-stuck');
    expect(row?.attempts).toBe(2);
    expect(row?.lastError).toMatch(/longer than 3000 ms/);
    expect(callsFor('stuck')).toBe(2);
    const toStuck = platform.posted.filter((p) => p.target.idempotencyKey === 'lease-stuck');
    expect(toStuck.map((p) => p.reply.kind)).toEqual(['error']);
    expect(toStuck[0]!.reply.text).toMatch(/could not answer that request/);
    // Both slots are free again although the stuck calls never returned.
    await t.app.running.intake.submit(envelope('lease-after-1', 'after one'));
    await t.app.running.intake.submit(envelope('lease-after-2', 'after two'));
    await waitFor(async () => (await rowOf('lease-after-1'))?.status === 'done' && (await rowOf('lease-after-2'))?.status === 'done', { timeoutMs: 10_000 });
  });
});
