/** Replies as Slack shows them: rate limits honoured without double posts, long answers split, roles from users.info. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { parseSlackMentions } from '../../adapters/slack/events.js';
import { factsFromUser } from '../../adapters/slack/people.js';
import { EMPTY_TEXT, outgoing } from '../../adapters/slack/markdown.js';
import { MAX_MESSAGE_CHARS, splitMessage } from '../../adapters/slack/replies.js';
import { inbox } from '../../src/db/schema.js';
import { FakeSlackApi, webFixture } from '../fakes/slack-api.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { commandFixture, freshEvent, postSlack, startSlackApp } from './support.js';

const LONG = Array.from({ length: 120 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(6)}`).join('\n\n');

describe.each(drivers)('Slack replies (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  const model = new RecordingModelGate((call) => {
    const last = call.messages.at(-1)?.content ?? '';
    const text = last.includes('long answer') ? LONG : `**Answer** to: ${last}`;
    return { kind: 'answer', text, model: 'fake-model', usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1 };
  });
  const doneRow = (key: string) =>
    waitFor(async () => {
      const rows = await db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${key}`);
      return rows[0]?.status === 'done' ? rows[0] : null;
    });

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    app = await startSlackApp(db, api, { model });
  });
  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    await db?.close();
  });

  it('waits out a 429 with Retry-After and posts once', async () => {
    api.rateLimits.set('chat.postMessage', { times: 1, retryAfter: 1 });
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> rate limited question' });
    expect((await postSlack(app, event)).status).toBe(200);
    await doneRow(event.event_id);
    const attempts = api.called('chat.postMessage').filter((c) => c.params.thread_ts === event.event.ts);
    // One refused with 429, one accepted: Slack shows exactly one message.
    expect(attempts).toHaveLength(2);
    const updates = api.called('chat.update').filter((c) => c.params.channel === 'C0ACMEGEN1');
    expect(updates.at(-1)!.params.text).toContain('**Answer** to: rate limited question');
  });

  it('acks a slow /agent command at once and posts its answer once to response_url', async () => {
    // users.info is slow, so the core's answer misses the 3 s ack window.
    api.delays.set('users.info', 3_500);
    const form = commandFixture('agent_help')
      .replace('user_id=U0ACMEMEM1', 'user_id=U0ACMESCG1')
      .replace(/response_url=[^&]+/, `response_url=${encodeURIComponent(api.url.replace('/api/', '/commands/T0ACME0001/slow'))}`);
    try {
      const res = await postSlack(app, form);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: 'Working on it…' });
      const hook = await waitFor(() => api.hooks.find((h) => h.path === '/commands/T0ACME0001/slow'));
      expect(hook.body).toMatchObject({ response_type: 'ephemeral' });
      expect(hook.body.text).toMatch(/^Usage: \/agent/);
      expect(api.hooks.filter((h) => h.path === '/commands/T0ACME0001/slow')).toHaveLength(1);
    } finally {
      api.delays.delete('users.info');
    }
  });

  it('splits a long answer below Slack limits without losing text', async () => {
    const event = freshEvent('message_im', { text: 'give me a long answer' });
    await postSlack(app, event);
    await doneRow(event.event_id);
    // What the DM shows: the status message holds the first part, the others follow it (each
    // posted as a placeholder first, then filled in: none is left showing).
    const parts = api.visible('D0ACMEDM01').map((m) => m.text);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts).not.toContain('_…_');
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(parts.join(' ').replace(/\s+/g, ' ')).toBe(LONG.replace(/\s+/g, ' '));
  });
});

describe('Slack formatting and identity (pure)', () => {
  it('sends Markdown as Markdown (Slack renders markdown_text itself), never empty', () => {
    const markdown = '*italic* and **bold** and ***both***\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://example.com/a) `a<b`';
    expect(outgoing(markdown)).toBe(markdown);
    expect(outgoing('')).toBe(EMPTY_TEXT);
    expect(outgoing('<at></at>')).toBe(EMPTY_TEXT);
  });

  it('splits at boundaries and keeps every character', () => {
    const text = 'word '.repeat(3_000).trim();
    const parts = splitMessage(text, 1_000);
    expect(parts.every((p) => p.length <= 1_000)).toBe(true);
    expect(parts.join(' ')).toBe(text);
    expect(splitMessage('')).toEqual(['']);
  });

  it('parses Slack mention escapes from command text', () => {
    expect(parseSlackMentions('role <@U0ACMEMEM1|dana.okafor> admin in <#C0ACMEGEN1|general> and <@W0INITNH01>')).toEqual([
      { kind: 'user', id: 'U0ACMEMEM1', name: 'dana.okafor' },
      { kind: 'channel', id: 'C0ACMEGEN1', name: 'general' },
      { kind: 'user', id: 'W0INITNH01' },
    ]);
  });

  it('maps users.info flags to roles, owner before admin, another org as external', () => {
    const acme = { platform: 'slack' as const, externalId: 'T0ACME0001' };
    const role = (name: string, homeWorkspaceId?: string) =>
      factsFromUser(acme, { id: 'U1', ...(homeWorkspaceId ? { homeWorkspaceId } : {}) }, webFixture(`users.info.${name}`).user);
    expect(role('owner').platformRole).toBe('owner');
    expect(role('admin').platformRole).toBe('admin');
    expect(role('member').platformRole).toBe('member');
    expect(role('guest').platformRole).toBe('guest');
    expect(role('single_channel_guest').platformRole).toBe('guest');
    expect(role('external').platformRole).toBe('external');
    expect(role('member', 'T0GLOBEX01').platformRole).toBe('external');
    const deleted = webFixture('users.info.member').user;
    expect(factsFromUser(acme, { id: 'U1' }, { ...deleted, deleted: true }).deleted).toBe(true);
  });
});
