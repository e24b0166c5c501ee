/**
 * The real service as child processes on one PostgreSQL: killed with SIGKILL in the middle of
 * model calls, stopped with SIGTERM under load, run as two instances. Nothing accepted is lost,
 * nothing is answered twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { inbox, messages } from '../src/db/schema.js';
import { startFakeChat, type FakeChat } from './fakes/chat-completions.js';
import { startChild, type Child } from './support/child.js';
import { openTestDatabase, type TestDatabase } from './support/db.js';
import { waitFor } from './support/wait.js';
import { describeWith } from './support/services.js';

const USERS = ['ava', 'ben', 'cleo', 'dev'];

describeWith('postgres', 'crashes, shutdowns and several instances (postgres, child processes)', () => {
  let db: TestDatabase;
  let chat: FakeChat;
  const children: Child[] = [];

  const start = (extra: Record<string, string> = {}) => {
    const child = startChild({
      DATABASE_URL: db.url!,
      DATA_DIR: `/tmp/quorum-crash-${process.pid}-${children.length}`,
      MODEL_PROVIDER: 'openai',
      MODEL_BASE_URL: chat.url,
      INBOX_LEASE_MS: '3000',
      // The default per-workspace rate (60/min) would make this a test of the limiter.
      WORKSPACE_RPM: '100000',
      WORKSPACE_CONCURRENCY: '16',
      SHUTDOWN_GRACE_MS: '5000',
      ...extra,
    });
    children.push(child);
    return child;
  };

  /** Sends n console messages without waiting for their answers; returns their texts. */
  async function send(url: string, prefix: string, n: number): Promise<string[]> {
    const texts = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    await Promise.all(
      texts.map((text, i) =>
        fetch(`${url}/console/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: USERS[i % USERS.length], channel: 'dm', text }),
          signal: AbortSignal.timeout(2_000),
        }).catch(() => null),
      ),
    );
    return texts;
  }

  const acceptedCount = async (prefix: string) =>
    (await db.db.select({ n: sql<number>`count(*)::int` }).from(inbox).where(sql`${inbox.envelope}->>'text' like ${`${prefix}-%`}`))[0]!.n;

  async function expectAnsweredOnce(prefix: string, texts: string[]) {
    await waitFor(
      async () =>
        (await db.db.select({ n: sql<number>`count(*)::int` }).from(inbox).where(sql`${inbox.envelope}->>'text' like ${`${prefix}-%`} and ${inbox.status} = 'done'`))[0]!.n ===
        texts.length,
      { timeoutMs: 60_000, everyMs: 250 },
    );
    for (const text of texts) {
      const answers = await db.db.select().from(messages).where(eq(messages.content, `answer to: ${text}`));
      expect(answers, text).toHaveLength(1);
    }
  }

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    chat = await startFakeChat(400);
  });
  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGKILL');
      await c.exited;
    }
    await chat?.close();
    await db?.close();
  });

  it('answers every accepted message exactly once after a SIGKILL mid-call', { timeout: 240_000 }, async () => {
    const first = start();
    const url = await first.ready();
    const texts = await send(url, 'kill', 20);
    await waitFor(async () => (await acceptedCount('kill')) === 20, { timeoutMs: 30_000 });
    await waitFor(() => chat.requests() > 0, { timeoutMs: 30_000 });
    first.kill('SIGKILL');
    await first.exited;
    const second = start();
    await second.ready();
    await expectAnsweredOnce('kill', texts);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('exits 0 on SIGTERM under load within the grace period, and loses nothing', { timeout: 240_000 }, async () => {
    const first = start();
    const url = await first.ready();
    const texts = await send(url, 'term', 30);
    await waitFor(async () => (await acceptedCount('term')) === 30, { timeoutMs: 30_000 });
    const t0 = Date.now();
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // SHUTDOWN_GRACE_MS plus closing: the process does not hang on.
    expect(Date.now() - t0).toBeLessThan(5_000 + 10_000);
    const second = start();
    await second.ready();
    await expectAnsweredOnce('term', texts);
    second.kill('SIGTERM');
    await second.exited;
  });

  it('shares the work between two instances with no double answers', { timeout: 240_000 }, async () => {
    const a = start();
    const b = start();
    const [urlA, urlB] = await Promise.all([a.ready(), b.ready()]);
    const [textsA, textsB] = await Promise.all([send(urlA, 'twoA', 40), send(urlB, 'twoB', 40)]);
    await expectAnsweredOnce('twoA', textsA);
    await expectAnsweredOnce('twoB', textsB);
    const workers = await db.db
      .select({ worker: inbox.claimedBy })
      .from(inbox)
      .where(sql`${inbox.envelope}->>'text' like 'two%'`);
    // Both instances took part (claimed_by names the worker of each instance).
    expect(new Set(workers.map((w) => w.worker)).size).toBe(2);
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });
});
