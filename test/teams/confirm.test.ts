/**
 * A confirmation on Teams end to end, driven over HTTP exactly as Teams does (JWT-signed
 * activities to /api/messages): a channel mention whose connected action tool needs a click posts
 * an Adaptive Card with Confirm and Cancel to the Bot Connector; the card's buttons come back as
 * `task/fetch` invokes. Another member's click changes nothing and says why; the requester's
 * Confirm replaces the card and runs the tool exactly once (asserted on the MCP server's side),
 * and the resumed turn answers in the conversation; a second click changes nothing and says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingConfirmations } from '../../src/db/schema-tools.js';
import type { RecordingModelGate } from '../fakes/recording-model.js';
import { FakeMcpServer } from '../fakes/mcp-server.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, ALEX, CONTOSO, JORDAN, useTeams } from './helpers.js';

// Jordan Lee's 29: id in the fake connector's roster (paged_members.page1.json).
const JORDAN_29 = '29:1kT3ouAJlKx5JYsH8n2D-ktRjKPP4p3McpciV4uczIwQSyxZsVu2rE-PKQ_OIfyemFkWUjfq9J29Sh7D';
const ARGS = { query: 'INC-2291 follow-up: rotate the on-call keys' };

/** The planner hands the task to the connected specialist, which asks for the action; once its result is in, the answer quotes it. */
const gate = new ScriptedAgentGate((step, call, withResults) => {
  const last = call.messages.at(-1);
  if (step === 'orchestrator') {
    if (withResults && last?.role === 'tool') return answer(`Done: ${last.content}`);
    return answer('', [{ id: 'plan-1', toolName: 'connected', input: { task: 'file the ticket' } }]);
  }
  if (step === 'connected') return withResults ? answer('It waits for confirmation.') : answer('', [{ id: 'c-1', toolName: 'tix.create', input: ARGS }]);
  return answer('aggregated');
});

let server: FakeMcpServer;
beforeAll(async () => {
  server = await new FakeMcpServer([{ name: 'create', readOnly: false }]).start();
});
afterAll(() => server?.stop());

describe.each(drivers)('a confirmation on Teams (%s)', (driver) => {
  const t = useTeams(driver, () => ({
    // The harness types its model slot as the recording fake; any ModelGate runs the app.
    model: gate as unknown as RecordingModelGate,
    env: { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX}`, TOOLS_ALLOW_PRIVATE_NETWORKS: 'true' },
  }));
  let ids = 0;
  const nextId = () => `${Date.now()}${(ids += 1)}`;

  /** A message as Teams posts it (commands are answered with a new message); answers the first bot message after it that `find` accepts. */
  async function send(name: string, text: string, find: (body: any) => boolean) {
    const before = t.teams.connector.posted.length;
    const a = activity(name, t.teams.connector.url, (x) => {
      x.id = nextId();
      x.text = text;
    });
    expect((await t.teams.post(a)).status).toBe(200);
    return waitFor(() => t.teams.connector.posted.slice(before).find((p) => p.body.type === 'message' && find(p.body)));
  }

  /** The card's button as Teams sends it back: a `task/fetch` invoke carrying the button's data, from `who`, about the card. */
  async function click(data: Record<string, unknown>, cardId: string, who: 'alex' | 'jordan'): Promise<string> {
    const a = activity('invoke_task_fetch', t.teams.connector.url, (x) => {
      x.id = `f:${nextId()}`;
      x.replyToId = cardId;
      x.value.data = data;
      if (who === 'jordan') x.from = { id: JORDAN_29, name: 'Jordan Lee', aadObjectId: JORDAN };
    });
    const res = await t.teams.post(a);
    expect(res.status).toBe(200);
    const task = JSON.parse(res.text).task;
    expect(task.type).toBe('message');
    return task.value as string;
  }

  it('posts Confirm/Cancel as an Adaptive Card, refuses another member, and runs the tool once on the requester\'s click', async () => {
    // One server for every driver's block: what it received is counted from here.
    server.calls.length = 0;
    await send('personal_message', `/agent connect tix ${server.url}`, (b) => String(b.text).includes('Connected tix'));
    await send('personal_message', '/agent tools all allow tix.*', (b) => String(b.text).includes('→ allow'));

    const mention = activity('channel_mention', t.teams.connector.url, (x) => {
      x.id = nextId();
      x.text = '<at>Quorum</at> file a follow-up ticket for INC-2291';
    });
    expect((await t.teams.post(mention)).status).toBe(200);
    // The card replaces the status message the turn showed while it worked (PUT …/activities/{id}).
    const card = await waitFor(() => t.teams.connector.updated.find((u) => JSON.stringify(u.attachments ?? []).includes('confirm:yes')));
    expect(card.text).toContain('tix.create');
    expect(card.text).toContain(ARGS.query);
    const buttons = (card.attachments as any)[0].content.actions as { title: string; data: Record<string, unknown> }[];
    expect(buttons.map((b) => [b.title, b.data.quorumAction])).toEqual([
      ['Confirm', 'confirm:yes'],
      ['Cancel', 'confirm:no'],
    ]);
    const [row] = await t.db.db.select().from(pendingConfirmations);
    expect(row).toMatchObject({ state: 'pending', tool: 'tix.create', requesterUserId: ALEX });
    expect(buttons[0]!.data.value).toBe(row!.id);
    expect(server.callsOf('create')).toHaveLength(0);

    // Jordan sees the card in the channel; the click changes nothing and says why.
    expect(await click(buttons[0]!.data, card.activityId, 'jordan')).toMatch(/^Only <@0a8c6e4b-[^>]+>, who asked for it, can confirm or cancel this\. Nothing was changed\./);
    expect((await t.db.db.select().from(pendingConfirmations))[0]!.state).toBe('pending');

    const postedBefore = t.teams.connector.posted.length;
    const updatedBefore = t.teams.connector.updated.length;
    expect(await click(buttons[0]!.data, card.activityId, 'alex')).toMatch(/^Confirmed by/);
    // The card itself is replaced: the arguments stay, the buttons go.
    const replaced = await waitFor(() => t.teams.connector.updated.slice(updatedBefore).find((u) => u.activityId === card.activityId));
    expect(replaced.text).toMatch(/^Confirmed by/);
    expect(replaced.attachments ?? []).toEqual([]);
    // The resumed turn runs the call once and answers in the conversation with its result.
    const shownSince = () => [...t.teams.connector.posted.slice(postedBefore).map((p) => String(p.body.text)), ...t.teams.connector.updated.slice(updatedBefore).map((u) => String(u.text))];
    const resumed = await waitFor(() => shownSince().find((text) => text.startsWith('Done:')));
    expect(resumed).toContain('create ran with');
    await waitFor(async () => (await t.db.db.select().from(pendingConfirmations))[0]?.state === 'done');
    expect(server.callsOf('create').map((c) => c.args)).toEqual([ARGS]);

    // A second click, and Cancel after it, change nothing and say why; someone else still cannot.
    expect(await click(buttons[0]!.data, card.activityId, 'alex')).toBe('This was already confirmed; it runs once, so nothing more was done.');
    expect(await click(buttons[1]!.data, card.activityId, 'alex')).toMatch(/already confirmed/);
    expect(await click(buttons[1]!.data, card.activityId, 'jordan')).toMatch(/^Only <@/);
    expect(server.callsOf('create')).toHaveLength(1);
    expect((await t.db.db.select().from(pendingConfirmations))[0]!.state).toBe('done');
  });
});
