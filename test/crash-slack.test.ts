/**
 * SIGKILL through Slack, counted where users see it: the real service (a child process) takes
 * signed events, is killed while some model calls run and while Slack is taking answers the
 * inbox has not yet marked done; a second process finishes the work. The fake Slack's final
 * state must hold exactly one answer per event, and every part of a long answer once.
 */
import { expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { inbox } from '../src/db/schema.js';
import { startFakeChat, type FakeChat } from './fakes/chat-completions.js';
import { FakeSlackApi } from './fakes/slack-api.js';
import { crashFleet } from './support/child.js';
import { useSetup } from './support/setup.js';
import { openTestDatabase, type TestDatabase } from './support/db.js';
import { longAnswer, partOf } from './support/long-answer.js';
import { fleetEnv, installFleet, signedDm, signedMention } from './support/slack-fleet.js';
import { waitFor } from './support/wait.js';
import { describeWith } from './support/services.js';

const WORKSPACES = 3;
const EVENTS = 24;

describeWith('postgres', 'SIGKILL while Slack takes the answers (postgres, child processes)', () => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let chat: FakeChat;
  const fleet = crashFleet('crash-slack');
  const start = (n: number, model: Record<string, string> = { MODEL_PROVIDER: 'openai', MODEL_BASE_URL: chat.url }) =>
    fleet.start(n, { ...fleetEnv(api), DATABASE_URL: db.url!, ...model });

  const visibleAnswers = (key: string) => [...api.shown.values()].filter((m) => m.text === `answer to: ${key}`);

  useSetup(async (cleanup) => {
    db = await openTestDatabase('postgres');
    cleanup(() => db.close());
    api = await new FakeSlackApi().start();
    cleanup(() => api.stop());
    // `long-…` asks for an answer Slack takes in three messages (MAX_MESSAGE_CHARS is 3,500).
    chat = await startFakeChat(300, (last) => (last.startsWith('long-') ? longAnswer(last, 3, 3_000) : `answer to: ${last}`));
    cleanup(() => chat.close());
    cleanup(() => fleet.killAll());
    await installFleet(db.url!, api, WORKSPACES);
    return {};
  });

  it('answers each event once, in the message that showed its progress', { timeout: 240_000 }, async () => {
    // Slack takes its time to confirm updates: the kill lands after Slack showed an answer and
    // before the process could mark the row done.
    api.delays.set('chat.update', 1_500);
    const first = start(0);
    const url = await first.ready();
    for (let n = 0; n < EVENTS; n++) {
      const { body, headers } = signedDm(n % WORKSPACES, n, 'kill');
      const res = await fetch(`${url}/slack/events`, { method: 'POST', headers, body });
      expect(res.status).toBe(200);
    }
    await waitFor(() => api.called('chat.update').some((c) => c.params.text?.startsWith('answer to:')), { timeoutMs: 60_000, everyMs: 20 });
    first.kill('SIGKILL');
    await first.exited;
    const shownBeforeKill = [...api.shown.values()].filter((m) => m.text.startsWith('answer to:')).length;
    expect(shownBeforeKill).toBeGreaterThan(0);
    const [row] = await db.db.select({ notDone: sql<number>`count(*)::int` }).from(inbox).where(sql`${inbox.status} <> 'done'`);
    // Some answered rows were not yet marked done: exactly the window a re-run must not answer twice.
    expect(row!.notDone).toBeGreaterThan(0);

    api.delays.delete('chat.update');
    start(1);
    await waitFor(async () => (await db.db.select({ n: sql<number>`count(*)::int` }).from(inbox).where(sql`${inbox.status} = 'done'`))[0]!.n === EVENTS, {
      timeoutMs: 120_000,
      everyMs: 250,
    });
    for (let n = 0; n < EVENTS; n++) expect(visibleAnswers(`kill-${n}`), `kill-${n}`).toHaveLength(1);
    // No event's status message was left showing "working" next to its answer.
    const stale = [...api.shown.values()].filter((m) => m.text.startsWith('_')).length;
    expect(stale).toBeLessThanOrEqual(EVENTS - shownBeforeKill);
  });

  it('answers a streamed reply once when the process dies as the stream ends', { timeout: 240_000 }, async () => {
    // The instance of the test above must not take part: this one runs the offline model.
    await fleet.killAll();
    const channel = 'C0FLEETGEN';
    api.rosters.set(channel, Array.from({ length: 20 }, (_, u) => `U${u}`));
    const count = 12;
    const visibleFor = (key: string) => [...api.shown.values()].filter((m) => m.channel === channel && m.text.includes(`"${key}"`));
    // Slack is slow to confirm deleting the status message once the streamed answer stands.
    api.delays.set('chat.delete', 1_500);
    const first = start(2, {});
    const url = await first.ready();
    for (let n = 0; n < count; n++) {
      const { body, headers } = signedMention(n % WORKSPACES, 1000 + n, 'stream', channel);
      expect((await fetch(`${url}/slack/events`, { method: 'POST', headers, body })).status).toBe(200);
    }
    // Every turn has streamed its answer, recorded it and is removing its status message: none is marked done.
    await waitFor(() => api.called('chat.delete').length >= count, { timeoutMs: 60_000, everyMs: 20 });
    first.kill('SIGKILL');
    await first.exited;
    api.delays.delete('chat.delete');
    start(3, {});
    await waitFor(
      async () =>
        (await db.db.select({ n: sql<number>`count(*)::int` }).from(inbox).where(sql`${inbox.status} = 'done' and ${inbox.envelope}->>'text' like '%stream-%'`))[0]!.n === count,
      { timeoutMs: 120_000, everyMs: 250 },
    );
    expect(api.called('chat.startStream').length).toBeGreaterThan(0);
    // No answer is left half-streamed.
    const open = [...api.shown.values()].filter((m) => m.channel === channel && m.streaming);
    expect(open).toEqual([]);
    for (let n = 0; n < count; n++) expect(visibleFor(`stream-${1000 + n}`), `stream-${1000 + n}`).toHaveLength(1);
  });

  it('shows every part of a long answer once when the process dies while posting them', { timeout: 240_000 }, async () => {
    await fleet.killAll();
    const count = 12;
    const PARTS = 3;
    const keys = Array.from({ length: count }, (_, n) => `long-${2000 + n}`);
    // Messages whose ts a killed process may never have learnt: status messages and placeholders.
    const strays = () => [...api.shown.values()].filter((m) => m.text.startsWith('_')).length;
    const straysBefore = strays();
    // Slack is slow to confirm new messages: the kill lands after Slack showed a part and before
    // the process learnt its ts (or could mark the row done).
    api.delays.set('chat.postMessage', 1_500);
    const first = start(4);
    const url = await first.ready();
    for (let n = 0; n < count; n++) {
      const { body, headers } = signedDm(n % WORKSPACES, 2000 + n, 'long');
      expect((await fetch(`${url}/slack/events`, { method: 'POST', headers, body })).status).toBe(200);
    }
    await waitFor(() => [...api.shown.values()].some((m) => partOf(m.text)?.part === 2), { timeoutMs: 60_000, everyMs: 20 });
    first.kill('SIGKILL');
    await first.exited;
    const longRowsDone = async () =>
      (await db.db.select({ n: sql<number>`count(*)::int` }).from(inbox).where(sql`${inbox.status} = 'done' and ${inbox.envelope}->>'text' like 'long-%'`))[0]!.n;
    expect(await longRowsDone()).toBeLessThan(count);

    api.delays.delete('chat.postMessage');
    start(5);
    await waitFor(async () => (await longRowsDone()) === count, { timeoutMs: 120_000, everyMs: 250 });
    const shown = [...api.shown.entries()].map(([ts, m]) => ({ ts: Number(ts), part: partOf(m.text) }));
    for (const key of keys) {
      const parts = Array.from({ length: PARTS }, (_, i) => shown.filter((m) => m.part?.key === key && m.part.part === i + 1));
      parts.forEach((p, i) => expect(p, `${key} part ${i + 1}`).toHaveLength(1));
      // In order: each part below the one before it.
      const ts = parts.map((p) => p[0]!.ts);
      expect(ts, key).toEqual([...ts].sort((a, b) => a - b));
    }
    // At most one message per event is left behind by the kill (a status or a placeholder in flight).
    expect(strays() - straysBefore).toBeLessThanOrEqual(count);
  });
});
