/**
 * "Ask Quorum about this" through signed Slack requests: the message shortcut opens a dialog; its
 * submission is answered privately (the app's DM) with the chosen message in the prompt, only
 * when the asker is a member of the message's channel; otherwise refused, audited, and nothing
 * reaches the model.
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { messageText } from '../fakes/slack-api.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { interactionFixture, interactionForm, postSlack, useSlackApp } from './support.js';

const DANA = 'U0ACMEMEM1';
const WAR_ROOM = 'C0ACMEINC1';

describe.each(drivers)('Ask Quorum about this (%s)', (driver) => {
  const model = new RecordingModelGate();
  const s = useSlackApp(driver, () => ({ model }), (api) => api.rosters.set(WAR_ROOM, ['U0ACMEADM1', 'U0ACMEOWN1']));

  /** The shortcut on a message, then the dialog submitted with `question`; answers the submission's trigger_id. */
  async function ask(patch: (p: any) => void, question: string): Promise<string> {
    const shortcut = interactionFixture('message_action', s.api, patch);
    expect((await postSlack(s.app, interactionForm(shortcut))).status).toBe(200);
    const opened = await waitFor(() => s.api.called('views.open').find((c) => c.params.trigger_id === shortcut.trigger_id));
    const view = JSON.parse(opened.params.view!);
    expect(view).toMatchObject({ callback_id: 'ask:question', title: { text: 'Ask Quorum' } });
    const submit = interactionFixture('view_submission', s.api, (p) => {
      p.user.id = DANA;
      p.view.callback_id = view.callback_id;
      p.view.private_metadata = view.private_metadata;
      p.view.state.values = { question: { question: { type: 'plain_text_input', value: question } } };
    });
    const res = await postSlack(s.app, interactionForm(submit));
    expect(res.status).toBe(200);
    return submit.trigger_id;
  }

  it('answers privately in the DM, with the chosen message in the prompt', async () => {
    const calls = model.calls.length;
    await ask(() => {}, 'When does the launch happen now?');
    const dm = `D${DANA.slice(1)}`;
    // The status message in the DM becomes the answer (chat.update), or the answer is posted.
    const shown = () => [...s.api.called('chat.postMessage'), ...s.api.called('chat.update')];
    const reply = await waitFor(() => shown().find((c) => c.params.channel === dm && messageText(c.params).startsWith('echo:')));
    expect(messageText(reply.params)).toContain('When does the launch happen now?');
    // Nothing was posted in the channel the message is in.
    expect(s.api.called('chat.postMessage').filter((c) => c.params.channel === 'C0ACMEGEN1' && messageText(c.params).includes('launch'))).toHaveLength(0);
    const prompt = model.promptsText().slice(calls).join('\n');
    expect(prompt).toContain('Launch moves to Thursday; the legal review is still open.');
    expect(prompt).toContain('When does the launch happen now?');
  });

  it('refuses, audits, and sends nothing to the model when the asker is not a member of that channel', async () => {
    const calls = model.calls.length;
    await ask((p) => {
      p.channel = { id: WAR_ROOM, name: 'incident-war-room' };
      p.message.text = 'CANARY-WAR-ROOM: the outage was caused by the vendor.';
    }, 'What caused the outage?');
    const dm = `D${DANA.slice(1)}`;
    const refusal = await waitFor(() => s.api.called('chat.postMessage').find((c) => c.params.channel === dm && messageText(c.params).includes('member of')));
    expect(messageText(refusal.params)).toBe('I can only answer about messages in channels you are a member of, so I did not look at that one.');
    expect(model.calls.length).toBe(calls);
    expect(model.promptsText().join('\n')).not.toContain('CANARY-WAR-ROOM');
    const denied = await s.db.db.select().from(auditLog).where(and(eq(auditLog.action, 'denial'), eq(auditLog.channelExternalId, WAR_ROOM)));
    expect(denied.map((d) => (d.detail as any).action)).toContain('read_about');
  });

  it('asks for a question when the dialog comes back empty (the modal shows the error), and queues nothing', async () => {
    const submit = interactionFixture('view_submission', s.api, (p) => {
      p.view.callback_id = 'ask:question';
      p.view.private_metadata = JSON.stringify({ a: 'ask:question', v: JSON.stringify({ c: { id: 'C0ACMEGEN1', kind: 'channel' }, m: '1767258400.000300' }) });
      p.view.state.values = { question: { question: { type: 'plain_text_input', value: '   ' } } };
    });
    const res = await postSlack(s.app, interactionForm(submit));
    expect(JSON.parse(res.text)).toEqual({ response_action: 'errors', errors: { question: 'Type a question.' } });
  });
});
