/**
 * Socket Mode against a local fake of Slack's socket endpoint: an event is acked only once it
 * is in the inbox, and one the inbox could not take is not acked (Slack delivers it again).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { inbox } from '../../src/db/schema.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, startSlackApp } from './support.js';

describe.each(drivers)('Slack over Socket Mode (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  let wss: WebSocketServer;
  let socket: WebSocket | null = null;
  /** envelope_id → whether the inbox held the event when the ack arrived */
  const acks = new Map<string, boolean>();
  const model = new RecordingModelGate();
  /** envelope_id → the event_id it carries */
  const pending = new Map<string, string>();
  /** Structured log events the service emitted (to see a failure happen without sleeping). */
  const logged: string[] = [];
  const record = (obj: object) => void logged.push(String((obj as { event?: string }).event));
  const log = { debug: record, info: record, warn: record, error: record };

  const stored = async (eventId: string) =>
    (await db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${eventId}`)).length > 0;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const address = wss.address();
    api.socketUrl = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    wss.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => {
        const { envelope_id } = JSON.parse(String(data)) as { envelope_id: string };
        void stored(pending.get(envelope_id) ?? '').then((inInbox) => acks.set(envelope_id, inInbox));
      });
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0QRMAPP01' } }));
    });
    app = await startSlackApp(db, api, { model, log, env: { SLACK_APP_TOKEN: 'xapp-test', SLACK_BOT_TOKEN: 'xoxb-acme-socket' } });
    await waitFor(() => socket);
  });
  afterAll(async () => {
    await app?.stop();
    await new Promise((resolve) => wss?.close(resolve));
    await api?.stop();
    await db?.close();
  });

  const deliver = (envelopeId: string, body: { event_id: string }) => {
    pending.set(envelopeId, body.event_id);
    socket!.send(JSON.stringify({ envelope_id: envelopeId, type: 'events_api', payload: body, accepts_response_payload: false, retry_attempt: 0 }));
  };

  it('connects with the app token and serves no HTTP events route', async () => {
    expect(api.called('apps.connections.open')[0]!.token).toBe('xapp-test');
    expect((await fetch(`${app.baseUrl}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('acks a mention only after it is in the inbox, then answers it in its thread', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> over the socket' });
    deliver('env-1', event);
    expect(await waitFor(() => acks.has('env-1'))).toBe(true);
    expect(acks.get('env-1')).toBe(true);
    await waitFor(() => api.called('chat.update').some((c) => c.params.text?.includes('over the socket')));
    expect(api.called('chat.postMessage').filter((c) => c.params.thread_ts === event.event.ts)).toHaveLength(1);
  });

  it('does not ack an event the inbox could not store', async () => {
    const lost = freshEvent('app_mention', { text: '<@U0ACMEBOT1> while down' });
    await db.db.execute(sql`alter table inbox rename to inbox_unavailable`);
    try {
      const failuresBefore = logged.filter((e) => e === 'slack.listener_failed').length;
      deliver('env-down', lost);
      await waitFor(() => logged.filter((e) => e === 'slack.listener_failed').length > failuresBefore);
    } finally {
      await db.db.execute(sql`alter table inbox_unavailable rename to inbox`);
    }
    const next = freshEvent('app_mention', { text: '<@U0ACMEBOT1> after recovery' });
    deliver('env-next', next);
    await waitFor(() => acks.has('env-next'));
    expect(acks.has('env-down')).toBe(false);
    expect(await stored(lost.event_id)).toBe(false);
    // Slack delivers it again on a new envelope: now it is taken.
    deliver('env-down-2', lost);
    await waitFor(() => acks.has('env-down-2'));
    expect(acks.get('env-down-2')).toBe(true);
  });
});
