/**
 * Start-up as an operator sees it: Quorum says it is up even while Slack cannot be reached, says
 * once (not every few seconds) what it is retrying, and /readyz names the missing dependency
 * until Slack answers; warnings name only what is in use.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { FakeSlackApi } from './fakes/slack-api.js';
import { startTestApp, type TestApp } from './support/app.js';
import { openTestDatabase, type TestDatabase } from './support/db.js';
import { logInto } from './support/logs.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { waitFor } from './support/wait.js';

const events = (lines: string[], event: string) => lines.filter((l) => (JSON.parse(l) as { event?: string }).event === event);
const readyz = async (app: TestApp) => {
  const res = await fetch(`${app.baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
};

describe('start-up with Slack (Socket Mode) unreachable', () => {
  const lines: string[] = [];
  let db: TestDatabase | undefined;
  let api: FakeSlackApi | undefined;
  let wss: WebSocketServer | undefined;
  let proxy: TcpProxy | undefined;
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
    await new Promise((r) => (wss ? wss.close(r) : r(null)));
    await api?.stop();
    await db?.close();
  });

  it('is up, says once what it retries, is not ready until Slack answers, then connects', { timeout: 120_000 }, async () => {
    db = await openTestDatabase('pglite');
    api = await new FakeSlackApi().start();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss!.once('listening', r));
    api.socketUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
    wss.on('connection', (ws) => ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0QRMAPP01' } })));
    // Slack's API behind a proxy that refuses every connection: Slack is unreachable.
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(api.url).port));
    proxy.cut();
    const slackApiUrl = new URL(api.url);
    slackApiUrl.port = String(proxy.port);

    app = await startTestApp(db, {
      log: logInto(lines),
      env: { SLACK_APP_TOKEN: 'xapp-test', SLACK_BOT_TOKEN: 'xoxb-acme-socket', SLACK_API_URL: slackApiUrl.toString(), QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') },
    });
    expect(events(lines, 'service.started')).toHaveLength(1);
    // Three attempts refused, one line that says so.
    await waitFor(() => proxy!.refused() >= 3, { timeoutMs: 60_000 });
    const unreachable = events(lines, 'slack.unreachable');
    expect(unreachable).toHaveLength(1);
    expect(unreachable[0]).toContain('retrying apps.connections.open');
    expect(lines.filter((l) => l.includes('http request failed'))).toEqual([]);
    expect(await readyz(app)).toEqual({ status: 503, body: expect.objectContaining({ checks: { database: 'ok', slack: 'unavailable' } }) });
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);

    proxy.restore();
    await waitFor(async () => (await readyz(app!)).status === 200, { timeoutMs: 90_000, everyMs: 200 });
    expect((await readyz(app)).body.checks).toEqual({ database: 'ok', slack: 'ok' });
    expect(events(lines, 'slack.connected')).toHaveLength(1);
    expect(events(lines, 'slack.unreachable')).toHaveLength(1);
  });
});

describe('start-up warnings name only what is in use', () => {
  const lines: string[] = [];
  let db: TestDatabase | undefined;
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('with no platform configured: no development-key warning (nothing stores tokens) and no Teams auth warning', async () => {
    db = await openTestDatabase('pglite');
    app = await startTestApp(db, { log: logInto(lines) });
    expect(events(lines, 'service.started')).toHaveLength(1);
    expect(events(lines, 'config.dev_key')).toEqual([]);
    expect(events(lines, 'teams.auth_off')).toEqual([]);
    expect(existsSync(join(app.config.DATA_DIR, 'encryption.key'))).toBe(false);
  });
});
