/** QUORUM_ADMINS: operator-named admins, wired from config through main.ts into the core. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

describe.each(drivers)('bootstrap admins (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  const command = async (user: string, text: string) =>
    (await postJson(`${app.baseUrl}/console/api/messages`, { user, channel: 'general', text })).body.reply.text as string;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    // cleo is a member on the platform; dev is named for another workspace, which must not count here.
    app = await startTestApp(db, { env: { QUORUM_ADMINS: 'console:demo:cleo,console:other:dev' } });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('raises the named user to admin in that workspace only, and chat cannot lower them', async () => {
    expect(await command('cleo', '/agent status')).toContain('Your role: admin');
    expect(await command('cleo', '/agent limit rpm 12')).toBe('Requests per minute: default → 12.');
    expect(await command('dev', '/agent status')).toContain('Your role: guest');
    // Not by another admin (same rank), nor by an owner (the operator's word).
    expect(await command('ben', '/agent role @cleo member')).toBe('You cannot change or erase someone whose role is the same as yours.');
    expect(await command('ava', '/agent role @cleo member')).toBe(
      'That admin is set by the operator of this Quorum installation and cannot be changed from chat.',
    );
  });
});
