/**
 * What Slack requests Quorum refuses though their signature is right: a timestamp that is not a
 * plain number of seconds near now, a request for another app, and a slash command replayed while
 * its signature is still fresh (on another instance too: the record is in the database).
 */
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog, inbox, workspaceSettings } from '../../src/db/schema.js';
import { drivers } from '../support/db.js';
import { startSlackApp, commandFixture, freshEvent, signature, useSlackApp, type PostOptions } from './support.js';
import type { TestApp } from '../support/app.js';

const APP = 'A0QRMAPP01';

/** POSTs `raw` with exactly this timestamp header, signed over it. */
async function postAt(app: TestApp, raw: string, timestamp: string, contentType = 'application/json') {
  const res = await fetch(`${app.baseUrl}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature(raw, timestamp as never) },
    body: raw,
  });
  return { status: res.status, text: await res.text() };
}

/** The same signed bytes every time: what an eavesdropper or a replaying proxy sends. */
function signedOnce(raw: string) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return (app: TestApp) => postAt(app, raw, timestamp, 'application/x-www-form-urlencoded');
}

describe.each(drivers)('Slack request checks (%s)', (driver) => {
  const s = useSlackApp(driver, () => ({ env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', SLACK_APP_ID: APP } }));
  const stored = async (eventId: string) => (await s.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, eventId))).length;

  it.each([['NaN'], ['abc'], ['Infinity'], ['1e9'], ['0x6579a1b0'], ['-1'], ['99999999999999'], ['now.5'], [' now']])(
    'refuses a timestamp header of %s, though signed over it, and stores nothing',
    async (written) => {
      const now = Math.floor(Date.now() / 1000);
      const timestamp = written.replace('now', String(now));
      const event = freshEvent('message_im');
      const res = await postAt(s.app, JSON.stringify(event), timestamp);
      expect(res.status).toBe(401);
      expect(await stored(event.event_id)).toBe(0);
    },
  );

  it('takes an event for this app, and refuses (stores nothing for) one for another app', async () => {
    const ours = freshEvent('message_im');
    const res = await postAt(s.app, JSON.stringify(ours), String(Math.floor(Date.now() / 1000)));
    expect(res.status).toBe(200);
    expect(await stored(ours.event_id)).toBe(1);
    for (const api_app_id of ['A0OTHERAPP', undefined]) {
      const other = { ...freshEvent('message_im'), api_app_id };
      const refused = await postAt(s.app, JSON.stringify(other), String(Math.floor(Date.now() / 1000)));
      expect(refused.status).toBe(200); // acked, so that Slack does not retry what will never be taken
      expect(await stored(other.event_id)).toBe(0);
    }
  });

  it('does not run a command meant for another app', async () => {
    const form = commandFixture('agent_limit').replace(/api_app_id=[^&]+/, 'api_app_id=A0OTHERAPP').replace(/text=[^&]*/, 'text=limit+rpm+61');
    const res = await signedOnce(form)(s.app);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
  });

  it('runs a replayed slash command once, here and on another instance', async () => {
    const form = commandFixture('agent_limit').replace(/text=[^&]*/, 'text=limit+rpm+77');
    const replay = signedOnce(form);
    const first = await replay(s.app);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).text).toMatch(/77/);
    const again = await replay(s.app);
    expect(again.status).toBe(200);
    expect(again.text).toBe('');
    // A second instance on the same database knows it too.
    const other = await startSlackApp(s.db, s.api, { env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', SLACK_APP_ID: APP } });
    try {
      expect((await replay(other)).text).toBe('');
    } finally {
      await other.stop();
    }
    const changes = await s.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'admin_change'), sql`${auditLog.detail}::text like '%77%'`));
    expect(changes).toHaveLength(1);
    const [settings] = await s.db.db.select({ rpm: workspaceSettings.rpm }).from(workspaceSettings);
    expect(settings?.rpm).toBe(77);
  });

  it('runs the same command again when it is sent again (a new request)', async () => {
    const form = commandFixture('agent_help');
    const one = await signedOnce(form)(s.app);
    // Slack signs each delivery anew: a later second, a new signature.
    await new Promise((r) => setTimeout(r, 1_100));
    const two = await signedOnce(form)(s.app);
    expect(JSON.parse(one.text).text).toMatch(/^Quorum commands/);
    expect(JSON.parse(two.text).text).toMatch(/^Quorum commands/);
  });
});

describe.each(drivers)('Slack app id from the bot token (%s)', (driver) => {
  const s = useSlackApp(driver, () => ({ env: { SLACK_BOT_TOKEN: 'xoxb-acme-appid' } }), (api) => {
    api.bots.set('xoxb-acme-appid', { team_id: 'T0ACME0001', user_id: 'U0ACMEBOT1', bot_id: 'B0ACMEBOT1', app_id: APP } as never);
  });

  it('refuses an event for another app when auth.test names this one', async () => {
    const ours = freshEvent('message_im');
    expect((await postAt(s.app, JSON.stringify(ours), String(Math.floor(Date.now() / 1000)))).status).toBe(200);
    const other = { ...freshEvent('message_im'), api_app_id: 'A0OTHERAPP' };
    await postAt(s.app, JSON.stringify(other), String(Math.floor(Date.now() / 1000)));
    expect((await s.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, ours.event_id))).length).toBe(1);
    expect((await s.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, other.event_id))).length).toBe(0);
  });
});

export type { PostOptions };
