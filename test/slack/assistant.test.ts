/**
 * Slack's assistant panel through POST /slack/events, signed as Slack signs: a thread starting
 * gets the suggested prompts of the person's role; a question in it sets the thread's status
 * while the model works, is answered in the thread and titles it once; the channel the person was
 * looking at is what the question is about.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { suggestedPrompts } from '../../src/core/suggested-prompts.js';
import { ABOUT_REFUSED } from '../../src/core/turn/about.js';
import { inbox } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { eventFixture, freshEvent, postSlack, useSlackApp } from './support.js';

let threads = 0;
/** A thread of its own per test: started from `context` by `user`. */
function thread(user: string, context: string) {
  threads += 1;
  const threadTs = `${1767258800 + threads}.${String(threads).padStart(6, '0')}`;
  const dm = user === 'U0ACMEMEM1' ? 'D0ACMEDM01' : `D${user.slice(1)}`;
  const started = freshEvent('assistant_thread_started');
  Object.assign(started.event.assistant_thread, { user_id: user, channel_id: dm, thread_ts: threadTs, context: { channel_id: context, team_id: 'T0ACME0001', enterprise_id: null } });
  const ask = (text: string) => {
    const message = freshEvent('message_im_assistant_thread', { text, user });
    Object.assign(message.event, { channel: dm, thread_ts: threadTs });
    return message;
  };
  return { dm, threadTs, started, ask };
}

describe.each(drivers)('Slack assistant panel (%s)', (driver) => {
  const model = new RecordingModelGate();
  const slack = useSlackApp(driver, () => ({ model }), (api) => {
    // The private incident channel: Priya and the bot, not Dana.
    api.rosters.set('C0ACMEINC1', ['U0ACMEOWN1', 'U0ACMEBOT1']);
  });
  const done = (key: string) =>
    waitFor(async () => {
      const [row] = await slack.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${key}`);
      return row?.status === 'done' ? row : null;
    });
  const inThread = (method: string, threadTs: string) => slack.api.called(method).filter((c) => c.params.thread_ts === threadTs);

  it('offers the suggested prompts of the role when a thread starts: one set for members, another for admins', async () => {
    const member = thread('U0ACMEMEM1', 'C0ACMEGEN1');
    const admin = thread('U0ACMEADM1', 'C0ACMEGEN1');
    for (const t of [member, admin]) expect((await postSlack(slack.app, t.started)).status).toBe(200);
    const [forMember] = inThread('assistant.threads.setSuggestedPrompts', member.threadTs);
    const [forAdmin] = inThread('assistant.threads.setSuggestedPrompts', admin.threadTs);
    expect(forMember!.params.channel_id).toBe('D0ACMEDM01');
    expect(JSON.parse(forMember!.params.prompts!)).toEqual(suggestedPrompts('member'));
    expect(JSON.parse(forAdmin!.params.prompts!)).toEqual(suggestedPrompts('admin'));
    expect(suggestedPrompts('admin')).not.toEqual(suggestedPrompts('member'));
    expect(forMember!.token).toBe('xoxb-acme-single');
  });

  it('answers a question in the thread, with the status set while the model works and the title set once', async () => {
    const t = thread('U0ACMEMEM1', 'C0ACMEGEN1');
    await postSlack(slack.app, t.started);
    const first = t.ask('What did we decide about the launch date?');
    expect((await postSlack(slack.app, first)).status).toBe(200);
    await done(first.event_id);

    const calls = slack.api.calls.filter((c) => c.params.thread_ts === t.threadTs);
    const statuses = calls.filter((c) => c.method === 'assistant.threads.setStatus');
    const answer = calls.findIndex((c) => c.method === 'chat.postMessage' || c.method === 'chat.startStream');
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses[0]!.params.status).toMatch(/^is /);
    // The status came before the answer, and the answer replaced no status message: there was none.
    expect(calls.indexOf(statuses[0]!)).toBeLessThan(answer);
    expect(calls[answer]!.params.channel).toBe('D0ACMEDM01');
    expect(slack.api.visible('D0ACMEDM01', t.threadTs).map((m) => m.text).join('\n')).toContain('launch date');
    expect(inThread('assistant.threads.setTitle', t.threadTs).map((c) => c.params.title)).toEqual(['What did we decide about the launch date?']);
    const title = calls.findIndex((c) => c.method === 'assistant.threads.setTitle');
    expect(title).toBeGreaterThan(answer);

    // The channel the person was looking at travels as what the question is about.
    const [row] = await slack.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${first.event_id}`);
    expect((row!.envelope as { about?: unknown }).about).toEqual({ channel: { id: 'C0ACMEGEN1', kind: 'channel' } });

    const second = t.ask('And who owns it?');
    await postSlack(slack.app, second);
    await done(second.event_id);
    expect(inThread('assistant.threads.setTitle', t.threadTs)).toHaveLength(1);
  });

  it('refuses a question about a private channel the person is not in, like any channel, without asking the model', async () => {
    const t = thread('U0ACMEMEM1', 'C0ACMEINC1');
    await postSlack(slack.app, t.started);
    const calls = model.calls.length;
    const question = t.ask('Summarize what is going on in the incident channel');
    await postSlack(slack.app, question);
    await done(question.event_id);
    expect(model.calls.length).toBe(calls);
    const shown = slack.api.visible('D0ACMEDM01', t.threadTs).map((m) => m.text);
    expect(shown).toEqual([ABOUT_REFUSED]);
  });

  it("uses the channel the person is looking at as context when they are in it", async () => {
    slack.api.seed('C0ACMEGEN1', { user: 'U0ACMEOWN1', text: 'Launch moves to March 3, decided in the review.', ts: '1767258000.000500' });
    const t = thread('U0ACMEMEM1', 'C0ACMEGEN1');
    await postSlack(slack.app, t.started);
    const question = t.ask('Summarize this channel');
    await postSlack(slack.app, question);
    await done(question.event_id);
    expect(model.promptsText().at(-1)).toContain('Launch moves to March 3');
  });

  it('follows the context as it changes, and leaves someone else\'s DM out of it', async () => {
    const t = thread('U0ACMEMEM1', 'C0ACMEGEN1');
    await postSlack(slack.app, t.started);
    const changed = freshEvent('assistant_thread_context_changed');
    Object.assign(changed.event.assistant_thread, { channel_id: t.dm, thread_ts: t.threadTs, context: { channel_id: 'D0ACMEDM02' } });
    expect((await postSlack(slack.app, changed)).status).toBe(200);
    const question = t.ask('What is this conversation about?');
    await postSlack(slack.app, question);
    await done(question.event_id);
    const [row] = await slack.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${question.event_id}`);
    expect((row!.envelope as { about?: unknown }).about).toBeUndefined();
  });

  it('treats a DM thread Quorum never saw start as an ordinary DM', async () => {
    const message = freshEvent('message_im_assistant_thread', { text: 'hello there' });
    message.event.thread_ts = '1767250000.000001';
    await postSlack(slack.app, message);
    await done(message.event_id);
    expect(inThread('assistant.threads.setTitle', '1767250000.000001')).toHaveLength(0);
    expect(inThread('assistant.threads.setStatus', '1767250000.000001')).toHaveLength(0);
  });

  it('refuses malformed assistant events without changing anything, and unsigned ones with 401', async () => {
    const broken = eventFixture('assistant_thread_started');
    broken.event_id = `${broken.event_id}broken`;
    delete broken.event.assistant_thread.thread_ts;
    const before = slack.api.called('assistant.threads.setSuggestedPrompts').length;
    expect((await postSlack(slack.app, broken)).status).toBe(200);
    expect((await postSlack(slack.app, freshEvent('assistant_thread_started'), { secret: 'wrong-secret' })).status).toBe(401);
    expect(slack.api.called('assistant.threads.setSuggestedPrompts').length).toBe(before);
  });
});
