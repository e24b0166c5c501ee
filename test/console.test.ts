import { describe, expect, it } from 'vitest';
import { auditLog, messages, usage } from '../src/db/schema.js';
import { postJson, useTestApp } from './support/app.js';
import { drivers } from './support/db.js';

describe.each(drivers)('console turn over HTTP (%s)', (driver) => {
  const t = useTestApp(driver);

  it('answers with the offline model and leaves messages, audit and usage behind', async () => {
    const res = await postJson(`${t.app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'What did we decide?' });
    expect(res.status).toBe(200);
    expect(res.body.reply.kind).toBe('answer');
    expect(res.body.reply.text).toContain('Offline model');
    expect(res.body.reply.text).toContain('What did we decide?');

    const stored = await t.db.db.select().from(messages);
    expect(stored.map((m) => m.role).sort()).toEqual(['assistant', 'user']);
    const audits = await t.db.db.select().from(auditLog);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ action: 'turn', outcome: 'ok', model: 'quorum-offline-1' });
    // Content is kept only as a hash unless the workspace opts in.
    expect(audits[0]!.content).toBeNull();
    expect(audits[0]!.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const rows = await t.db.db.select().from(usage);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.calls).toBe(1);
    expect(rows[0]!.inputTokens).toBeGreaterThan(0);
  });

  it('continues a thread with its history and answers commands privately', async () => {
    const first = await postJson(`${t.app.baseUrl}/console/api/messages`, { user: 'ben', channel: 'engineering', text: 'first question' });
    const second = await postJson(`${t.app.baseUrl}/console/api/messages`, {
      user: 'ben',
      channel: 'engineering',
      text: 'second question',
      threadId: first.body.threadId,
    });
    expect(second.body.reply.text).toContain('2 earlier messages');
    const status = await postJson(`${t.app.baseUrl}/console/api/messages`, { user: 'ben', channel: 'dm', text: '/agent status' });
    expect(status.body.reply).toMatchObject({ kind: 'notice', private: true });
    expect(status.body.reply.text).toContain('Your role: admin');
  });

  it('refuses bad input with a clear error and stores nothing', async () => {
    const before = (await t.db.db.select().from(messages)).length;
    for (const body of [{}, { user: 'nobody', channel: 'general', text: 'hi' }, { user: 'cleo', channel: 'nowhere', text: 'hi' }, { user: 'cleo', channel: 'general', text: '   ' }]) {
      const res = await postJson(`${t.app.baseUrl}/console/api/messages`, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/invalid|unknown/);
    }
    const notJson = await fetch(`${t.app.baseUrl}/console/api/messages`, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect((await t.db.db.select().from(messages)).length).toBe(before);
  });

  it('serves the console page, health and readiness', async () => {
    const page = await fetch(`${t.app.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Quorum console');
    expect((await fetch(`${t.app.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.app.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: 'ok' } });
  });
});
