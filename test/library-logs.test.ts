/**
 * Lines libraries print (botbuilder's console.error on a bad token, with key material) reach the
 * service logger as JSON with credentials scrubbed, and nothing goes to the console directly.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { scrubText } from '../src/core/redact.js';
import { drivers } from './support/db.js';
import { logInto } from './support/logs.js';
import { activity, useTeams } from './teams/helpers.js';

describe('scrubText', () => {
  it('replaces tokens, keys and secrets in free text', () => {
    const text = [
      'Authorization: Bearer abc.def.ghi',
      'token xoxb-1234-5678-abcdef and xapp-1-A0-123',
      'jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
      '-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----',
      'client_secret=s3cr3t&x=1 password: hunter2 sk-abcdefghijklmnop1234',
    ].join(' | ');
    const scrubbed = scrubText(text);
    for (const secret of ['abc.def.ghi', 'xoxb-1234', 'xapp-1-A0', 'eyJhbGci', 'MIIBIjANBg', 's3cr3t', 'hunter2', 'sk-abcdefghijklmnop1234']) {
      expect(scrubbed).not.toContain(secret);
    }
    expect(scrubText('nothing to hide here')).toBe('nothing to hide here');
  });
});

describe.each(drivers)("botbuilder's console lines go through the logger (%s)", (driver) => {
  const lines: string[] = [];
  const direct = { error: vi.spyOn(console, 'error'), warn: vi.spyOn(console, 'warn'), log: vi.spyOn(console, 'log') };
  const t = useTeams(driver, () => ({ log: logInto(lines, 'debug') }));
  afterAll(() => Object.values(direct).forEach((spy) => spy.mockRestore()));

  it('a forged token is logged as JSON and scrubbed, an expired one refused before botbuilder reads it; neither is printed directly', async () => {
    const url = t.teams.connector.url;
    const forged = t.teams.identity.token({ serviceUrl: url, forged: true });
    const expired = t.teams.identity.token({ serviceUrl: url, expiresIn: -600 });
    for (const token of [forged, expired]) {
      const res = await t.teams.post(activity('personal_message', url, (a) => (a.id = `lib-${Math.random()}`)), `Bearer ${token}`);
      expect(res.status).toBe(401);
    }
    const library = lines.map((l) => JSON.parse(l) as { event?: string; msg?: string; level?: string }).filter((l) => l.event === 'library.console');
    expect(library.some((l) => l.level === 'error' && l.msg?.includes('Error finding key for token'))).toBe(true);
    // Quorum refuses an expired token itself (adapters/teams/auth.ts), so botbuilder never prints its stack.
    expect(library.some((l) => l.msg?.includes('TokenExpiredError'))).toBe(false);
    const all = lines.join('\n');
    expect(all).not.toContain('BEGIN PUBLIC KEY');
    expect(all).not.toContain(forged.split('.')[2]!);
    for (const spy of Object.values(direct)) expect(spy).not.toHaveBeenCalled();
  });
});
