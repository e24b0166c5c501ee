/** PostgreSQL unreachable: intake refuses with 5xx, /readyz says so, workers resume by themselves. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { messages } from '../src/db/schema.js';
import { RecordingModelGate } from './fakes/recording-model.js';
import { startTestApp, postJson, type TestApp } from './support/app.js';
import { openTestDatabase, type TestDatabase } from './support/db.js';
import { startTcpProxy, viaProxy, type TcpProxy } from './support/tcp-proxy.js';
import { waitFor } from './support/wait.js';
import { describeWith } from './support/services.js';

describeWith('postgres', 'database unavailable (postgres)', () => {
  let db: TestDatabase;
  let app: TestApp;
  let proxy: TcpProxy;

  let releaseModel: () => void = () => {};
  let modelBlocked: Promise<void> = Promise.resolve();
  const model = new RecordingModelGate(async (call) => {
    await modelBlocked;
    return RecordingModelGate.echo(call);
  });

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    const target = new URL(db.url!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    app = await startTestApp({ ...db, url: viaProxy(db.url!, proxy) }, { model, env: { INBOX_LEASE_MS: '2000' } });
  });
  afterAll(async () => {
    proxy?.restore();
    await app?.stop();
    await proxy?.close();
    await db?.close();
  });

  it('answers 503 while down, reports not ready, and works again when the database is back', async () => {
    const ok = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'before' });
    expect(ok.status).toBe(200);

    proxy.cut();
    const refused = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'while down', clientMessageId: 'retry-1' });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/could not store your message/);
    const ready = await fetch(`${app.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { database: 'unavailable' } });
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);

    proxy.restore();
    await waitFor(async () => (await fetch(`${app.baseUrl}/readyz`)).status === 200, { timeoutMs: 30_000, everyMs: 200 });
    // The client retries the same message: it is accepted once and answered.
    const retried = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'while down', clientMessageId: 'retry-1' });
    expect(retried.status).toBe(200);
    expect(retried.body.reply.kind).toBe('answer');
    const stored = await db.db.select().from(messages).where(eq(messages.content, 'while down'));
    expect(stored).toHaveLength(1);
  });

  it('answers a request that was accepted before the database went away, once it is back', async () => {
    modelBlocked = new Promise((r) => (releaseModel = r));
    const pending = postJson(`${app.baseUrl}/console/api/messages`, { user: 'ben', channel: 'dm', text: 'accepted then cut' });
    await waitFor(() => model.calls.some((c) => c.messages.at(-1)?.content === 'accepted then cut'));
    proxy.cut();
    releaseModel();
    // The turn cannot record its answer while the database is down; its lease runs out.
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.reply.text).toBe('echo: accepted then cut');
    const stored = await db.db.select().from(messages).where(eq(messages.content, 'echo: accepted then cut'));
    expect(stored).toHaveLength(1);
  });
});
