/**
 * `/agent help` and `/agent status` as people read them, through the console's HTTP entry point:
 * one line per command, grouped by who may run it (as the policy decides), details per command,
 * and the limits in force rather than the word "default".
 */
import { describe, expect, it } from 'vitest';
import { OPEN_COMMANDS } from '../../src/core/access/policy.js';
import { COMMAND_WORDS, HELP_LINES, usageOf } from '../../src/core/commands/index.js';
import { useTestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers } from '../support/db.js';

describe.each(drivers)('/agent help and status (%s)', (driver) => {
  const ctx = useTestApp(driver, () => ({ env: { WORKSPACE_RPM: '45', WORKSPACE_CONCURRENCY: '3', WORKSPACE_DAILY_TOKENS: '123456' } }));
  const { command } = consoleSpeaker(() => ctx.app);

  it('lists every form of every command on its own line, for everyone first, then for admins', async () => {
    const help = await command('cleo', '/agent help');
    const lines = help.split('\n');
    const everyone = lines.indexOf('For everyone:');
    const admins = lines.indexOf('For admins and owners:');
    expect(everyone).toBeGreaterThan(0);
    expect(admins).toBeGreaterThan(everyone);
    const section = (from: number, to: number) => lines.slice(from + 1, to).join('\n');
    for (const line of HELP_LINES) {
      const open = (OPEN_COMMANDS as readonly string[]).includes(line.policy);
      const where = open ? section(everyone, admins) : section(admins, lines.length);
      expect(where).toContain(`\`${line.usage}\` — ${line.summary}`);
    }
    expect(section(everyone, admins)).toContain('`/agent forget me`');
    expect(section(everyone, admins)).not.toContain('`/agent forget @user`');
    expect(section(admins, lines.length)).toContain('`/agent forget @user`');
    expect(section(admins, lines.length)).toContain('`/agent limit rpm N`');
    // One line per form: no line is the old grammar dump.
    expect(lines.every((l) => l.length <= 200)).toBe(true);
    expect(HELP_LINES.every((l) => l.summary.length <= 128)).toBe(true);
  });

  it('explains one command with /agent help COMMAND', async () => {
    const limit = await command('ben', '/agent help limit');
    expect(limit).toContain('`/agent limit rpm N` (admins)');
    expect(limit).toContain('`/agent limit concurrency N` (admins)');
    expect(limit).toContain('Example: /agent limit rpm 60');
    const forget = await command('cleo', '/agent help FORGET');
    expect(forget).toContain('`/agent forget me` (anyone)');
    expect(forget).toContain('`/agent forget @user` (admins)');
    for (const word of COMMAND_WORDS) expect(await command('dev', `/agent help ${word}`)).toContain(`/agent ${word}`);
  });

  it('answers an unknown help topic with the usage line, naming the commands', async () => {
    const answer = await command('cleo', '/agent help purge');
    expect(answer).toBe(usageOf('help'));
    expect(answer).toContain('status, role');
  });

  it('shows the limits in force: the service defaults, then the workspace’s own', async () => {
    const before = await command('cleo', '/agent status');
    expect(before).toContain('Limits: 45 requests/min (default), 3 at once (default), budget 123456 tokens/day (default)');
    expect(before).not.toMatch(/default (requests|at once)/);
    expect(await command('ben', '/agent limit rpm 20')).toBe('Requests per minute: default → 20.');
    expect(await command('cleo', '/agent status')).toContain('Limits: 20 requests/min, 3 at once (default), budget 123456 tokens/day (default)');
  });
});

describe.each(drivers)('/agent status without a default budget (%s)', (driver) => {
  const ctx = useTestApp(driver);
  const { command } = consoleSpeaker(() => ctx.app);

  it('says there is no daily budget', async () => {
    expect(await command('cleo', '/agent status')).toContain('Limits: 300 requests/min (default), 4 at once (default), no daily token budget');
  });
});
