import { describe, expect, it, vi } from 'vitest';
import { inbox } from '../../src/db/schema.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, APP_ID, useTeams } from './helpers.js';

describe.each(drivers)('Teams /api/messages authentication (%s)', (driver) => {

  const t = useTeams(driver);


  const personal = () => activity('personal_message', t.teams.connector.url, (a) => (a.id = `jwt-${Math.random()}`));

  it('accepts a valid RS256 channel token', async () => {
    const a = personal();
    const res = await t.teams.post(a);
    expect(res.status).toBe(200);
    // Let the turn finish so that later tests count model calls from a settled state.
    await waitFor(() => t.teams.connector.messages().some((p) => p.replyToId === a.id));
  });

  it.each([
    ['expired', () => t.teams.identity.token({ serviceUrl: t.teams.connector.url, expiresIn: -600 })], // beyond botbuilder's 5-minute clock tolerance
    ['wrong audience', () => t.teams.identity.token({ serviceUrl: t.teams.connector.url, aud: 'some-other-bot' })],
    ['wrong issuer', () => t.teams.identity.token({ serviceUrl: t.teams.connector.url, iss: 'https://evil.example.com' })],
    ['unknown key', () => t.teams.identity.token({ serviceUrl: t.teams.connector.url, kid: 'not-a-known-kid' })],
    ['serviceurl mismatch', () => t.teams.identity.token({ serviceUrl: 'https://smba.trafficmanager.net/emea/' })],
    ['forged signature', () => t.teams.identity.token({ serviceUrl: t.teams.connector.url, forged: true })],
    ['HS256', () => t.teams.identity.token({ serviceUrl: t.teams.connector.url, alg: 'HS256' })],
    ['alg none', () => t.teams.identity.token({ serviceUrl: t.teams.connector.url, alg: 'none' })],
  ])('refuses a token that is %s with 401, and nothing runs', async (_name, token) => {
    const before = (await t.db.db.select().from(inbox)).length;
    const calls = t.teams.model.calls.length;
    const res = await t.teams.post(personal(), `Bearer ${token()}`);
    expect(res.status).toBe(401);
    expect((await t.db.db.select().from(inbox)).length).toBe(before);
    expect(t.teams.model.calls.length).toBe(calls);
  });

  it('refuses an expired token without botbuilder printing its stack trace to stderr', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const expired = t.teams.identity.token({ serviceUrl: t.teams.connector.url, expiresIn: -600 });
      expect((await t.teams.post(personal(), `Bearer ${expired}`)).status).toBe(401);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
    }
  });

  it('refuses a request without an Authorization header', async () => {
    const before = (await t.db.db.select().from(inbox)).length;
    const res = await t.teams.post(personal(), null);
    expect(res.status).toBe(401);
    expect((await t.db.db.select().from(inbox)).length).toBe(before);
  });

  it('refuses a forged token on a non-message activity too', async () => {
    const added = activity('conversation_update_members_added', t.teams.connector.url);
    const res = await t.teams.post(added, `Bearer ${t.teams.identity.token({ serviceUrl: t.teams.connector.url, forged: true })}`);
    expect(res.status).toBe(401);
    expect((await t.teams.post(added)).status).toBe(200);
  });

  it('answers 400 at once to a body without type, or not JSON', async () => {
    const missing = activity('message_missing_type', t.teams.connector.url);
    expect((await t.teams.post(missing)).status).toBe(400);
    expect((await t.teams.post('{not json')).status).toBe(400);
    expect((await t.teams.post('[1,2]')).status).toBe(400);
  });

  it('refuses an unknown tenant even with a valid token, and stores nothing', async () => {
    const before = (await t.db.db.select().from(inbox)).length;
    const res = await t.teams.post(activity('message_unknown_tenant', t.teams.connector.url));
    expect(res.status).toBe(403);
    expect((await t.db.db.select().from(inbox)).length).toBe(before);
    expect(APP_ID).toBeTruthy();
  });
});
