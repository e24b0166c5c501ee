/**
 * Many workspaces over OAuth: installs through /slack/install and /slack/oauth_redirect, tokens
 * sealed in the database, each workspace (and a Grid org install) answered with its own token,
 * no content crossing workspaces or DMs, uninstall removes the tokens.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, installations, workspaces } from '../../src/db/schema.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, postSlack, startSlackApp } from './support.js';

const ACME = { token: 'xoxb-acme-oauth', team_id: 'T0ACME0001', user_id: 'U0ACMEBOT1', bot_id: 'B0ACMEBOT1' };
const GLOBEX = { token: 'xoxb-globex-oauth', team_id: 'T0GLOBEX01', user_id: 'U0GLBXBOT1', bot_id: 'B0GLBXBOT1' };
const INITECH = { token: 'xoxb-initech-org', team_id: 'T0INITWS01', user_id: 'U0INITBOT1', bot_id: 'B0INITBOT1', enterprise_id: 'E0INITECH1' };

function grant(bot: typeof ACME & { enterprise_id?: string }, org = false) {
  return {
    access_token: bot.token,
    token_type: 'bot',
    scope: 'app_mentions:read,chat:write,commands,users:read',
    bot_user_id: bot.user_id,
    app_id: 'A0QRMAPP01',
    team: org ? null : { id: bot.team_id, name: bot.team_id },
    enterprise: bot.enterprise_id ? { id: bot.enterprise_id, name: 'Initech' } : null,
    is_enterprise_install: org,
    authed_user: { id: 'U0INSTALL1', scope: '', access_token: undefined, token_type: 'user' },
  };
}

describe.each(drivers)('Slack over OAuth, many workspaces (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  const model = new RecordingModelGate();

  const doneRow = (key: string) =>
    waitFor(async () => {
      const rows = await db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${key}`);
      return rows[0]?.status === 'done' ? rows[0] : null;
    });

  async function install(code: string): Promise<number> {
    const start = await fetch(`${app.baseUrl}/slack/install`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    const state = location.searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    const done = await fetch(`${app.baseUrl}/slack/oauth_redirect?code=${code}&state=${encodeURIComponent(state)}`, {
      headers: { cookie },
      redirect: 'manual',
    });
    return done.status;
  }

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    for (const bot of [ACME, GLOBEX, INITECH]) api.bots.set(bot.token, bot);
    api.grants.set('code-acme', grant(ACME));
    api.grants.set('code-globex', grant(GLOBEX));
    api.grants.set('code-initech', grant(INITECH, true));
    api.rosters.set('C0GLBXGEN1', ['U0GLBXEXT1', 'U0GLBXBOT1']);
    api.rosters.set('C0INITOPS1', ['W0INITNH01', 'U0INITBOT1']);
    app = await startSlackApp(db, api, {
      model,
      env: { SLACK_CLIENT_ID: '1111.2222', SLACK_CLIENT_SECRET: 'client-secret', SLACK_STATE_SECRET: 'state-secret' },
    });
    for (const code of ['code-acme', 'code-globex', 'code-initech']) expect(await install(code)).toBe(200);
  });
  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    await db?.close();
  });

  it('stores each installation with its bot token sealed', async () => {
    const rows = await db.db.select().from(installations);
    expect(rows.map((r) => r.installKey).sort()).toEqual(['T0ACME0001', 'T0GLOBEX01', 'enterprise:E0INITECH1']);
    for (const row of rows) {
      expect(row.secretData).not.toContain('xoxb-');
      expect(JSON.stringify(row.data)).not.toContain('xoxb-');
    }
  });

  it('refuses an OAuth callback whose state is not from this browser session', async () => {
    const res = await fetch(`${app.baseUrl}/slack/oauth_redirect?code=code-acme&state=forged`, { redirect: 'manual' });
    expect(res.status).not.toBe(200);
  });

  it('answers each workspace, and the Grid org install, with its own token', async () => {
    const acme = freshEvent('app_mention');
    const globex = freshEvent('app_mention', { team: 'T0GLOBEX01', channel: 'C0GLBXGEN1', user: 'U0GLBXEXT1', text: '<@U0GLBXBOT1> hello from globex' });
    const grid = freshEvent('app_mention_grid_org_install');
    for (const event of [acme, globex, grid]) expect((await postSlack(app, event)).status).toBe(200);
    for (const event of [acme, globex, grid]) await doneRow(event.event_id);

    const tokensIn = (channel: string) =>
      new Set(api.calls.filter((c) => c.params.channel === channel && c.method.startsWith('chat.')).map((c) => c.token));
    expect(tokensIn('C0ACMEGEN1')).toEqual(new Set([ACME.token]));
    expect(tokensIn('C0GLBXGEN1')).toEqual(new Set([GLOBEX.token]));
    expect(tokensIn('C0INITOPS1')).toEqual(new Set([INITECH.token]));
    const lookups = api.called('users.info');
    expect(lookups.find((c) => c.params.user === 'W0INITNH01')!.token).toBe(INITECH.token);
    expect(lookups.find((c) => c.params.user === 'U0GLBXEXT1')!.token).toBe(GLOBEX.token);
    // Grid: the org install serves the workspace named by team_id.
    const [ws] = await db.db.select().from(workspaces).where(sql`${workspaces.externalId} = 'T0INITWS01'`);
    expect(ws!.enterpriseId).toBe('E0INITECH1');
  });

  it('routes an org-wide install’s event that names no team by its enterprise id', async () => {
    const event = freshEvent('app_mention_grid_org_install_no_team_id');
    expect(event.team_id).toBeUndefined();
    expect((await postSlack(app, event)).status).toBe(200);
    const row = await doneRow(event.event_id);
    const [ws] = await db.db.select().from(workspaces).where(sql`${workspaces.id} = ${row.workspaceId}`);
    expect(ws).toMatchObject({ externalId: 'E0INITECH1', enterpriseId: 'E0INITECH1' });
    const replies = api.calls.filter((c) => c.method.startsWith('chat.') && c.params.channel === 'C0INITOPS1' && c.params.thread_ts === event.event.ts);
    expect(replies.length).toBeGreaterThan(0);
    expect(new Set(replies.map((c) => c.token))).toEqual(new Set([INITECH.token]));
    expect(model.promptsText().some((p) => p.includes('list the open ops reviews across the org'))).toBe(true);
  });

  it("keeps a DM canary out of another workspace's prompts and another user's DM", async () => {
    const canary = `CANARY-${Date.now()}`;
    const secret = freshEvent('message_im', { text: `my salary is ${canary}` });
    await postSlack(app, secret);
    await doneRow(secret.event_id);
    expect(model.promptsText().filter((p) => p.includes(canary))).toHaveLength(1);
    const before = model.calls.length;

    // Same DM channel id in another workspace, then another Acme user's DM, then a channel thread.
    const others = [
      freshEvent('message_im', { team: 'T0GLOBEX01', user: 'U0GLBXEXT1', text: 'what is my salary?' }),
      freshEvent('message_im', { channel: 'D0ACMEDM02', user: 'U0ACMEOWN1', text: 'what is my salary?' }),
      freshEvent('app_mention', { text: '<@U0ACMEBOT1> what is my salary?' }),
    ];
    for (const e of others) await postSlack(app, e);
    for (const e of others) await doneRow(e.event_id);
    const later = model.promptsText().slice(before);
    expect(later).toHaveLength(3);
    for (const prompt of later) expect(prompt).not.toContain(canary);
  });

  it("refuses an event for another app than the installation's (api_app_id)", async () => {
    const other = { ...freshEvent('app_mention'), api_app_id: 'A0OTHERAPP' };
    expect((await postSlack(app, other)).status).toBe(200);
    expect(await db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${other.event_id}`)).toHaveLength(0);
  });

  it('refuses events for a workspace without an installation, and keeps running', async () => {
    const before = (await db.db.select().from(inbox)).length;
    const res = await postSlack(app, freshEvent('app_mention', { team: 'T0NORTHWD1' }));
    expect(res.status).toBe(401);
    expect((await db.db.select().from(inbox)).length).toBe(before);
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
  });

  it('deletes the tokens and marks the workspace uninstalled on app_uninstalled / tokens_revoked', async () => {
    expect((await postSlack(app, freshEvent('tokens_revoked'))).status).toBe(200);
    expect((await postSlack(app, freshEvent('app_uninstalled'))).status).toBe(200);
    const keys = (await db.db.select().from(installations)).map((r) => r.installKey).sort();
    expect(keys).toEqual(['T0ACME0001', 'enterprise:E0INITECH1']);
    const [globex] = await db.db.select().from(workspaces).where(sql`${workspaces.externalId} = 'T0GLOBEX01'`);
    expect(globex!.uninstalledAt).toBeInstanceOf(Date);
    const after = freshEvent('app_mention', { team: 'T0GLOBEX01', channel: 'C0GLBXGEN1', user: 'U0GLBXEXT1' });
    expect((await postSlack(app, after)).status).toBe(401);

    // A mention accepted just before the removal, still queued: dropped after one try, nothing posted.
    const postsBefore = api.calls.filter((c) => c.method.startsWith('chat.')).length;
    const queued = await app.running.intake.submit({
      kind: 'mention',
      idempotencyKey: 'globex-queued-before-uninstall',
      workspace: { platform: 'slack', externalId: 'T0GLOBEX01' },
      user: { id: 'U0GLBXEXT1' },
      channel: { id: 'C0GLBXGEN1', kind: 'channel' },
      messageId: '1767258999.000100',
      text: 'still there?',
      receivedAt: new Date(),
    });
    expect(queued.status).toBe('accepted');
    const dropped = await waitFor(async () => {
      const [row] = await db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = 'globex-queued-before-uninstall'`);
      return row?.status === 'dead' ? row : null;
    });
    expect(dropped.attempts).toBe(1);
    expect(dropped.lastError).toMatch(/no Slack installation/);
    expect(api.calls.filter((c) => c.method.startsWith('chat.')).length).toBe(postsBefore);

    // Installing again brings it back.
    expect(await (async () => {
      const start = await fetch(`${app.baseUrl}/slack/install`, { redirect: 'manual' });
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
      return (await fetch(`${app.baseUrl}/slack/oauth_redirect?code=code-globex&state=${encodeURIComponent(state)}`, { headers: { cookie } })).status;
    })()).toBe(200);
    const [back] = await db.db.select().from(workspaces).where(sql`${workspaces.externalId} = 'T0GLOBEX01'`);
    expect(back!.uninstalledAt).toBeNull();
  });
});
