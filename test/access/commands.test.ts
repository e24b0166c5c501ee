/**
 * Every admin command through the console's HTTP entry point (POST /console/api/messages with
 * `/agent …`): allowed for the right roles, denied for the others with an audit entry, bad
 * arguments rejected with nothing changed. Demo users: ava owner, ben admin, cleo member, dev guest.
 */
import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, channelTools, channels, grants, principals, workspaceSettings } from '../../src/db/schema.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

const ADMIN_ONLY = [
  '/agent role @cleo admin',
  '/agent agent off #engineering',
  '/agent guests off',
  '/agent content on',
  '/agent tools #general deny search_history',
  '/agent limit rpm 5',
  '/agent limit concurrency 1',
  '/agent budget tokens 100/day',
  '/agent audit',
  '/agent retention 7',
  '/agent forget @ben',
];

describe.each(drivers)('admin commands over the console (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;

  const { say, command } = consoleSpeaker(() => app);
  const lastAudit = async () => (await db.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1))[0]!;
  /** Everything a command could change. */
  const state = async () =>
    JSON.stringify([
      await db.db.select().from(workspaceSettings),
      await db.db.select({ e: channels.externalId, a: channels.agentEnabled }).from(channels).orderBy(channels.externalId),
      await db.db.select({ t: channelTools.tool, a: channelTools.allowed }).from(channelTools).orderBy(channelTools.tool),
      await db.db.select({ p: grants.principalId, r: grants.role }).from(grants).orderBy(grants.principalId),
    ]);
  const grantOf = async (user: string) => {
    const [row] = await db.db
      .select({ role: grants.role })
      .from(grants)
      .innerJoin(principals, eq(principals.id, grants.principalId))
      .where(eq(principals.platformUserId, user));
    return row?.role ?? null;
  };

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    app = await startTestApp(db);
    // Everyone has spoken once, so the demo principals exist.
    for (const u of ['ava', 'ben', 'cleo', 'dev']) await say(u, 'hello');
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('help and status answer everyone, privately', async () => {
    for (const [u, role] of [['ava', 'owner'], ['ben', 'admin'], ['cleo', 'member'], ['dev', 'guest']] as const) {
      const help = await command(u, '/agent help');
      expect(help).toContain('role @user owner|admin|member|guest|clear');
      expect(help).toContain('content on|off');
      const status = await command(u, '/agent status');
      expect(status).toContain(`Your role: ${role}`);
      expect(status).toContain('Today: ');
      expect(await lastAudit()).toMatchObject({ action: 'command', outcome: 'ok', detail: { command: 'status' } });
    }
  });

  it('refuses every admin command to members and guests, audits the denial, changes nothing', async () => {
    const before = await state();
    for (const user of ['cleo', 'dev']) {
      for (const text of ADMIN_ONLY) {
        expect(await command(user, text)).toBe('Only workspace admins can do that.');
        const entry = await lastAudit();
        expect(entry).toMatchObject({ action: 'denial', outcome: 'denied', detail: { action: 'command', reason: 'admins_only' } });
        expect(entry.channelExternalId).toBe('general');
      }
    }
    expect(await state()).toBe(before);
  });

  it('rejects bad arguments with the usage line and changes nothing', async () => {
    const before = await state();
    const cases: [string, string][] = [
      ['/agent limit rpm zero', 'Usage: /agent limit rpm N | /agent limit concurrency N | /agent limit tpm N'],
      ['/agent limit rpm 0', 'Usage: /agent limit rpm N | /agent limit concurrency N | /agent limit tpm N'],
      ['/agent budget tokens 100', 'Usage: /agent budget tokens|usd N/day|N/month|off | /agent budget user tokens|usd N/day|N/month|off'],
      ['/agent role cleo admin', 'Usage: /agent role @user owner|admin|member|guest|clear'],
      ['/agent role <@cleo admin', 'Usage: /agent role @user owner|admin|member|guest|clear'],
      ['/agent tools #general allow shell', 'Usage: /agent tools #channel allow|deny search_history|summarize_thread|remember|recall|workspace_status'],
      ['/agent agent sideways', 'Usage: /agent agent on|off [#channel]'],
      ['/agent retention -1', 'Usage: /agent retention DAYS|off'],
      ['/agent content kept', 'Usage: /agent content on|off'],
      ['/agent audit 1y', 'Usage: /agent audit [@user] [24h|7d]'],
    ];
    for (const [text, usage] of cases) {
      expect(await command('ben', text)).toBe(usage);
      expect(await lastAudit()).toMatchObject({ action: 'command', outcome: 'refused' });
    }
    expect(await command('ben', '/agent fly')).toMatch(/^Unknown command "fly"/);
    expect(await state()).toBe(before);
  });

  it('limit, budget and retention: set by an admin, audited with old and new value', async () => {
    expect(await command('ben', '/agent limit rpm 30')).toBe('Requests per minute: default → 30.');
    expect(await lastAudit()).toMatchObject({ action: 'admin_change', outcome: 'ok', detail: { setting: 'rpm', old: 'default', new: '30' } });
    expect(await command('ava', '/agent limit rpm 40')).toBe('Requests per minute: 30 → 40.');
    expect(await command('ben', '/agent limit concurrency 2')).toBe('Concurrent model calls: default → 2.');
    expect(await command('ben', '/agent budget tokens 250000/day')).toBe("This workspace's daily token budget: default → 250000.");
    expect(await command('ben', '/agent retention 30')).toBe('Message retention (days): off → 30.');
    expect(await lastAudit()).toMatchObject({ detail: { setting: 'retentionDays', old: 'off', new: '30' } });
    expect(await command('ben', '/agent retention off')).toBe('Message retention (days): 30 → off.');
    const [row] = await db.db.select().from(workspaceSettings);
    expect(row).toMatchObject({ rpm: 40, concurrency: 2, dailyTokens: 250000, retentionDays: null });
    // The model gate reads the same columns through TurnStore.settings.
    expect(await command('cleo', '/agent status')).toContain('40 requests/min, 2 at once, budget 250000 tokens/day');
  });

  it('agent off in a channel refuses everyone there, on again restores it', async () => {
    expect(await command('ben', '/agent agent off #engineering')).toBe('Agent in #engineering: on → off.');
    expect(await say('cleo', 'anyone there?', 'engineering')).toMatchObject({ kind: 'error', text: 'The agent is switched off here by a workspace admin.' });
    expect(await lastAudit()).toMatchObject({ action: 'denial', detail: { reason: 'agent_off_here', action: 'talk' } });
    expect(await say('cleo', 'still fine here', 'general')).toMatchObject({ kind: 'answer' });
    expect(await command('ben', '/agent agent on', 'engineering')).toBe('Agent in #engineering: off → on.');
    expect(await say('cleo', 'back?', 'engineering')).toMatchObject({ kind: 'answer' });
    expect(await command('ben', '/agent agent off', 'dm')).toBe('Name a channel: /agent agent on|off #channel');
  });

  it('guests off refuses guests only', async () => {
    expect(await command('ava', '/agent guests off')).toBe('Agent for guests and external users: on → off.');
    expect(await say('dev', 'hi', 'general')).toMatchObject({ kind: 'error', text: 'The agent is not available to guests in this workspace.' });
    expect(await say('cleo', 'hi', 'general')).toMatchObject({ kind: 'answer' });
    expect(await command('ava', '/agent guests on')).toBe('Agent for guests and external users: off → on.');
    expect(await say('dev', 'hi again', 'general')).toMatchObject({ kind: 'answer' });
  });

  it('tools: per channel rules stored and audited', async () => {
    expect(await command('ben', '/agent tools #general deny search_history')).toBe('Tool search_history in #general: default → deny.');
    expect(await command('ben', '/agent tools <#general|general> allow search_history')).toBe('Tool search_history in #general: deny → allow.');
    expect(await lastAudit()).toMatchObject({ action: 'admin_change', detail: { setting: 'tool:general:search_history', old: 'deny', new: 'allow' } });
    const rows = await db.db.select().from(channelTools);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tool: 'search_history', allowed: true });
  });

  it('role: grants within limits, mention forms, never above the granter, never the last owner', async () => {
    expect(await command('ben', '/agent role <@cleo|Cleo> admin')).toBe('Role of @cleo: member → admin (grant none → admin).');
    expect(await grantOf('cleo')).toBe('admin');
    // The grant takes effect on cleo's next command.
    expect(await command('cleo', '/agent limit rpm 50')).toBe('Requests per minute: 40 → 50.');
    // Now an admin like ben: ben cannot demote cleo (same rank); the owner can.
    expect(await command('ben', '/agent role <@cleo> clear')).toBe('You cannot change or erase someone whose role is the same as yours.');
    expect(await command('ava', '/agent role <@cleo> clear')).toBe('Role of @cleo: admin → member (grant admin → none).');
    expect(await command('cleo', '/agent limit rpm 60')).toBe('Only workspace admins can do that.');

    const before = await state();
    expect(await command('ben', '/agent role @cleo owner')).toBe('You cannot give a role above your own, or act on someone whose role is above yours.');
    expect(await lastAudit()).toMatchObject({ action: 'denial', detail: { command: 'role', reason: 'above_own_role' } });
    expect(await command('ben', '/agent role @ava member')).toBe('You cannot give a role above your own, or act on someone whose role is above yours.');
    expect(await command('ava', '/agent role @ava admin')).toBe('That would leave the workspace without an owner or admin.');
    expect(await lastAudit()).toMatchObject({ action: 'denial', detail: { reason: 'last_privileged' } });
    expect(await command('ben', '/agent role @nobody admin')).toBe('I could not find that user in this workspace, so nothing changed.');
    expect(await state()).toBe(before);

    expect(await command('ava', '/agent role @dev member')).toBe('Role of @dev: guest → member (grant none → member).');
    expect(await command('dev', '/agent status')).toContain('Your role: member');
    expect(await command('ava', '/agent role @dev clear')).toContain('member → guest');
  });

  it('audit: a compact table for admins, filtered by user and window', async () => {
    const table = await command('ben', '/agent audit');
    expect(table.split('\n')[1]).toMatch(/^#\s+when \(UTC\)\s+action\s+outcome\s+who\s+where\s+what$/);
    expect(table).toContain('admin_change');
    expect(table.split('\n').length).toBeLessThanOrEqual(23);
    const mine = await command('ava', '/agent audit <@dev|Dev> 24h');
    const rows = mine.split('\n').slice(2, -1);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/\sdev\s/);
    expect(await command('ava', '/agent audit @nobody 7d')).toBe('No audit entries match.');
  });
});
