/** The /agent grammar: mention forms of each platform, usage lines for bad input. */
import { describe, expect, it } from 'vitest';
import { isCommandText, parseCommand, usageOf, USAGE } from '../../src/core/commands/index.js';
import { roleOf } from '../../src/core/access/roles.js';

describe('parseCommand', () => {
  const ok: [string, object][] = [
    ['/agent', { name: 'help', topic: null }],
    ['/agent help', { name: 'help', topic: null }],
    ['/agent help Limit', { name: 'help', topic: 'limit' }],
    ['/agent STATUS', { name: 'status' }],
    ['/agent role <@U123|dana> admin', { name: 'role', user: 'U123', role: 'admin' }],
    ['/agent role <@U123> guest', { name: 'role', user: 'U123', role: 'guest' }],
    ['/agent role @cleo clear', { name: 'role', user: 'cleo', role: null }],
    ['/agent role @29:1aB-xY Member', { name: 'role', user: '29:1aB-xY', role: 'member' }],
    ['/agent agent off', { name: 'agent', enabled: false, channel: null }],
    ['/agent agent on <#C0ACMEGEN1|general>', { name: 'agent', enabled: true, channel: 'C0ACMEGEN1' }],
    ['/agent agent off <#C0ACMEGEN1>', { name: 'agent', enabled: false, channel: 'C0ACMEGEN1' }],
    ['/agent agent off #engineering', { name: 'agent', enabled: false, channel: 'engineering' }],
    ['/agent guests off', { name: 'guests', enabled: false }],
    ['/agent content on', { name: 'content', keep: true }],
    ['/agent Content OFF', { name: 'content', keep: false }],
    ['/agent tools <#C1|x> deny search_history', { name: 'tools', channel: 'C1', rule: { kind: 'allow', allowed: false, tool: 'search_history', guests: false } }],
    ['/agent tools #general allow recall', { name: 'tools', channel: 'general', rule: { kind: 'allow', allowed: true, tool: 'recall', guests: false } }],
    ['/agent tools all allow wiki.search guests', { name: 'tools', channel: '*', rule: { kind: 'allow', allowed: true, tool: 'wiki.search', guests: true } }],
    ['/agent tools #eng deny github.delete_*', { name: 'tools', channel: 'eng', rule: { kind: 'allow', allowed: false, tool: 'github.delete_*', guests: false } }],
    ['/agent tools all confirm github.* always', { name: 'tools', channel: '*', rule: { kind: 'confirm', pattern: 'github.*', mode: 'always' } }],
    ['/agent tools <#C1|x> confirm remember never', { name: 'tools', channel: 'C1', rule: { kind: 'confirm', pattern: 'remember', mode: 'never' } }],
    ['/agent connect wiki <https://Wiki.example.com/MCP|wiki> auth per-user', { name: 'connect', connection: 'wiki', url: 'https://Wiki.example.com/MCP', auth: 'per-user' }],
    ['/agent connections', { name: 'connections', action: { kind: 'list' } }],
    ['/agent connections refresh', { name: 'connections', action: { kind: 'refresh' } }],
    ['/agent connections secret wiki', { name: 'connections', action: { kind: 'secret', connection: 'wiki' } }],
    // What follows the name is a typed secret: dropped by the parser, whatever it looks like.
    ['/agent connections secret wiki s3cr3t', { name: 'connections', action: { kind: 'secret_typed' } }],
    ['/agent connections secret wiki Bearer abc.DEF', { name: 'connections', action: { kind: 'secret_typed' } }],
    ['/agent connections tickets results shared', { name: 'connections', action: { kind: 'results', connection: 'tickets', shared: true } }],
    ['/agent connections tickets Results PRIVATE', { name: 'connections', action: { kind: 'results', connection: 'tickets', shared: false } }],
    ['/agent disconnect wiki', { name: 'disconnect', connection: 'wiki' }],
    ['/agent limit rpm 60', { name: 'limit', key: 'rpm', value: 60 }],
    ['/agent limit concurrency 3', { name: 'limit', key: 'concurrency', value: 3 }],
    ['/agent retention 30', { name: 'retention', days: 30 }],
    ['/agent retention 30d', { name: 'retention', days: 30 }],
    ['/agent retention off', { name: 'retention', days: null }],
    ['/agent budget tokens 200000/day', { name: 'budget', subject: 'workspace', unit: 'tokens', period: 'day', amount: 200000 }],
    ['/agent budget usd 200/month', { name: 'budget', subject: 'workspace', unit: 'usd', period: 'month', amount: 200_000_000 }],
    ['/agent budget user usd $5.25/day', { name: 'budget', subject: 'user', unit: 'usd', period: 'day', amount: 5_250_000 }],
    ['/agent budget user tokens off', { name: 'budget', subject: 'user', unit: 'tokens', period: null, amount: null }],
    ['/agent limit tpm 50000', { name: 'limit', key: 'tpm', value: 50000 }],
    ['/agent usage', { name: 'usage', me: false, window: 'today', by: null }],
    ['/agent usage 30d by model', { name: 'usage', me: false, window: '30d', by: 'model' }],
    ['/agent usage by channel', { name: 'usage', me: false, window: 'today', by: 'channel' }],
    ['/agent usage me month', { name: 'usage', me: true, window: 'month', by: null }],
    ['/agent audit', { name: 'audit', user: null, window: null, exportDays: null }],
    ['/agent audit <@U9|x> 7d', { name: 'audit', user: 'U9', window: '7d', exportDays: null }],
    ['/agent audit 24h', { name: 'audit', user: null, window: '24h', exportDays: null }],
    ['/agent audit @ben', { name: 'audit', user: 'ben', window: null, exportDays: null }],
    ['/agent audit export 30d', { name: 'audit', user: null, window: null, exportDays: 30 }],
    ['/agent model', { name: 'model', set: null }],
    ['/agent model Fast', { name: 'model', set: { channel: null, tier: 'answer', choice: 'fast' } }],
    ['/agent model <#C1|general> deep', { name: 'model', set: { channel: 'C1', tier: 'answer', choice: 'deep' } }],
    ['/agent model cheap default', { name: 'model', set: { channel: null, tier: 'small', choice: null } }],
    ['/agent instructions', { name: 'instructions', set: null }],
    ['/agent instructions  Answer in French.\n  Be brief.', { name: 'instructions', set: { channel: null, text: 'Answer in French.\n  Be brief.' } }],
    ['/agent instructions <#C1|general> Cite sources', { name: 'instructions', set: { channel: 'C1', text: 'Cite sources' } }],
    ['/agent instructions clear #support', { name: 'instructions', set: { channel: 'support', text: null } }],
    ['/agent instructions clear', { name: 'instructions', set: { channel: null, text: null } }],
    ['/agent instructions Clear answers only', { name: 'instructions', set: { channel: null, text: 'Clear answers only' } }],
    ['/agent forget me', { name: 'forget', user: null }],
    ['/agent forget <@U777|sam>', { name: 'forget', user: 'U777' }],
  ];
  it.each(ok)('%s', (text, command) => {
    expect(parseCommand(text)).toEqual({ ok: true, command });
  });

  const bad: [string, string][] = [
    ['/agent role cleo admin', 'role'],
    ['/agent role @cleo superuser', 'role'],
    ['/agent role @cleo external', 'role'],
    ['/agent role <@U1 admin', 'role'],
    ['/agent agent maybe', 'agent'],
    ['/agent agent off general', 'agent'],
    ['/agent guests', 'guests'],
    ['/agent content', 'content'],
    ['/agent content on #general', 'content'],
    ['/agent tools #general allow rm_rf', 'tools'],
    ['/agent tools #general deny wiki.search guests', 'tools'],
    ['/agent connect wiki not-a-url', 'connect'],
    ['/agent connections secret', 'connections'],
    ['/agent connections secret Wiki!', 'connections'],
    ['/agent connections tickets results public', 'connections'],
    ['/agent connections tickets results', 'connections'],
    ['/agent connect wiki https://x.example.com auth root', 'connect'],
    ['/agent tools general allow recall', 'tools'],
    ['/agent tools all confirm github.* sometimes', 'tools'],
    ['/agent tools all confirm a.b.c always', 'tools'],
    ['/agent tools all allow recall', 'tools'],
    ['/agent limit rpm 0', 'limit'],
    ['/agent limit rpm -5', 'limit'],
    ['/agent limit rpm 1.5', 'limit'],
    ['/agent limit rpm 99999999999', 'limit'],
    ['/agent limit speed 5', 'limit'],
    ['/agent budget tokens 5000', 'budget'],
    ['/agent budget 5000/day', 'budget'],
    ['/agent audit 30d', 'audit'],
    ['/agent audit @a @b', 'audit'],
    ['/agent audit export', 'audit'],
    ['/agent audit export 0', 'audit'],
    ['/agent model a b c', 'model'],
    ['/agent model cheap', 'model'],
    ['/agent model fa$t', 'model'],
    ['/agent instructions #general', 'instructions'],
    ['/agent retention forever', 'retention'],
    ['/agent retention 0', 'retention'],
    ['/agent forget', 'forget'],
    ['/agent forget everyone', 'forget'],
    ['/agent status now', 'status'],
    ['/agent help purge', 'help'],
    ['/agent help limit rpm', 'help'],
  ];
  it.each(bad)('%s → usage of %s', (text, name) => {
    const parsed = parseCommand(text);
    expect(parsed).toEqual({ ok: false, name, message: usageOf(name as never) });
  });

  it('names unknown commands and lists the grammar', () => {
    const parsed = parseCommand('/agent launch-missiles');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(USAGE);
  });

  it('recognises command text only with /agent as its own word', () => {
    expect(isCommandText('  /agent status')).toBe(true);
    expect(isCommandText('/agentx')).toBe(false);
    expect(isCommandText('please /agent status')).toBe(false);
  });
});

describe('roleOf', () => {
  const ws = { platform: 'slack' as const, externalId: 'T1' };
  const boot = [{ platform: 'slack' as const, workspace: 'T1', user: 'U1' }];
  it('raises operator admins, keeps externals external, lets grants override the platform', () => {
    expect(roleOf({ platformUserId: 'U1', platformRole: 'member', grantedRole: null }, ws, boot)).toBe('admin');
    expect(roleOf({ platformUserId: 'U1', platformRole: 'member', grantedRole: 'guest' }, ws, boot)).toBe('admin');
    expect(roleOf({ platformUserId: 'U1', platformRole: 'owner', grantedRole: null }, ws, boot)).toBe('owner');
    expect(roleOf({ platformUserId: 'U1', platformRole: 'member', grantedRole: null }, { ...ws, externalId: 'T2' }, boot)).toBe('member');
    expect(roleOf({ platformUserId: 'U1', platformRole: 'external', grantedRole: 'admin' }, ws, boot)).toBe('external');
    expect(roleOf({ platformUserId: 'U2', platformRole: 'member', grantedRole: 'admin' }, ws, boot)).toBe('admin');
  });
});
