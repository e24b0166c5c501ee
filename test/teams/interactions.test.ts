/**
 * Teams interactions through the real, verified `/api/messages` entry point: task modules
 * (task/fetch → a dialog card, task/submit → the fields), Action.Execute (the card refreshed in
 * place), message extension actions (fetchTask on a chosen message, submitAction), and a card's
 * plain Action.Submit. Each reaches the handler that owns its prefix once, answered in the same
 * request; a bad token is 401 and a malformed invoke 400, with no handler reached.
 */
import { describe, expect, it } from 'vitest';
import { probeHandler } from '../support/probe-handler.js';
import { drivers } from '../support/db.js';
import { activity, ALEX, CONTOSO, useTeams } from './helpers.js';

const probe = () => probeHandler();

let ids = 0;
/** A recorded activity with an id of its own and the Quorum data patched in. */
function invoke(name: string, url: string, patch: (a: any) => void = () => {}) {
  return activity(name, url, (a) => {
    ids += 1;
    a.id = `${a.id}-${ids}`;
    patch(a);
  });
}

describe.each(drivers)('Teams interactions (%s)', (driver) => {
  const handler = probe();
  const t = useTeams(driver, () => ({ interactionHandlers: [handler] }));

  it('opens a dialog in a task module from a card button, and brings task/submit back with its fields', async () => {
    handler.seen.length = 0;
    handler.next = (i) =>
      i.kind === 'action'
        ? { kind: 'dialog', dialog: { actionId: 'probe:form', title: 'Tell me', submitLabel: 'Send', value: 'ctx-7', fields: [{ name: 'why', label: 'Why?', kind: 'multiline', optional: true }] } }
        : { kind: 'notice', text: 'Thanks!' };
    const url = t.teams.connector.url;
    const fetched = await t.teams.post(invoke('invoke_task_fetch', url, (a) => Object.assign(a.value.data, { quorumAction: 'probe:open', value: 'm-1' })));
    expect(fetched.status).toBe(200);
    const body = JSON.parse(fetched.text);
    expect(body.task).toMatchObject({ type: 'continue', value: { title: 'Tell me', card: { contentType: 'application/vnd.microsoft.card.adaptive' } } });
    const card = body.task.value.card.content;
    expect(card.body).toEqual([expect.objectContaining({ type: 'Input.Text', id: 'why', isMultiline: true, isRequired: false })]);
    expect(card.actions).toEqual([{ type: 'Action.Submit', title: 'Send', data: { quorumAction: 'probe:form', value: 'ctx-7' } }]);
    expect(handler.seen[0]).toMatchObject({
      kind: 'action',
      actionId: 'probe:open',
      value: 'm-1',
      workspace: { platform: 'teams', externalId: CONTOSO },
      user: { id: ALEX },
      channel: { kind: 'channel' },
      message: { id: '1767258060456' },
    });

    // Teams sends the card's data back with the inputs' values beside it.
    const submitted = await t.teams.post(invoke('invoke_task_submit', url, (a) => (a.value.data = { ...card.actions[0].data, why: 'because' })));
    expect(submitted.status).toBe(200);
    expect(JSON.parse(submitted.text)).toEqual({ task: { type: 'message', value: 'Thanks!' } });
    expect(handler.seen[1]).toMatchObject({ kind: 'submit', actionId: 'probe:form', value: 'ctx-7', fields: { why: 'because' } });
  });

  it('refreshes an Action.Execute card in place with the update', async () => {
    handler.next = () => ({ kind: 'update', text: 'Guests are off.', actions: [{ actionId: 'probe:on', label: 'Turn on', value: '' }] });
    const res = await t.teams.post(invoke('invoke_adaptive_card_action', t.teams.connector.url, (a) => (a.value.action.data = { quorumAction: 'probe:guests', guests: 'off' })));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(body.value.body[0]).toMatchObject({ type: 'TextBlock', text: 'Guests are off.' });
    expect(body.value.actions[0]).toMatchObject({ type: 'Action.Submit', title: 'Turn on', data: { quorumAction: 'probe:on' } });
    expect(handler.seen.at(-1)).toMatchObject({ kind: 'action', actionId: 'probe:guests', fields: { guests: 'off' } });
  });

  it('maps a message extension action to a message_action on the chosen message, and its submit to a submit', async () => {
    handler.seen.length = 0;
    handler.next = (i) =>
      i.kind === 'message_action'
        ? { kind: 'dialog', dialog: { actionId: 'probe:ask', title: 'Ask', submitLabel: 'Ask', value: 'about', fields: [{ name: 'question', label: 'Question', kind: 'text', optional: false }] } }
        : { kind: 'none' };
    const url = t.teams.connector.url;
    const fetched = await t.teams.post(invoke('invoke_compose_extension_fetch_task', url, (a) => (a.value.commandId = 'probe:about')));
    expect(fetched.status).toBe(200);
    expect(JSON.parse(fetched.text).task.type).toBe('continue');
    expect(handler.seen[0]).toMatchObject({
      kind: 'message_action',
      actionId: 'probe:about',
      channel: { kind: 'channel' },
      message: { id: '1767258000999', threadId: '1767258000123', text: 'Rollback of INC-2291 is done; the postmortem is due Friday.', authorId: '1b9d7f5c-3e2a-4b4d-8f6c-8e0a2c4d6f8b' },
    });
    const submitted = await t.teams.post(invoke('invoke_compose_extension_submit_action', url, (a) => (a.value.data = { quorumAction: 'probe:ask', value: 'about', question: 'What is open?' })));
    expect(submitted.status).toBe(200);
    // An empty answer closes the task module.
    expect(JSON.parse(submitted.text)).toEqual({});
    expect(handler.seen[1]).toMatchObject({ kind: 'submit', actionId: 'probe:ask', value: 'about', fields: { question: 'What is open?' } });
  });

  it("takes a card's plain Action.Submit (a message with a value) as an interaction, not as a question", async () => {
    handler.seen.length = 0;
    handler.next = () => ({ kind: 'notice', text: 'Saved.' });
    const before = t.teams.connector.posted.length;
    const res = await t.teams.post(invoke('message_card_submit', t.teams.connector.url, (a) => (a.value = { quorumAction: 'probe:save', value: 'x', note: 'hi' })));
    expect(res.status).toBe(200);
    expect(handler.seen[0]).toMatchObject({ kind: 'submit', actionId: 'probe:save', value: 'x', fields: { note: 'hi' }, channel: { kind: 'dm' } });
    const posted = t.teams.connector.posted.slice(before);
    expect(posted.map((p) => p.body.text)).toEqual(['Saved.']);
    expect(t.teams.model.calls).toHaveLength(0);
  });

  it('acts once on a retried invoke (same activity id)', async () => {
    handler.seen.length = 0;
    handler.next = () => ({ kind: 'notice', text: 'ok' });
    const a = invoke('invoke_task_fetch', t.teams.connector.url, (x) => (x.value.data.quorumAction = 'probe:once'));
    expect((await t.teams.post(a)).status).toBe(200);
    expect((await t.teams.post(a)).status).toBe(200);
    expect(handler.seen.map((i) => i.actionId)).toEqual(['probe:once']);
  });

  it('refuses a bad token with 401 and a malformed invoke with 400, reaching no handler', async () => {
    handler.seen.length = 0;
    const url = t.teams.connector.url;
    expect((await t.teams.post(invoke('invoke_task_fetch', url), 'Bearer not-a-token')).status).toBe(401);
    expect((await t.teams.post(invoke('invoke_task_fetch', url), null)).status).toBe(401);
    for (const broken of [
      invoke('invoke_task_fetch', url, (a) => delete a.value.data.quorumAction),
      invoke('invoke_task_submit', url, (a) => delete a.value),
      invoke('invoke_adaptive_card_action', url, (a) => (a.value = { action: { type: 'Action.Execute', data: {} } })),
      invoke('invoke_compose_extension_fetch_task', url, (a) => delete a.value.commandId),
      invoke('invoke_task_fetch', url, (a) => (a.name = 'no/such-invoke')),
      invoke('message_card_submit', url, (a) => (a.value = { something: 'else' })),
    ]) {
      const res = await t.teams.post(broken);
      expect(res.status, `${broken.name ?? broken.type}`).toBe(400);
    }
    expect(handler.seen).toHaveLength(0);
  });
});
