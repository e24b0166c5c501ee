/**
 * Socket Mode with OAuth (many workspaces): the install routes are served from Quorum's own HTTP
 * server (Bolt's SocketModeReceiver would open a second one on port 3000, Quorum's default PORT),
 * and events arriving over the socket are answered with the installed workspace's token.
 */
import { Server } from 'node:net';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { inbox, installations } from '../../src/db/schema.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers, useDatabaseWith } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, startSlackApp } from './support.js';

const ACME = { token: 'xoxb-acme-socket-oauth', team_id: 'T0ACME0001', user_id: 'U0ACMEBOT1', bot_id: 'B0ACMEBOT1' };

/** Ports of the servers listening in this process (the test's fakes, and whatever Quorum opened). */
function listeningPorts(): number[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles
    .filter((h): h is Server => h instanceof Server && h.listening)
    .map((s) => {
      const a = s.address();
      return typeof a === 'object' && a ? a.port : -1;
    });
}

describe.each(drivers)('Slack over Socket Mode with OAuth (%s)', (driver) => {
  const model = new RecordingModelGate();
  const acks = new Set<string>();
  let socket: WebSocket | null = null;
  let portsBefore: number[] = [];

  const ctx = useDatabaseWith(driver, async (db, cleanup) => {
    const api = await new FakeSlackApi().start();
    cleanup(() => api.stop());
    api.bots.set(ACME.token, ACME);
    api.grants.set('code-acme', {
      access_token: ACME.token,
      token_type: 'bot',
      scope: 'app_mentions:read,chat:write,commands,users:read',
      bot_user_id: ACME.user_id,
      app_id: 'A0QRMAPP01',
      team: { id: ACME.team_id, name: 'Acme' },
      enterprise: null,
      is_enterprise_install: false,
      authed_user: { id: 'U0ACMEOWN1', scope: '', access_token: undefined, token_type: 'user' },
    });
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanup(() => new Promise((resolve) => wss.close(resolve)));
    const address = wss.address();
    api.socketUrl = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    wss.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => acks.add((JSON.parse(String(data)) as { envelope_id: string }).envelope_id));
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0QRMAPP01' } }));
    });

    portsBefore = listeningPorts();
    const app = await startSlackApp(db, api, {
      model,
      env: { SLACK_APP_TOKEN: 'xapp-oauth', SLACK_CLIENT_ID: '1111.2222', SLACK_CLIENT_SECRET: 'client-secret', SLACK_STATE_SECRET: 'state-secret' },
    });
    cleanup(() => app.stop());
    await waitFor(() => socket);
    return { api, app };
  });

  it('opens no HTTP server besides Quorum’s own', () => {
    const opened = listeningPorts().filter((p) => !portsBefore.includes(p));
    expect(opened).toEqual([ctx.app.running.port]);
    expect(opened).not.toContain(3000);
  });

  it('installs a workspace through /slack/install and /slack/oauth_redirect on Quorum’s port', async () => {
    const start = await fetch(`${ctx.app.baseUrl}/slack/install`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect(location.searchParams.get('client_id')).toBe('1111.2222');
    expect(location.searchParams.get('scope')).toContain('app_mentions:read');
    const state = location.searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    const done = await fetch(`${ctx.app.baseUrl}/slack/oauth_redirect?code=code-acme&state=${encodeURIComponent(state)}`, { headers: { cookie }, redirect: 'manual' });
    expect(done.status).toBe(200);
    const rows = await ctx.db.db.select().from(installations);
    expect(rows.map((r) => r.installKey)).toEqual([ACME.team_id]);
    expect(rows[0]!.secretData).not.toContain('xoxb-');
    // Events are not taken over HTTP in Socket Mode.
    expect((await fetch(`${ctx.app.baseUrl}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('answers an event from the socket with the installed token, after storing it', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> hello over the socket with OAuth' });
    socket!.send(JSON.stringify({ envelope_id: 'oauth-env-1', type: 'events_api', payload: event, accepts_response_payload: false, retry_attempt: 0 }));
    await waitFor(() => acks.has('oauth-env-1'));
    const [row] = await ctx.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${event.event_id}`);
    expect(row).toBeDefined();
    await waitFor(() => ctx.api.called('chat.update').some((c) => c.params.text?.includes('hello over the socket with OAuth')));
    const posts = ctx.api.calls.filter((c) => c.method.startsWith('chat.') && c.params.channel === 'C0ACMEGEN1');
    expect(posts.length).toBeGreaterThan(0);
    expect(new Set(posts.map((c) => c.token))).toEqual(new Set([ACME.token]));
  });
});
