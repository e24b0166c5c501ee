/**
 * `/agent connections secret NAME` through the real, signed entry points: on Slack the slash
 * command answers ephemerally with a button, its block_actions opens the private modal, and the
 * view_submission saves the secret; on Teams the command's private answer is a card whose button
 * (task/fetch) opens a task module whose task/submit saves it. The secret is sealed at rest,
 * audited without its value, and the connection's tools are listed with it at once; what a real
 * MCP server received is the proof. A secret typed into the command is refused, never echoed,
 * logged, audited or stored (not even in the inbox), and nothing is saved.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCall } from '../../src/core/ports.js';
import { SECRET_IN_MESSAGE } from '../../src/core/commands/connections.js';
import { auditLog, inbox } from '../../src/db/schema.js';
import { connectionTools, toolCredentials } from '../../src/db/schema-tools.js';
import { FakeMcpServer } from '../fakes/mcp-server.js';
import { drivers } from '../support/db.js';
import { logInto } from '../support/logs.js';
import { toolScript } from '../support/tool-script.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, interactionFixture, interactionForm, postSlack, slashCommand, useSlackApp } from '../slack/support.js';
import { activity, ALEX, CONTOSO, useTeams } from '../teams/helpers.js';

const SECRET = 'ws-Secret-5f3a9c';
const TYPED = 'typed-Secret-77e1b0';
const MARCUS = 'U0ACMEADM1';
const DANA = 'U0ACMEMEM1';

let server: FakeMcpServer;
beforeAll(async () => {
  server = await new FakeMcpServer([{ name: 'search', readOnly: true }]).start();
});
afterAll(() => server?.stop());

describe.each(drivers)('the workspace secret on Slack (%s)', (driver) => {
  let wanted: ToolCall | null = null;
  const lines: string[] = [];
  const s = useSlackApp(driver, () => ({ model: toolScript(() => wanted), log: logInto(lines, 'debug'), env: { TOOLS_ALLOW_PRIVATE_NETWORKS: 'true', SLACK_BOT_TOKEN: 'xoxb-acme-single' } }));

  /** `/agent TEXT` typed by `user` in #general: the ack's JSON body (ephemeral). */
  const slash = (user: string, text: string) => slashCommand(s.app, text, { user });


  it('answers an admin privately with a button that opens the secret modal; the submitted secret is sealed, audited without its value, and used', async () => {
    // One server for every driver's block: what it received is counted from here.
    server.calls.length = 0;
    expect((await slash(MARCUS, `connect wiki ${server.url} auth workspace`)).text).toContain('Connected wiki (auth workspace)');
    const listsBefore = server.listRequests;

    const asked = await slash(MARCUS, 'connections secret wiki');
    expect(asked.response_type).toBe('ephemeral');
    const buttons = asked.blocks!.find((b) => b.type === 'actions').elements;
    expect(buttons).toEqual([expect.objectContaining({ action_id: 'credentials:secret', value: 'wiki' })]);

    // The click comes from the ephemeral message (Slack sends no `message` for those).
    const click = interactionFixture('block_actions', s.api, (p) => {
      p.user.id = MARCUS;
      p.actions[0].action_id = 'credentials:secret';
      p.actions[0].value = 'wiki';
      p.container.is_ephemeral = true;
      delete p.message;
    });
    expect((await postSlack(s.app, interactionForm(click))).status).toBe(200);
    const opened = await waitFor(() => s.api.called('views.open').find((c) => c.params.trigger_id === click.trigger_id));
    const view = JSON.parse(opened.params.view!);
    expect(view).toMatchObject({ callback_id: 'credentials:workspace', blocks: expect.arrayContaining([expect.objectContaining({ block_id: 'secret' })]) });

    const submit = interactionFixture('view_submission', s.api, (p) => {
      p.user.id = MARCUS;
      p.view.callback_id = view.callback_id;
      p.view.private_metadata = view.private_metadata;
      p.view.state.values = { secret: { secret: { type: 'plain_text_input', value: SECRET } } };
    });
    expect((await postSlack(s.app, interactionForm(submit))).status).toBe(200);
    const saved = await waitFor(() => s.api.hooks.find((h) => JSON.stringify(h.body).includes('The secret for wiki is saved')));
    expect(saved.body.response_type).toBe('ephemeral');
    expect(saved.body.text).toContain('1 tools listed with it (wiki.search)');
    expect(JSON.stringify(saved.body)).not.toContain(SECRET);

    // Listed with the secret at once; sealed at rest; audited without the value.
    expect(server.listRequests).toBeGreaterThan(listsBefore);
    expect((await s.db.db.select().from(connectionTools)).map((t) => t.name)).toEqual(['search']);
    const [sealed] = await s.db.db.select().from(toolCredentials);
    expect(sealed!.sealed).not.toContain(SECRET);
    const changes = (await s.db.db.select().from(auditLog).where(eq(auditLog.action, 'admin_change'))).map((e) => e.detail);
    expect(changes).toContainEqual({ setting: 'tool_secret:wiki', old: 'none', new: 'set' });

    // A call made for a member carries the workspace secret (what the server received).
    expect((await slash(MARCUS, 'tools all allow wiki.*')).text).toContain('none → allow');
    wanted = { toolName: 'wiki.search', input: { query: 'roadmap' } };
    expect((await postSlack(s.app, freshEvent('app_mention', { text: '<@U0ACMEBOT1> look it up' }))).status).toBe(200);
    const call = await waitFor(() => server.callsOf('search')[0]);
    expect(call.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('refuses a member, and a secret typed into the command, saying why and keeping nothing of it', async () => {
    const member = await slash(DANA, 'connections secret wiki');
    expect(member.text).toMatch(/admin/i);
    expect(member.blocks).toBeUndefined();

    const before = await s.db.db.select().from(toolCredentials);
    const typed = await slash(MARCUS, `connections secret wiki ${TYPED}`);
    expect(typed.text).toBe(SECRET_IN_MESSAGE);
    expect(typed.blocks).toBeUndefined();
    expect(await s.db.db.select().from(toolCredentials)).toEqual(before);
    const refused = (await s.db.db.select().from(auditLog).where(eq(auditLog.outcome, 'refused'))).map((e) => e.detail);
    expect(refused).toContainEqual({ command: 'connections_secret', reason: 'secret_in_message' });
    // Nowhere: not in the answer, the audit trail, the inbox or the logs.
    for (const where of [JSON.stringify(typed), JSON.stringify(await s.db.db.select().from(auditLog)), JSON.stringify(await s.db.db.select().from(inbox)), lines.join('\n')])
      expect(where.toLowerCase()).not.toContain(TYPED.toLowerCase());
  });

  it('says why no secret can be set for a connection that takes none, or that does not exist', async () => {
    expect((await slash(MARCUS, `connect open ${server.url}`)).text).toContain('Connected open');
    expect((await slash(MARCUS, 'connections secret open')).text).toBe('No secret to set: open needs no credential (auth none).');
    expect((await slash(MARCUS, 'connections secret nothere')).text).toBe('No secret to set: No connection named nothere.');
  });
});

describe.each(drivers)('the workspace secret on Teams (%s)', (driver) => {
  const t = useTeams(driver, () => ({ env: { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX}`, TOOLS_ALLOW_PRIVATE_NETWORKS: 'true' } }));
  let ids = 0;
  const nextId = () => `${Date.now()}${(ids += 1)}`;

  /** Alex writes TEXT in the 1:1 chat; answers the first reply after it that `find` accepts. */
  async function say(text: string, find: (posted: any) => boolean) {
    const before = t.teams.connector.posted.length;
    const a = activity('personal_message', t.teams.connector.url, (x) => {
      x.id = nextId();
      x.text = text;
    });
    expect((await t.teams.post(a)).status).toBe(200);
    return waitFor(() => t.teams.connector.posted.slice(before).find((p) => p.body.type === 'message' && find(p.body)));
  }
  const invoke = (name: string, data: Record<string, unknown>) =>
    activity(name, t.teams.connector.url, (a) => {
      a.id = `${a.id}-${nextId()}`;
      a.value.data = data;
    });

  it('posts a private card whose button opens a task module; the submitted secret is saved and used to list the tools', async () => {
    const connected = await say(`/agent connect wiki ${server.url} auth workspace`, (b) => String(b.text).includes('Connected wiki'));
    expect(connected.body.text).toContain('auth workspace');

    const asked = await say('/agent connections secret wiki', (b) => b.attachments?.length > 0);
    expect(asked.body.text).toContain('private dialog');
    const button = (asked.body as any).attachments[0].content.actions[0];
    expect(button).toMatchObject({ type: 'Action.Submit', data: { msteams: { type: 'task/fetch' }, quorumAction: 'credentials:secret', value: 'wiki' } });

    const fetched = await t.teams.post(invoke('invoke_task_fetch', button.data));
    expect(fetched.status).toBe(200);
    const task = JSON.parse(fetched.text).task;
    expect(task.type).toBe('continue');
    const card = task.value.card.content;
    expect(card.body).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Input.Text', id: 'secret' })]));

    const submitted = await t.teams.post(invoke('invoke_task_submit', { ...card.actions[0].data, secret: SECRET }));
    expect(submitted.status).toBe(200);
    const answer = JSON.parse(submitted.text).task.value as string;
    expect(answer).toContain('The secret for wiki is saved (encrypted). 1 tools listed with it (wiki.search)');
    expect((await t.db.db.select().from(connectionTools)).map((r) => r.name)).toEqual(['search']);
    const [sealed] = await t.db.db.select().from(toolCredentials);
    expect(sealed!.sealed).not.toContain(SECRET);
    expect(JSON.stringify(await t.db.db.select().from(auditLog))).not.toContain(SECRET);
  });

  it('refuses a secret typed into a message and stores nothing of it, not even in the inbox', async () => {
    const refused = await say(`/agent connections secret wiki ${TYPED}`, (b) => String(b.text).startsWith('Nothing was saved'));
    expect(refused.body.text).not.toContain(TYPED);
    expect(JSON.stringify(await t.db.db.select().from(inbox)).toLowerCase()).not.toContain(TYPED.toLowerCase());
  });
});
