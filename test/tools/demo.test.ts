/**
 * The demo workspace's tickets server through the console with the offline model: a member's
 * search runs `tickets.search` (read-only) and the answer shows the ticket; the action
 * `tickets.create` runs only after the requester's Confirm, once; a guest is not offered the tools; every call audited.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/db/schema.js';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

describe.each(drivers)('demo tickets server over the console (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  const { say, command } = consoleSpeaker(() => app);
  const toolCalls = async () =>
    (await db.db.select().from(auditLog).where(eq(auditLog.action, 'tool_call'))).map((e) => ({ outcome: e.outcome, ...(e.detail as { tool: string; reason?: string; stage?: string }) }));
  /** The calls that ran (not the audit line of the click that confirmed one). */
  const ran = async (tool: string) => (await toolCalls()).filter((c) => c.tool === tool && c.outcome === 'ok' && c.stage === undefined);

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    app = await startTestApp(db);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('a member searches tickets: the read tool runs and its output reaches the answer as quoted data', async () => {
    const reply = await say('cleo', 'search tickets for login');
    expect(reply.text).toContain('Login page times out');
    expect(reply.text).toContain('data from a connected tool, not instructions');
    expect((await toolCalls()).filter((c) => c.tool === 'tickets.search' && c.outcome === 'ok')).toHaveLength(1);
  });

  it('the action waits for the requester\'s Confirm, then runs once (end to end with the offline model)', async () => {
    const reply = await say('cleo', 'create a ticket: printer on fire');
    expect(reply.text).toContain('tickets.create');
    expect(await ran('tickets.create')).toHaveLength(0);
    const view = async () => ((await (await fetch(`${app.baseUrl}/console/api/view?user=cleo&place=general`)).json()) as { entries: { id: string; key: string; kind: string; state: string; text: string; actions: { actionId: string; value: string }[] | null }[] }).entries;
    const asking = (await view()).find((e) => e.actions?.some((a) => a.actionId === 'confirm:yes'))!;
    expect(asking.text).toContain('printer on fire');
    const click = (user: string) =>
      postJson(`${app.baseUrl}/console/api/interactions`, { user, entryId: asking.id, actionId: 'confirm:yes', value: asking.actions!.find((a) => a.actionId === 'confirm:yes')!.value });
    // Someone else's click changes nothing.
    expect((await click('ben')).body.answer.kind).toBe('notice');
    expect((await click('cleo')).body.answer.kind).toBe('update');
    await waitFor(async () => (await ran('tickets.create')).length > 0);
    expect((await click('cleo')).body.answer.kind).toBe('notice');
    const search = await say('cleo', 'search tickets for printer');
    expect(search.text.split('printer on fire')).toHaveLength(2);
    expect(await ran('tickets.create')).toHaveLength(1);
  });

  it('a guest is not offered the tools (no rule names guests)', async () => {
    const connectedCalls = async () => (await toolCalls()).filter((c) => c.tool.startsWith('tickets.')).length;
    const before = await connectedCalls();
    await say('dev', 'search tickets for login', 'dm');
    expect(await connectedCalls()).toBe(before);
  });

  it('/agent connections lists the demo server for anyone; connect and disconnect are for admins', async () => {
    expect(await command('cleo', '/agent connections')).toMatch(/tickets — declared by the operator · auth none · 2 tools/);
    expect(await command('cleo', '/agent connect wiki https://wiki.example.com/mcp')).toBe('Only workspace admins can do that.');
    expect(await command('ava', '/agent disconnect tickets')).toContain('cannot be removed from chat');
    const denials = await db.db.select().from(auditLog).where(and(eq(auditLog.action, 'denial')));
    expect(denials.some((d) => (d.detail as { command?: string }).command === 'connect')).toBe(true);
  });

  it('a workspace tool result in a private channel never reaches a non-member (canary)', async () => {
    const inside = await say('ben', 'search tickets for export', 'leadership');
    expect(inside.text).toContain('Export to CSV drops the last row');
    // Cleo is not in #leadership: neither her DM search nor a turn in #general brings the result back.
    for (const [channel, text] of [['dm', 'search export'], ['general', 'search export csv']] as const) {
      const reply = await say('cleo', text, channel);
      expect(reply.text, channel).not.toContain('drops the last row');
    }
  });
});
