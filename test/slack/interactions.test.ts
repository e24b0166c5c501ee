/**
 * Slack interactivity through the real, signed `/slack/events` entry point: block_actions,
 * view_submission, message_action payloads (recorded shapes in test/fixtures/slack/interactions)
 * reach the one handler that owns their action id's prefix, once, and its answer is shown the
 * Slack way (response_url, views.open, response_action errors). Bad signatures and malformed
 * payloads change nothing.
 */
import { describe, expect, it } from 'vitest';
import { probeHandler } from '../support/probe-handler.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { interactionFixture, interactionForm, postSlack, signature, useSlackApp } from './support.js';

const probe = () => probeHandler();

const click = (api: Parameters<typeof interactionFixture>[1], actionId = 'probe:go', value = 'v-1') =>
  interactionFixture('block_actions', api, (p) => {
    p.actions[0].action_id = actionId;
    p.actions[0].value = value;
  });

describe.each(drivers)('Slack interactions (%s)', (driver) => {
  const handler = probe();
  const s = useSlackApp(driver, () => ({ interactionHandlers: [handler] }));

  it('hands a signed button click to its handler with the verified clicker, and shows a notice through response_url', async () => {
    handler.seen.length = 0;
    handler.next = () => ({ kind: 'notice', text: 'Noted <!channel>' });
    const payload = click(s.api);
    const res = await postSlack(s.app, interactionForm(payload));
    expect(res.status).toBe(200);
    expect(handler.seen).toHaveLength(1);
    expect(handler.seen[0]).toMatchObject({
      kind: 'action',
      actionId: 'probe:go',
      value: 'v-1',
      workspace: { platform: 'slack', externalId: 'T0ACME0001' },
      user: { id: 'U0ACMEMEM1' },
      channel: { id: 'C0ACMEGEN1', kind: 'channel' },
      message: { id: '1767258601.000100', threadId: '1767258000.100200' },
    });
    const hook = await waitFor(() => s.api.hooks.find((h) => h.path === new URL(payload.response_url).pathname));
    // Only the clicker sees it, and it cannot ping the channel.
    expect(hook.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(hook.body.text).not.toContain('<!channel>');
  });

  it('acts once on a replayed click: the same signed request sent again reaches no handler', async () => {
    handler.seen.length = 0;
    handler.next = () => ({ kind: 'none' });
    const raw = interactionForm(click(s.api, 'probe:once'));
    const timestamp = Math.floor(Date.now() / 1000);
    const send = () =>
      fetch(`${s.app.baseUrl}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature(raw, timestamp) },
        body: raw,
      });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await send()).status);
    expect(statuses).toEqual([200, 200, 200]);
    expect(handler.seen.map((i) => i.actionId)).toEqual(['probe:once']);
  });

  it('opens a dialog as a modal with the trigger_id, and brings its submission back to the same handler with the fields', async () => {
    handler.seen.length = 0;
    handler.next = (i) =>
      i.kind === 'action'
        ? { kind: 'dialog', dialog: { actionId: 'probe:form', title: 'Tell me', submitLabel: 'Send', value: 'ctx-42', fields: [{ name: 'why', label: 'Why?', kind: 'multiline', optional: true }] } }
        : { kind: 'none' };
    const payload = click(s.api);
    expect((await postSlack(s.app, interactionForm(payload))).status).toBe(200);
    const opened = await waitFor(() => s.api.called('views.open').find((c) => c.params.trigger_id === payload.trigger_id));
    const view = JSON.parse(opened.params.view!);
    expect(view).toMatchObject({ type: 'modal', callback_id: 'probe:form', title: { text: 'Tell me' }, submit: { text: 'Send' } });
    expect(view.blocks).toEqual([expect.objectContaining({ type: 'input', block_id: 'why', optional: true, element: expect.objectContaining({ action_id: 'why', multiline: true }) })]);

    const submission = interactionFixture('view_submission', s.api, (p) => {
      p.view.callback_id = view.callback_id;
      p.view.private_metadata = view.private_metadata;
      p.view.state.values = { why: { why: { type: 'plain_text_input', value: 'because' } } };
    });
    const res = await postSlack(s.app, interactionForm(submission));
    expect(res.status).toBe(200);
    expect(handler.seen[1]).toMatchObject({ kind: 'submit', actionId: 'probe:form', value: 'ctx-42', fields: { why: 'because' }, channel: { id: 'C0ACMEGEN1' } });
  });

  it("shows a form's errors in the modal (response_action errors) inside the ack", async () => {
    handler.next = () => ({ kind: 'invalid', errors: { why: 'Say a little more.' } });
    const submission = interactionFixture('view_submission', s.api, (p) => {
      p.view.callback_id = 'probe:form';
      p.view.private_metadata = JSON.stringify({ a: 'probe:form', v: '' });
    });
    const res = await postSlack(s.app, interactionForm(submission));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ response_action: 'errors', errors: { why: 'Say a little more.' } });
  });

  it('replaces the clicked message for an update answer (response_url replace_original, buttons given again)', async () => {
    handler.next = () => ({ kind: 'update', text: 'Confirmed by Dana', actions: [{ actionId: 'probe:undo', label: 'Undo', value: 'x' }] });
    const payload = click(s.api);
    await postSlack(s.app, interactionForm(payload));
    const hook = await waitFor(() => s.api.hooks.find((h) => h.path === new URL(payload.response_url).pathname));
    expect(hook.body).toMatchObject({ replace_original: true, text: 'Confirmed by Dana' });
    expect(hook.body.blocks[1]).toEqual({ type: 'actions', elements: [expect.objectContaining({ type: 'button', action_id: 'probe:undo', value: 'x' })] });
  });

  it('maps a message shortcut to a message_action on the chosen message', async () => {
    handler.seen.length = 0;
    handler.next = () => ({ kind: 'none' });
    const payload = interactionFixture('message_action', s.api, (p) => (p.callback_id = 'probe:about'));
    expect((await postSlack(s.app, interactionForm(payload))).status).toBe(200);
    expect(handler.seen[0]).toMatchObject({
      kind: 'message_action',
      actionId: 'probe:about',
      channel: { id: 'C0ACMEGEN1', kind: 'channel' },
      message: { id: '1767258400.000300', text: 'Launch moves to Thursday; the legal review is still open.', authorId: 'U0ACMEADM1' },
    });
  });

  it('acks a closed modal and an action nobody owns without calling any handler', async () => {
    handler.seen.length = 0;
    expect((await postSlack(s.app, interactionForm(interactionFixture('view_closed', s.api)))).status).toBe(200);
    expect((await postSlack(s.app, interactionForm(click(s.api, 'nobody:owns')))).status).toBe(200);
    expect(handler.seen).toHaveLength(0);
  });

  it('refuses a bad signature with 401 and a malformed payload with 400, reaching no handler', async () => {
    handler.seen.length = 0;
    const badSig = await postSlack(s.app, interactionForm(click(s.api)), { secret: 'not-the-secret-0123456789' });
    expect(badSig.status).toBe(401);
    const unsigned = await postSlack(s.app, interactionForm(click(s.api)), { unsigned: true });
    expect(unsigned.status).toBe(401);
    const notJson = await postSlack(s.app, 'payload=%7Bnot-json');
    expect(notJson.status).toBe(400);
    for (const broken of [
      click(s.api, 'probe:go', 'v'),
      interactionFixture('view_submission', s.api, (p) => delete p.view.state),
      interactionFixture('message_action', s.api, (p) => ((p.callback_id = 'probe:about'), delete p.message)),
    ]) {
      if (broken.type === 'block_actions') delete broken.user;
      const res = await postSlack(s.app, interactionForm(broken));
      expect(res.status, broken.type).toBe(400);
    }
    expect(handler.seen).toHaveLength(0);
  });
});
