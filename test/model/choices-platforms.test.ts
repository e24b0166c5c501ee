/**
 * `/agent model` and `/agent instructions` through both platforms' real entry points: a signed
 * Slack slash command and a Teams message. A name outside MODEL_CHOICES is refused there too; a
 * change is audited with its old and new value.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/db/schema.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { slashCommand, startSlackApp } from '../slack/support.js';
import { activity, ALEX, CONTOSO, useTeams } from '../teams/helpers.js';

const CHOICES = JSON.stringify([
  { name: 'local', provider: 'offline', model: 'offline', input: 0, output: 0 },
  { name: 'local-2', provider: 'offline', model: 'offline-2', input: 1, output: 1, tools: false },
]);

const changes = async (db: TestDatabase) => (await db.db.select().from(auditLog).where(eq(auditLog.action, 'admin_change'))).map((e) => e.detail);

describe.each(drivers)('/agent model and instructions as a signed Slack slash command (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    app = await startSlackApp(db, api, { env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', MODEL_CHOICES: CHOICES } });
  });
  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    await db?.close();
  });
  const slash = async (fixture: string, text: string) => (await slashCommand(app, text, { fixture })).text;

  it('sets the model and instructions for an admin, refuses unknown names and members', async () => {
    expect(await slash('agent_limit', 'model local-2')).toBe('Model for this workspace: default → local-2.');
    expect(await slash('agent_limit', 'model <#C0ACMEGEN1|general> local')).toBe('Model in #C0ACMEGEN1: default → local.');
    expect(await slash('agent_limit', 'model gpt-9')).toMatch(/^"gpt-9" is not one of the models this installation allows \(local, local-2\)/);
    expect(await slash('agent_help', 'model local')).toMatch(/admin/i);
    expect(await slash('agent_limit', 'instructions <#C0ACMEGEN1|general> Keep answers under 50 words.')).toMatch(/^Instructions in #C0ACMEGEN1 set/);
    expect(await slash('agent_help', 'instructions')).toBe('Workspace instructions: none\nInstructions in this channel: Keep answers under 50 words.');
    expect(await changes(db)).toEqual([
      { setting: 'model', old: 'default', new: 'local-2' },
      { setting: 'model:C0ACMEGEN1', old: 'default', new: 'local' },
      { setting: 'instructions:C0ACMEGEN1', old: 'none', new: 'Keep answers under 50 words.' },
    ]);
  });
});

describe.each(drivers)('/agent model as a Teams message (%s)', (driver) => {
  const t = useTeams(driver, () => ({ env: { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX}`, MODEL_CHOICES: CHOICES } }));
  let n = 0;
  const say = (text: string) =>
    t.teams.post(
      activity('personal_message', t.teams.connector.url, (a) => {
        a.id = `${Date.now()}${++n}`;
        a.text = text;
      }),
    );

  it('sets the workspace model, refuses a name not in MODEL_CHOICES', async () => {
    expect((await say('/agent model local-2')).status).toBe(200);
    await waitFor(() => t.teams.connector.messages().find((p) => p.body.text === 'Model for this workspace: default → local-2.'));
    expect((await say('/agent model claude-opus')).status).toBe(200);
    await waitFor(() => t.teams.connector.messages().find((p) => p.body.text?.startsWith('"claude-opus" is not one of the models')));
    expect(await changes(t.db)).toEqual([{ setting: 'model', old: 'default', new: 'local-2' }]);
  });
});
