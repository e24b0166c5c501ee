/** A model that fails gives the user a clear reply and leaves nothing half-written. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { auditLog, messages, usage } from '../src/db/schema.js';
import { startTestApp, postJson, type TestApp } from './support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from './support/db.js';

describe.each(drivers)('model errors (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  let failing: Server;

  beforeAll(async () => {
    // An OpenAI-compatible endpoint that is up but always fails.
    failing = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }));
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const port = (failing.address() as { port: number }).port;
    db = await openTestDatabase(driver);
    app = await startTestApp(db, {
      env: { MODEL_PROVIDER: 'openai', MODEL_BASE_URL: `http://127.0.0.1:${port}/v1`, MODEL_API_KEY: 'sk-test-secret-1234', MODEL_TIMEOUT_MS: '5000' },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
    await new Promise((r) => failing?.close(r));
  });

  it('answers with a short error and stores no messages or usage', async () => {
    const res = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'will this work?' });
    expect(res.status).toBe(200);
    expect(res.body.reply.kind).toBe('error');
    expect(res.body.reply.text).toMatch(/not reachable right now/);
    expect(res.body.reply.text).not.toContain('sk-test-secret');
    expect(await db.db.select().from(messages)).toHaveLength(0);
    expect(await db.db.select().from(usage)).toHaveLength(0);
    const audits = await db.db.select().from(auditLog);
    expect(audits.map((a) => [a.action, a.outcome])).toEqual([['model_call', 'refused']]);
    expect(JSON.stringify(audits)).not.toContain('sk-test-secret');
  });
});
