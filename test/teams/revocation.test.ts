/**
 * Teams revocation across two instances on one PostgreSQL: a member removed from a team
 * (conversationUpdate, JWT-signed) delivered to one instance is denied by the other's membership
 * port, which keeps its cached roster otherwise (the fake connector still lists the member).
 */
import { expect, it } from 'vitest';
import type { MembershipSource } from '../../src/core/ports.js';
import { inbox } from '../../src/db/schema.js';
import { FakeBotConnector } from '../fakes/bot-connector.js';
import { FakeBotIdentity } from '../fakes/bot-openid.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { openTestDatabase } from '../support/db.js';
import { useSetup } from '../support/setup.js';
import { waitFor } from '../support/wait.js';
import { activity, APP_ID, CONTOSO, JORDAN, type Activity } from './helpers.js';
import { describeWith } from '../support/services.js';

const CHANNEL = { id: '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2', kind: 'channel' as const };
const TEAM = '19:4b2d9f7a1c3e4f6a8b0d2e4f6a8c0e1b@thread.tacv2';
const WS = { platform: 'teams' as const, externalId: CONTOSO };

describeWith('postgres', 'Teams revocation across two instances (postgres)', () => {
  const ctx = useSetup(async (cleanup) => {
    const db = await openTestDatabase('postgres');
    cleanup(() => db.close());
    const connector = new FakeBotConnector();
    const identity = new FakeBotIdentity(APP_ID);
    await connector.start();
    await identity.start();
    cleanup(() => connector.stop());
    cleanup(() => identity.stop());
    const start = () =>
      startTestApp(db, {
        model: new RecordingModelGate(),
        env: { MICROSOFT_SERVICE_URL_HOSTS: '127.0.0.1', MICROSOFT_APP_ID: APP_ID, MICROSOFT_APP_PASSWORD: 'test-password', MICROSOFT_APP_TYPE: 'MultiTenant', MICROSOFT_APP_TENANT_ID: CONTOSO },
        teams: { settings: identity.settings(), credentialsFactory: identity.credentialsFactory() },
      });
    const a = await start();
    cleanup(() => a.stop());
    const b = await start();
    cleanup(() => b.stop());
    const post = async (app: TestApp, body: Activity) => {
      const res = await fetch(`${app.baseUrl}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${identity.token({ serviceUrl: connector.url })}` },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      return res.status;
    };
    return { db, connector, a, b, post };
  });

  it('a member removed from the team on one instance is denied on the other, without asking Teams again', async () => {
    const { connector, a, b, post } = ctx;
    // A channel message to A stores where the channel's roster is (the team); both instances read it from the database.
    expect(await post(a, activity('channel_mention', connector.url))).toBe(200);
    await waitFor(async () => (await ctx.db.db.select().from(inbox)).every((r) => r.status === 'done'));
    const onB = b.running.deps.platforms.teams!.membership as MembershipSource;
    expect(await onB.isMember(WS, CHANNEL, JORDAN)).toBe(true);
    const reads = connector.requests.filter((r) => r.path === `/v3/conversations/${TEAM}/pagedmembers`).length;

    expect(await post(a, activity('conversation_update_members_removed', connector.url))).toBe(200);
    let polls = 0;
    while ((await onB.isMember(WS, CHANNEL, JORDAN)) && polls < 200) {
      polls += 1;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await onB.isMember(WS, CHANNEL, JORDAN)).toBe(false);
    expect(connector.requests.filter((r) => r.path === `/v3/conversations/${TEAM}/pagedmembers`).length).toBe(reads);
  });
});
