/**
 * Revocation through signed Slack requests: a channel archived, a user deactivated or unknown to
 * Slack, and (on PostgreSQL) a member leaving a channel, delivered to one of two instances and
 * denied on the other. The fake Slack keeps serving the old roster and profile, so only the
 * event can have revoked the access (no TTL expiry, no fresh read).
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Membership } from '../../adapters/slack/people.js';
import { inbox, principals } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { useSetup } from '../support/setup.js';
import { drivers, openTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { commandFixture, freshEvent, postSlack, startSlackApp, useSlackApp } from './support.js';
import { describeWith } from '../support/services.js';

const WS = { platform: 'slack' as const, externalId: 'T0ACME0001' };
const INCIDENT = { id: 'C0ACMEINC1', kind: 'channel' as const };
const form = { contentType: 'application/x-www-form-urlencoded' };

/** A Slack event of `type` for Acme, signed and fresh; `event` fields laid over the fixture's. */
function acmeEvent(type: string, event: Record<string, unknown>) {
  const body = freshEvent('member_left_channel');
  body.event = { type, ...event, event_ts: body.event.event_ts };
  return body;
}

describe.each(drivers)('Slack revocation on one instance (%s)', (driver) => {
  const model = new RecordingModelGate();
  const slack = useSlackApp(
    driver,
    () => ({ model }),
    (api) => api.rosters.set('C0ACMEINC1', ['U0ACMEMEM1', 'U0ACMEOWN1', 'U0ACMEBOT1']),
  );
  const doneRow = (key: string) =>
    waitFor(async () => {
      const rows = await slack.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${key}`);
      return rows[0]?.status === 'done' ? rows[0] : null;
    });
  const ask = async (text: string, user = 'U0ACMEMEM1') => {
    const event = freshEvent('app_mention', { channel: INCIDENT.id, user, text: `<@U0ACMEBOT1> ${text}` });
    expect((await postSlack(slack.app, event)).status).toBe(200);
    await doneRow(event.event_id);
    return model.promptsText().some((p) => p.includes(text));
  };

  it('an archived channel answers nobody until it is unarchived; Slack still lists its members', async () => {
    expect(await ask('before the archive')).toBe(true);
    expect((await postSlack(slack.app, acmeEvent('channel_archive', { channel: INCIDENT.id, user: 'U0ACMEOWN1' }))).status).toBe(200);
    expect(await ask('while archived')).toBe(false);
    expect(await ask('owner while archived', 'U0ACMEOWN1')).toBe(false);
    expect((await postSlack(slack.app, acmeEvent('channel_unarchive', { channel: INCIDENT.id, user: 'U0ACMEOWN1' }))).status).toBe(200);
    expect(await ask('after the unarchive')).toBe(true);
  });

  it('a user deactivated after being cached (user_change) is not answered and runs no command', async () => {
    expect(await ask('owner before deactivation', 'U0ACMEOWN1')).toBe(true);
    slack.api.people.set('U0ACMEOWN1', { deleted: true });
    const change = acmeEvent('user_change', { user: { id: 'U0ACMEOWN1', deleted: true } });
    expect((await postSlack(slack.app, change)).status).toBe(200);
    expect(await ask('owner after deactivation', 'U0ACMEOWN1')).toBe(false);
    const res = await postSlack(slack.app, commandFixture('agent_help').replace('user_id=U0ACMEMEM1', 'user_id=U0ACMEOWN1').replace('text=help', 'text=status'), form);
    expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: 'Your account is not active in this workspace, so I did not run that.' });
    slack.api.people.delete('U0ACMEOWN1');
  });

  it('someone Slack does not know (user_not_found) runs no command and gets no principal', async () => {
    slack.api.errors.set('users.info', { error: 'user_not_found' });
    try {
      for (const text of ['status', 'help', 'forget%20me']) {
        const res = await postSlack(slack.app, commandFixture('agent_help').replace('user_id=U0ACMEMEM1', 'user_id=U0GHOST001').replace('text=help', `text=${text}`), form);
        expect(JSON.parse(res.text).text).toBe('Your account is not active in this workspace, so I did not run that.');
      }
    } finally {
      slack.api.errors.delete('users.info');
    }
    expect(await slack.db.db.select().from(principals).where(sql`${principals.platformUserId} = 'U0GHOST001'`)).toEqual([]);
  });
});

describeWith('postgres', 'Slack revocation across two instances (postgres)', () => {
  const ctx = useSetup(async (cleanup) => {
    const db = await openTestDatabase('postgres');
    cleanup(() => db.close());
    const api = await new FakeSlackApi().start();
    cleanup(() => api.stop());
    api.rosters.set('C0ACMEINC1', ['U0ACMEMEM1', 'U0ACMEOWN1', 'U0ACMEBOT1']);
    const model = new RecordingModelGate();
    const a = await startSlackApp(db, api, { model });
    cleanup(() => a.stop());
    const b = await startSlackApp(db, api, { model });
    cleanup(() => b.stop());
    return { db, api, a, b };
  });
  const membershipOf = (app: typeof ctx.a) => app.running.deps.platforms.slack!.membership as Membership;

  it('a member_left_channel delivered to one instance denies on the other, without asking Slack again', async () => {
    const [onA, onB] = [membershipOf(ctx.a), membershipOf(ctx.b)];
    // Both instances have the roster cached (what a turn on each would have read).
    expect(await onA.isMember(WS, INCIDENT, 'U0ACMEMEM1')).toBe(true);
    expect(await onB.isMember(WS, INCIDENT, 'U0ACMEMEM1')).toBe(true);
    const reads = ctx.api.called('conversations.members').length;

    const left = freshEvent('member_left_channel');
    expect((await postSlack(ctx.a, left)).status).toBe(200);
    // The instance that took the event denies at once (applied before the ack).
    expect(await onA.isMember(WS, INCIDENT, 'U0ACMEMEM1')).toBe(false);
    // The other: a bounded poll (the figure is in `npm run bench -- revocation`).
    let polls = 0;
    while ((await onB.isMember(WS, INCIDENT, 'U0ACMEMEM1')) && polls < 200) {
      polls += 1;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await onB.isMember(WS, INCIDENT, 'U0ACMEMEM1')).toBe(false);
    // Slack was not asked again: the roster it serves still lists her.
    expect(ctx.api.called('conversations.members').length).toBe(reads);
    // Others stay members on both.
    expect(await onB.isMember(WS, INCIDENT, 'U0ACMEOWN1')).toBe(true);
    // A mention to B is refused, whichever instance's worker takes it.
    const ask = freshEvent('app_mention', { channel: INCIDENT.id, text: '<@U0ACMEBOT1> after leaving, via B' });
    expect((await postSlack(ctx.b, ask)).status).toBe(200);
    const denial = await waitFor(() =>
      ctx.api.called('chat.postEphemeral').find((c) => c.params.channel === INCIDENT.id && c.params.user === 'U0ACMEMEM1'),
    );
    expect(denial.params.text).toMatch(/member of this channel/);

    // The same the other way round: a join delivered to B admits on A.
    const joined = freshEvent('member_joined_channel');
    const who = joined.event.user as string;
    expect(await onA.isMember(WS, { id: joined.event.channel, kind: 'channel' }, who)).toBe(false);
    expect((await postSlack(ctx.b, joined)).status).toBe(200);
    await waitFor(() => onA.isMember(WS, { id: joined.event.channel, kind: 'channel' }, who), { timeoutMs: 2_000, everyMs: 10 });
  });

  it('a role changed on one instance holds on the other at once (roles are read from the database, not cached)', async () => {
    const slash = (user: string, text: string) =>
      commandFixture('agent_help').replace('user_id=U0ACMEMEM1', `user_id=${user}`).replace('text=help', `text=${encodeURIComponent(text)}`);
    expect(JSON.parse((await postSlack(ctx.b, slash('U0ACMEMEM1', 'status'), form)).text).text).toContain('Your role: member');
    const grant = JSON.parse((await postSlack(ctx.a, slash('U0ACMEADM1', 'role <@U0ACMEMEM1> guest'), form)).text).text;
    expect(grant).toBe('Role of @U0ACMEMEM1: member → guest (grant none → guest).');
    expect(JSON.parse((await postSlack(ctx.b, slash('U0ACMEMEM1', 'status'), form)).text).text).toContain('Your role: guest');
  });

  it('an uninstall delivered to one instance forgets the workspace on the other', async () => {
    const onB = membershipOf(ctx.b);
    expect(await onB.isMember(WS, INCIDENT, 'U0ACMEOWN1')).toBe(true);
    const reads = ctx.api.called('conversations.members').length;
    expect((await postSlack(ctx.a, freshEvent('app_uninstalled', { team: 'T0ACME0001' }))).status).toBe(200);
    // Forgotten on B: the next check asks Slack again.
    await waitFor(
      async () => {
        await onB.isMember(WS, INCIDENT, 'U0ACMEOWN1').catch(() => null);
        return ctx.api.called('conversations.members').length > reads;
      },
      { timeoutMs: 2_000, everyMs: 10 },
    );
  });
});
