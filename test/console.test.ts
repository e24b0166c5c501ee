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

  it('keeps each view to its user: private replies and what the model was given go to the requester alone', async () => {
    type Entry = { from: string; user: string; threadId: string | null; kind: string; private: boolean; text: string; context: { outcome: string; entries: { given: boolean; source: string; text?: string; rule?: string }[] } | null };
    const view = async (user: string, place: string) =>
      ((await (await fetch(`${t.app.baseUrl}/console/api/view?user=${user}&place=${place}`)).json()) as { entries: Entry[] }).entries;
    const say = (user: string, channel: string, text: string, threadId?: string) =>
      postJson(`${t.app.baseUrl}/console/api/messages`, { user, channel, text, ...(threadId ? { threadId } : {}) });

    const first = await say('cleo', 'general', 'Where is the offsite?');
    await say('cleo', 'general', 'And when?', first.body.threadId);
    const inThread = (e: Entry) => e.from === 'quorum' && e.threadId === first.body.threadId;
    const cleo = (await view('cleo', 'general')).filter(inThread);
    expect(cleo).toHaveLength(2);
    const report = cleo[1]!.context!;
    expect(report.outcome).toBe('answered');
    expect(report.entries.map((e) => [e.source, e.given])).toEqual([
      ['instructions', true],
      ['message', true],
      ['message', true],
      ['request', true],
    ]);
    expect(report.entries[1]!.text).toBe('Where is the offsite?');
    // Another member sees the answers, never what Cleo's turns gave the model.
    const ben = (await view('ben', 'general')).filter(inThread);
    expect(ben.map((e) => e.text)).toEqual(cleo.map((e) => e.text));
    expect(ben.every((e) => e.context === null)).toBe(true);

    // A refusal is its requester's alone, and says which rule refused, with no text of anything.
    const denied = await say('dev', 'leadership', 'What is leadership planning?');
    expect(denied.body.reply).toMatchObject({ kind: 'error', private: true });
    const dev = await view('dev', 'leadership');
    expect(dev.map((e) => [e.from, e.kind, e.private])).toEqual([
      ['user', 'message', true],
      ['quorum', 'error', true],
    ]);
    expect(dev[1]!.context).toMatchObject({ outcome: 'denied', entries: [{ source: 'request', given: false, rule: 'membership' }] });
    expect(dev[1]!.context!.entries[0]!.text).toBeUndefined();
    expect(await view('ava', 'leadership')).toEqual([]);

    // A DM view is always the viewer's own; commands answered privately stay with their caller.
    await say('cleo', 'dm', 'my private plan');
    await say('cleo', 'general', '/agent status');
    expect(JSON.stringify(await view('ben', 'dm'))).not.toContain('my private plan');
    expect((await view('cleo', 'dm')).map((e) => e.text)).toContain('my private plan');
    expect((await view('ben', 'general')).some((e) => e.kind === 'notice')).toBe(false);
    expect((await view('cleo', 'general')).some((e) => e.kind === 'notice' && e.private)).toBe(true);

    for (const query of ['', 'user=cleo', 'user=nobody&place=dm', 'user=cleo&place=nowhere', 'user=cleo&place=dm-ben']) {
      const res = await fetch(`${t.app.baseUrl}/console/api/view?${query}`);
      expect(res.status).toBe(400);
    }
  });

  it('serves the console page, health and readiness', async () => {
    const page = await fetch(`${t.app.baseUrl}/`);
    expect(page.status).toBe(200);
    // Scripts from this server only: nothing inline, nothing from elsewhere.
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    for (const asset of ['console.js', 'render.js', 'console.css', 'marked.js', 'purify.js']) {
      expect((await fetch(`${t.app.baseUrl}/console/assets/${asset}`)).status).toBe(200);
    }
    for (const asset of ['../index.ts', '..%2Findex.ts', '%2e%2e/demo.json', 'constructor', '__proto__', 'console.js/', '']) {
      expect((await fetch(`${t.app.baseUrl}/console/assets/${asset}`)).status).toBe(404);
    }
    expect(await page.text()).toContain('Quorum console');
    expect((await fetch(`${t.app.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.app.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: 'ok' } });
  });
});
