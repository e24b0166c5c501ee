/**
 * SIGKILL through Teams, counted where users see it: the real service (a child process, Teams
 * auth off) takes activities, is killed while the Bot Connector is taking answers the inbox has
 * not yet marked done; a second process finishes the work. The fake connector's final state
 * (what a Teams client shows) must hold every event's answer once, every part of it once: in
 * channels, where the answer replaces a status message, and in 1:1 chats, where it streams.
 */
import { expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { inbox } from '../src/db/schema.js';
import { FakeBotConnector } from './fakes/bot-connector.js';
import { startFakeChat, type FakeChat } from './fakes/chat-completions.js';
import { crashFleet } from './support/child.js';
import { useSetup } from './support/setup.js';
import { openTestDatabase, type TestDatabase } from './support/db.js';
import { longAnswer, partOf } from './support/long-answer.js';
import { waitFor } from './support/wait.js';
import { activity } from './teams/helpers.js';
import { describeWith } from './support/services.js';

const CHANNEL = '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2';
const EVENTS = 12;

describeWith('postgres', 'SIGKILL while Teams takes the answers (postgres, child processes)', () => {
  let db: TestDatabase;
  let connector: FakeBotConnector;
  let chat: FakeChat;
  const fleet = crashFleet('crash-teams');
  // Teams with auth off (no MICROSOFT_APP_ID outside production): the fake connector takes unsigned calls.
  const start = (n: number, model: Record<string, string>) => fleet.start(n, { DATABASE_URL: db.url!, ...model });
  const rowsDone = async (like: string) =>
    (await db.db.select({ n: sql<number>`count(*)::int` }).from(inbox).where(sql`${inbox.status} = 'done' and ${inbox.envelope}->>'text' like ${like}`))[0]!.n;
  const send = async (url: string, a: Record<string, unknown>) => {
    const res = await fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(a) });
    expect(res.status).toBe(200);
  };

  useSetup(async (cleanup) => {
    db = await openTestDatabase('postgres');
    cleanup(() => db.close());
    connector = new FakeBotConnector();
    await connector.start();
    cleanup(() => connector.stop());
    // Two messages per answer (Teams' parts are 7,000 characters).
    chat = await startFakeChat(300, (last) => longAnswer(last, 2, 5_000));
    cleanup(() => chat.close());
    cleanup(() => fleet.killAll());
    return {};
  });

  it('answers each channel mention once, every part once, when the process dies as Teams shows the answer', { timeout: 240_000 }, async () => {
    const keys = Array.from({ length: EVENTS }, (_, n) => `teams-${n}`);
    // Teams is slow to confirm posts and updates: the kill lands after Teams showed a part and
    // before the process learnt its id (or could mark the row done).
    connector.delays.set('post:message', 1_000);
    connector.delays.set('update', 1_000);
    const first = start(0, { MODEL_PROVIDER: 'openai', MODEL_BASE_URL: chat.url });
    const url = await first.ready();
    for (const [n, key] of keys.entries()) {
      const id = `${1767259100000 + n}`;
      await send(
        url,
        activity('channel_mention', connector.url, (a) => {
          a.id = id;
          a.text = `<at>Quorum</at> ${key}\n`;
          a.conversation.id = `${CHANNEL};messageid=${id}`;
        }),
      );
    }
    await waitFor(() => [...connector.shown.values()].some((m) => partOf(m.text)?.part === 1), { timeoutMs: 60_000, everyMs: 20 });
    first.kill('SIGKILL');
    await first.exited;
    expect(await rowsDone('teams-%')).toBeLessThan(EVENTS);

    connector.delays.clear();
    start(1, { MODEL_PROVIDER: 'openai', MODEL_BASE_URL: chat.url });
    await waitFor(async () => (await rowsDone('teams-%')) === EVENTS, { timeoutMs: 120_000, everyMs: 250 });
    for (const [n, key] of keys.entries()) {
      const thread = connector.visible(`${CHANNEL};messageid=${1767259100000 + n}`);
      const parts = [1, 2].map((part) => thread.filter((m) => partOf(m.text)?.key === key && partOf(m.text)?.part === part));
      parts.forEach((p, i) => expect(p, `${key} part ${i + 1}`).toHaveLength(1));
      // At most one message left behind by the kill (a status or placeholder whose id was never learnt).
      expect(thread.length, key).toBeLessThanOrEqual(3);
    }
  });

  it('answers a 1:1 message once when the process dies as its stream ends', { timeout: 240_000 }, async () => {
    await fleet.killAll();
    const chatOf = (n: number) => `a:1crash-chat-${n}`;
    // Teams is slow to confirm the stream's final message (the offline model streams, and answers short).
    connector.delays.set('post:message', 1_500);
    const first = start(2, {});
    const url = await first.ready();
    for (let n = 0; n < EVENTS; n++) {
      await send(
        url,
        activity('personal_message', connector.url, (a) => {
          a.id = `${1767259200000 + n}`;
          a.text = `personal-${n}`;
          a.conversation.id = chatOf(n);
        }),
      );
    }
    const answered = (n: number) => connector.visible(chatOf(n)).filter((m) => m.text.includes(`"personal-${n}"`));
    await waitFor(() => Array.from({ length: EVENTS }, (_, n) => answered(n)).some((m) => m.some((x) => !x.streaming)), { timeoutMs: 60_000, everyMs: 20 });
    first.kill('SIGKILL');
    await first.exited;
    expect(await rowsDone('personal-%')).toBeLessThan(EVENTS);

    connector.delays.clear();
    start(3, {});
    await waitFor(async () => (await rowsDone('personal-%')) === EVENTS, { timeoutMs: 120_000, everyMs: 250 });
    for (let n = 0; n < EVENTS; n++) {
      expect(answered(n), `personal-${n}`).toHaveLength(1);
      expect(answered(n)[0]!.streaming, `personal-${n}`).toBe(false);
    }
  });
});
