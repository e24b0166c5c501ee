/** The Slack adapter through POST /slack/events, signed as Slack signs, against a fake Slack Web API. */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inbox, principals } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { commandFixture, eventFixture, freshEvent, postSlack, useSlackApp } from './support.js';

describe.each(drivers)('Slack events over HTTP, one workspace (%s)', (driver) => {
  const slack = useSlackApp(
    driver,
    () => ({ model }),
    (api) => {
      // The private incident channel: Dana, Priya and the bot.
      api.rosters.set('C0ACMEINC1', ['U0ACMEMEM1', 'U0ACMEOWN1', 'U0ACMEBOT1']);
      api.rosters.set('G0ACMEMP01', ['U0ACMEADM1', 'U0ACMEMEM1', 'U0ACMEBOT1']);
    },
  );
  const model = new RecordingModelGate();

  const inboxCount = async () => (await slack.db.db.select().from(inbox)).length;
  const doneRow = (key: string) =>
    waitFor(async () => {
      const rows = await slack.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${key}`);
      return rows[0]?.status === 'done' ? rows[0] : null;
    });
  const postsIn = (channel: string) => slack.api.called('chat.postMessage').filter((c) => c.params.channel === channel);


  it('answers the url_verification handshake with its challenge', async () => {
    const body = eventFixture('url_verification');
    const res = await postSlack(slack.app, body);
    expect(res.status).toBe(200);
    expect(res.text).toContain(body.challenge);
  });

  it('answers a mention with exactly one message in the thread of the mention', async () => {
    const event = freshEvent('app_mention');
    const res = await postSlack(slack.app, event);
    expect(res.status).toBe(200);
    await doneRow(event.event_id);
    const posts = postsIn('C0ACMEGEN1').filter((c) => c.params.thread_ts === event.event.ts);
    expect(posts).toHaveLength(1);
    // The status message is replaced by the answer: no second post.
    const updates = slack.api.called('chat.update').filter((c) => c.params.ts && c.params.channel === 'C0ACMEGEN1');
    expect(updates.at(-1)!.params.text).toContain('summarize the Q3 launch checklist');
    expect(model.promptsText().at(-1)).not.toContain('<@U0ACMEBOT1>');
    expect(posts[0]!.token).toBe('xoxb-acme-single');
  });

  it('answers inside an existing thread when mentioned there', async () => {
    const event = freshEvent('app_mention_in_thread');
    expect((await postSlack(slack.app, event)).status).toBe(200);
    await doneRow(event.event_id);
    const posts = postsIn('C0ACMEGEN1').filter((c) => c.params.thread_ts === eventFixture('app_mention_in_thread').event.thread_ts);
    expect(posts).toHaveLength(1);
  });

  it('answers a DM in the DM, privately', async () => {
    const event = freshEvent('message_im', { text: 'draft a reply to the invoice email' });
    expect((await postSlack(slack.app, event)).status).toBe(200);
    await doneRow(event.event_id);
    const posts = postsIn('D0ACMEDM01');
    expect(posts.length).toBeGreaterThanOrEqual(1);
    expect(posts.at(-1)!.params.thread_ts).toBeUndefined();
  });

  it("ignores the bot's own messages, edits and other subtypes", async () => {
    const before = await inboxCount();
    const posted = slack.api.called('chat.postMessage').length;
    for (const name of ['message_im_bot_self', 'message_changed', 'app_home_opened']) {
      expect((await postSlack(slack.app, freshEvent(name))).status).toBe(200);
    }
    expect(await inboxCount()).toBe(before);
    expect(slack.api.called('chat.postMessage').length).toBe(posted);
  });

  it('refuses forged, unsigned, wrongly keyed and stale or future requests with 401, storing nothing', async () => {
    const before = await inboxCount();
    const event = freshEvent('app_mention');
    const raw = JSON.stringify(event);
    const forged = await postSlack(slack.app, raw, {
      contentType: 'application/json',
      headers: { 'x-slack-signature': `v0=${'0'.repeat(64)}` },
    });
    expect(forged.status).toBe(401);
    expect((await postSlack(slack.app, event, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await postSlack(slack.app, event, { unsigned: true })).status).toBe(401);
    expect((await postSlack(slack.app, event, { skewSeconds: -6 * 60 })).status).toBe(401);
    expect((await postSlack(slack.app, event, { skewSeconds: 6 * 60 })).status).toBe(401);
    // A body changed after signing.
    const ts = Math.floor(Date.now() / 1000);
    const { signature } = await import('./support.js');
    const tampered = await fetch(`${slack.app.baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature(raw, ts) },
      body: raw.replace('summarize', 'exfiltrate'),
    });
    expect(tampered.status).toBe(401);
    expect(await inboxCount()).toBe(before);
  });

  it('answers 400 to a malformed body with a valid signature', async () => {
    const res = await postSlack(slack.app, '{"type": "event_callback", ', { contentType: 'application/json' });
    expect(res.status).toBe(400);
  });

  it('refuses an event from a workspace it is not installed in, and keeps running', async () => {
    const before = await inboxCount();
    const res = await postSlack(slack.app, freshEvent('app_mention', { team: 'T0NORTHWD1' }));
    expect(res.status).toBe(401);
    expect(await inboxCount()).toBe(before);
    expect((await fetch(`${slack.app.baseUrl}/healthz`)).status).toBe(200);
    const next = freshEvent('app_mention');
    expect((await postSlack(slack.app, next)).status).toBe(200);
    await doneRow(next.event_id);
  });

  it('posts one reply however often Slack retries the same event_id', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> retried question' });
    const statuses = [
      (await postSlack(slack.app, event)).status,
      (await postSlack(slack.app, event, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })).status,
      (await postSlack(slack.app, event, { headers: { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' } })).status,
    ];
    expect(statuses).toEqual([200, 200, 200]);
    await doneRow(event.event_id);
    // Give a wrongly accepted duplicate the time to be worked on, then count.
    const again = freshEvent('app_mention', { text: '<@U0ACMEBOT1> after the retries' });
    await postSlack(slack.app, again);
    await doneRow(again.event_id);
    expect(postsIn('C0ACMEGEN1').filter((c) => c.params.thread_ts === event.event.ts)).toHaveLength(1);
    expect(model.promptsText().filter((p) => p.includes('retried question'))).toHaveLength(1);
  });

  it('answers a group DM once, though Slack delivers the mention twice', async () => {
    const asMessage = freshEvent('message_mpim');
    const asMention = structuredClone(asMessage);
    asMention.event_id = `${asMessage.event_id}m`;
    asMention.event.type = 'app_mention';
    delete asMention.event.channel_type;
    expect((await postSlack(slack.app, asMessage)).status).toBe(200);
    expect((await postSlack(slack.app, asMention)).status).toBe(200);
    await waitFor(async () => (await slack.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} like ${'msg:%'} and status = 'done'`)).length > 0);
    const posts = postsIn('G0ACMEMP01').filter((c) => c.params.thread_ts === asMessage.event.ts);
    expect(posts).toHaveLength(1);
  });

  it('makes a Slack Connect user from another org an external principal', async () => {
    const event = freshEvent('app_mention_external_user');
    slack.api.rosters.set(event.event.channel, ['U0GLBXEXT1', 'U0ACMEMEM1']);
    expect((await postSlack(slack.app, event)).status).toBe(200);
    await doneRow(event.event_id);
    const [sam] = await slack.db.db.select().from(principals).where(sql`${principals.platformUserId} = 'U0GLBXEXT1'`);
    expect(sam!.platformRole).toBe('external');
    const [owner] = await waitFor(async () => {
      const q = freshEvent('app_mention', { user: 'U0ACMEOWN1' });
      await postSlack(slack.app, q);
      await doneRow(q.event_id);
      return slack.db.db.select().from(principals).where(sql`${principals.platformUserId} = 'U0ACMEOWN1'`);
    });
    expect(owner!.platformRole).toBe('owner');
  });

  it('sees a member who left the channel as a non-member at once (no TTL wait)', async () => {
    const first = freshEvent('app_mention', { channel: 'C0ACMEINC1', text: '<@U0ACMEBOT1> incident status?' });
    await postSlack(slack.app, first);
    await doneRow(first.event_id);
    expect(model.promptsText().some((p) => p.includes('incident status?'))).toBe(true);

    expect((await postSlack(slack.app, freshEvent('member_left_channel'))).status).toBe(200);
    const second = freshEvent('app_mention', { channel: 'C0ACMEINC1', text: '<@U0ACMEBOT1> incident status after leaving?' });
    await postSlack(slack.app, second);
    await doneRow(second.event_id);
    expect(model.promptsText().some((p) => p.includes('after leaving'))).toBe(false);
    const denial = slack.api.called('chat.postEphemeral').filter((c) => c.params.channel === 'C0ACMEINC1' && c.params.user === 'U0ACMEMEM1');
    expect(denial.at(-1)!.params.text).toMatch(/member of this channel/);

    // Felix is invited: allowed at once, though the roster Slack served did not list him.
    expect((await postSlack(slack.app, freshEvent('member_joined_channel'))).status).toBe(200);
    const felix = freshEvent('app_mention', { channel: 'C0ACMEINC1', user: 'U0ACMEGST1', text: '<@U0ACMEBOT1> felix asks' });
    await postSlack(slack.app, felix);
    await doneRow(felix.event_id);
    expect(model.promptsText().some((p) => p.includes('felix asks'))).toBe(true);
  });

  it('answers 5xx while the inbox cannot be written, and takes the retried event once it can', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> asked while the database is down' });
    // The real store fails: its table is gone for a moment (every driver reports it as an error).
    await slack.db.db.execute(sql`alter table inbox rename to inbox_unavailable`);
    let down: number;
    try {
      down = (await postSlack(slack.app, event)).status;
    } finally {
      await slack.db.db.execute(sql`alter table inbox_unavailable rename to inbox`);
    }
    expect(down).toBeGreaterThanOrEqual(500);
    const retry = await postSlack(slack.app, event, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_error' } });
    expect(retry.status).toBe(200);
    await doneRow(event.event_id);
    expect(model.promptsText().filter((p) => p.includes('while the database is down'))).toHaveLength(1);
  });

  it('answers /agent help inside the ack, ephemeral, from the form-encoded command', async () => {
    const res = await postSlack(slack.app, commandFixture('agent_help'), { contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toMatch(/^Usage: \/agent/);
  });

  it('delivers mention escapes in /agent text to the core unchanged', async () => {
    const res = await postSlack(slack.app, commandFixture('agent_role_grant'), { contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).response_type).toBe('ephemeral');
  });
});
