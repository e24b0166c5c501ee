import { describe, expect, it } from 'vitest';
import { createTeamsAdapter } from '../../adapters/teams/index.js';
import { createIntake } from '../../src/core/intake.js';
import type { Logger } from '../../src/core/ports.js';
import { drivers, openTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, startTeams, useTeams } from './helpers.js';

function recordingLog() {
  const warnings: { obj: object; msg?: string }[] = [];
  const log: Logger = { debug() {}, info() {}, error() {}, warn: (obj, msg) => void warnings.push({ obj, msg }) };
  return { log, warnings };
}

describe.each(drivers)('Teams with auth off, for local use (%s)', (driver) => {
  const { log, warnings } = recordingLog();

  const t = useTeams(driver, () => ({ auth: false, log }));


  it('warns once Teams is used (not at start-up), accepts unsigned requests and calls the connector without a token', async () => {
    const authOff = () => warnings.filter((w) => (w.obj as { event?: string }).event === 'teams.auth_off').length;
    expect(authOff()).toBe(0);
    const a = activity('personal_message', t.teams.connector.url);
    expect((await t.teams.post(a)).status).toBe(200);
    expect((await t.teams.post(activity('personal_message', t.teams.connector.url))).status).toBe(200);
    expect(authOff()).toBe(1);
    await waitFor(() => t.teams.connector.messages().some((p) => p.replyToId === a.id));
    expect(t.teams.connector.messages().find((p) => p.replyToId === a.id)!.authorization).toBeUndefined();
  });
});

describe('Teams adapter in production', () => {
  it('refuses to run without MICROSOFT_APP_ID', () => {
    const { log } = recordingLog();
    const inbox = { enqueue: async () => 'accepted' as const } as never;
    expect(() =>
      createTeamsAdapter({
        app: { appType: 'SingleTenant', production: true, serviceUrlHosts: [] },
        intake: createIntake(inbox),
        refs: {} as never,
        log,
      }),
    ).toThrow(/MICROSOFT_APP_ID is required/);
  });
});

describe('Teams intake when the database is down', () => {
  it('answers 503 (never an ack) so that Teams delivers the activity again', async () => {
    const db = await openTestDatabase('pglite');
    const teams = await startTeams(db, { auth: false });
    try {
      await db.pglite!.close();
      const res = await teams.post(activity('personal_message', teams.connector.url));
      expect(res.status).toBe(503);
    } finally {
      await teams.stop().catch(() => {});
      await db.close().catch(() => {});
    }
  });
});
