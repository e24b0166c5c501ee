/**
 * `/agent content on|off` through the console's HTTP entry point: only admins switch it; with
 * content kept, a channel turn's audit entry holds its text while a DM turn (and a tool call made
 * in a DM) holds only the SHA-256, because admins read the audit log; off again hashes only;
 * `/agent status` and `/agent audit` show it; the hash chain still verifies. Through Slack's
 * entry point, a group DM is kept as a hash too. Demo users: ava owner, ben admin, cleo member, dev guest.
 */
import { createHash } from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAllChains } from '../../src/db/audit-verify.js';
import { auditLog, workspaceSettings } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { commandFixture, freshEvent, postSlack, useSlackApp } from '../slack/support.js';
import { useTestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(drivers)('audit content opt-in over the console (%s)', (driver) => {
  const ctx = useTestApp(driver);

  const { say, command } = consoleSpeaker(() => ctx.app);
  /** The turn entry for one question, found by the hash every entry keeps. */
  async function turnEntry(text: string) {
    const rows = await ctx.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'turn'), eq(auditLog.contentHash, sha256(text))));
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }
  const lastAudit = async () => (await ctx.db.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1))[0]!;
  const settings = async () => JSON.stringify(await ctx.db.db.select().from(workspaceSettings));
  const auditText = async () => JSON.stringify(await ctx.db.db.select().from(auditLog));

  beforeAll(async () => {
    // Everyone has spoken once, so the demo principals exist.
    for (const u of ['ava', 'ben', 'cleo', 'dev']) await say(u, 'hello');
  });

  it('a member or guest cannot switch it: denied, audited, nothing changed', async () => {
    const before = await settings();
    for (const user of ['cleo', 'dev']) {
      expect(await command(user, '/agent content on')).toBe('Only workspace admins can do that.');
      expect(await lastAudit()).toMatchObject({
        action: 'denial',
        outcome: 'denied',
        channelExternalId: 'general',
        detail: { action: 'command', command: 'content', reason: 'admins_only' },
      });
    }
    expect(await settings()).toBe(before);
    expect(await command('cleo', '/agent status')).toContain('content: hashed');
    const text = 'still hashed CANARYMEMBER';
    expect(await say('cleo', text)).toMatchObject({ kind: 'answer' });
    expect(await turnEntry(text)).toMatchObject({ content: null, contentHash: sha256(text) });
  });

  it('kept: channel turns hold their text, DM turns and DM tool calls only the hash; off again hashes only', async () => {
    expect(await command('ben', '/agent content on')).toBe(
      'Message content in the audit log: hashed → kept. Direct and group messages are still stored as hashes only.',
    );
    expect(await lastAudit()).toMatchObject({
      action: 'admin_change',
      outcome: 'ok',
      detail: { setting: 'content', old: 'hashed', new: 'kept' },
    });
    expect(await command('ben', '/agent content on')).toMatch(/^Message content in the audit log: kept → kept\./);
    expect(await command('cleo', '/agent status')).toContain('content: kept');

    const channelText = 'in the open CANARYKEPT1, a question long enough to be cut short in the table';
    expect(await say('cleo', channelText)).toMatchObject({ kind: 'answer' });
    expect(await turnEntry(channelText)).toMatchObject({ content: channelText, contentHash: sha256(channelText), channelExternalId: 'general' });

    const dmText = 'my private CANARYDM1';
    expect(await say('cleo', dmText, 'dm')).toMatchObject({ kind: 'answer' });
    expect(await turnEntry(dmText)).toMatchObject({ content: null, contentHash: sha256(dmText) });

    // A tool call's arguments follow the same rule: kept for a channel's, hashed for a DM's.
    const before = (await lastAudit()).id;
    await say('cleo', 'remember CANARYDM2 buy milk', 'dm');
    await say('cleo', 'search CANARYKEPT1');
    const calls = (await ctx.db.db.select().from(auditLog).where(eq(auditLog.action, 'tool_call'))).filter((e) => e.id > before);
    const dmCalls = calls.filter((e) => e.channelExternalId !== 'general');
    const channelCalls = calls.filter((e) => e.channelExternalId === 'general');
    expect(dmCalls.length).toBeGreaterThan(0);
    expect(channelCalls.length).toBeGreaterThan(0);
    for (const e of dmCalls) expect(e).toMatchObject({ content: null, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    for (const e of channelCalls) expect(e.content).toContain('CANARYKEPT1');
    expect(await auditText()).not.toContain('CANARYDM');

    // Admins see kept content in /agent audit, one short line per entry; never a DM's.
    const table = await command('ava', '/agent audit @cleo');
    expect(table).toContain('"in the open CANARYKEPT1, a question lon…"');
    expect(table).toMatch(/tool_call .*search_history, "\{"query":"CANARYKEPT1"\}"/);
    expect(table).not.toContain('CANARYDM');
    expect(table.split('\n').every((line) => line.length < 200)).toBe(true);

    expect(await command('ava', '/agent content off')).toBe('Message content in the audit log: kept → hashed.');
    expect(await lastAudit()).toMatchObject({ action: 'admin_change', detail: { setting: 'content', old: 'kept', new: 'hashed' } });
    expect(await command('dev', '/agent status')).toContain('content: hashed');
    const offText = 'after the switch CANARYOFF';
    expect(await say('cleo', offText)).toMatchObject({ kind: 'answer' });
    expect(await turnEntry(offText)).toMatchObject({ content: null, contentHash: sha256(offText) });
    expect(await auditText()).not.toContain('CANARYOFF');
    // What was kept while it was on stays (switching off does not erase; forget does).
    expect((await turnEntry(channelText)).content).toBe(channelText);

    const chains = await verifyAllChains(ctx.db.db);
    expect(chains.length).toBeGreaterThan(0);
    expect(chains.every((c) => c.ok)).toBe(true);
  });
});

describe.each(drivers)('audit content over Slack (%s)', (driver) => {
  const slack = useSlackApp(
    driver,
    () => ({ model: new RecordingModelGate() }),
    (api) => {
      api.rosters.set('G0ACMEMP01', ['U0ACMEADM1', 'U0ACMEMEM1', 'U0ACMEBOT1']);
    },
  );


  it('keeps a channel mention in clear, a group DM and a DM as hashes only', async () => {
    const form = commandFixture('agent_limit').replace('text=limit+rpm+60', 'text=content+on');
    const res = await postSlack(slack.app, form, { contentType: 'application/x-www-form-urlencoded' });
    expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/: hashed → kept\./) });

    await postSlack(slack.app, freshEvent('app_mention', { text: '<@U0ACMEBOT1> in the channel CANARYCHANNEL' }));
    await postSlack(slack.app, freshEvent('message_mpim', { text: '<@U0ACMEBOT1> in the group CANARYGROUP' }));
    await postSlack(slack.app, freshEvent('message_im', { text: 'just between us CANARYDM' }));
    const turns = await waitFor(async () => {
      const rows = await slack.db.db.select().from(auditLog).where(eq(auditLog.action, 'turn'));
      return rows.length === 3 ? rows : null;
    });
    expect(turns.map((t) => t.channelExternalId).sort()).toEqual(['C0ACMEGEN1', 'D0ACMEDM01', 'G0ACMEMP01']);
    for (const t of turns) {
      expect(t.contentHash).toMatch(/^[0-9a-f]{64}$/);
      if (t.channelExternalId === 'C0ACMEGEN1') expect(t.content).toContain('CANARYCHANNEL');
      else expect(t.content, t.channelExternalId!).toBeNull();
    }
    const all = JSON.stringify(await slack.db.db.select().from(auditLog));
    expect(all).not.toContain('CANARYGROUP');
    expect(all).not.toContain('CANARYDM');
  });
});
