import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox } from '../../src/db/schema.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, APP_ID, startTeams, type TeamsHarness } from './helpers.js';

describe.each(drivers)('Teams /api/messages authentication (%s)', (driver) => {
  let db: TestDatabase;
  let teams: TeamsHarness;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    teams = await startTeams(db);
  });
  afterAll(async () => {
    await teams?.stop();
    await db?.close();
  });

  const personal = () => activity('personal_message', teams.connector.url, (a) => (a.id = `jwt-${Math.random()}`));

  it('accepts a valid RS256 channel token', async () => {
    const a = personal();
    const res = await teams.post(a);
    expect(res.status).toBe(200);
    // Let the turn finish so that later tests count model calls from a settled state.
    await waitFor(() => teams.connector.messages().some((p) => p.replyToId === a.id));
  });

  it.each([
    ['expired', () => teams.identity.token({ serviceUrl: teams.connector.url, expiresIn: -600 })], // beyond botbuilder's 5-minute clock tolerance
    ['wrong audience', () => teams.identity.token({ serviceUrl: teams.connector.url, aud: 'some-other-bot' })],
    ['wrong issuer', () => teams.identity.token({ serviceUrl: teams.connector.url, iss: 'https://evil.example.com' })],
    ['unknown key', () => teams.identity.token({ serviceUrl: teams.connector.url, kid: 'not-a-known-kid' })],
    ['serviceurl mismatch', () => teams.identity.token({ serviceUrl: 'https://smba.trafficmanager.net/emea/' })],
    ['forged signature', () => teams.identity.token({ serviceUrl: teams.connector.url, forged: true })],
    ['HS256', () => teams.identity.token({ serviceUrl: teams.connector.url, alg: 'HS256' })],
    ['alg none', () => teams.identity.token({ serviceUrl: teams.connector.url, alg: 'none' })],
  ])('refuses a token that is %s with 401, and nothing runs', async (_name, token) => {
    const before = (await db.db.select().from(inbox)).length;
    const calls = teams.model.calls.length;
    const res = await teams.post(personal(), `Bearer ${token()}`);
    expect(res.status).toBe(401);
    expect((await db.db.select().from(inbox)).length).toBe(before);
    expect(teams.model.calls.length).toBe(calls);
  });

  it('refuses a request without an Authorization header', async () => {
    const before = (await db.db.select().from(inbox)).length;
    const res = await teams.post(personal(), null);
    expect(res.status).toBe(401);
    expect((await db.db.select().from(inbox)).length).toBe(before);
  });

  it('refuses a forged token on a non-message activity too', async () => {
    const added = activity('conversation_update_members_added', teams.connector.url);
    const res = await teams.post(added, `Bearer ${teams.identity.token({ serviceUrl: teams.connector.url, forged: true })}`);
    expect(res.status).toBe(401);
    expect((await teams.post(added)).status).toBe(200);
  });

  it('answers 400 at once to a body without type, or not JSON', async () => {
    const missing = activity('message_missing_type', teams.connector.url);
    expect((await teams.post(missing)).status).toBe(400);
    expect((await teams.post('{not json')).status).toBe(400);
    expect((await teams.post('[1,2]')).status).toBe(400);
  });

  it('refuses an unknown tenant even with a valid token, and stores nothing', async () => {
    const before = (await db.db.select().from(inbox)).length;
    const res = await teams.post(activity('message_unknown_tenant', teams.connector.url));
    expect(res.status).toBe(403);
    expect((await db.db.select().from(inbox)).length).toBe(before);
    expect(APP_ID).toBeTruthy();
  });
});
