/**
 * 👍 / 👎 on answers, end to end through signed Slack requests: every answer carries the buttons;
 * a rating is stored once per person and answer (a second click changes nothing), only by someone
 * who can see the answer, audited, counted in /metrics, given a reason after a 👎, and summed by
 * `/agent feedback` for admins only.
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog, feedback } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { messageText } from '../fakes/slack-api.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { commandFixture, freshEvent, interactionFixture, interactionForm, postSlack, useSlackApp } from './support.js';

const DANA = 'U0ACMEMEM1';
const MARCUS = 'U0ACMEADM1';
const LENA = 'U0ACMESCG1'; // single-channel guest, not in #general

describe.each(drivers)('feedback on answers (%s)', (driver) => {
  const model = new RecordingModelGate();
  const s = useSlackApp(driver, () => ({ model }));

  /** Dana asks in #general; answers the event id and the message that shows the answer. */
  async function answered(): Promise<{ key: string; ts: string; blocks: any[] }> {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> what is overdue?' });
    expect((await postSlack(s.app, event)).status).toBe(200);
    const call = await waitFor(() =>
      [...s.api.called('chat.update'), ...s.api.called('chat.postMessage')].find((c) => c.params.blocks?.includes(event.event_id) && messageText(c.params).startsWith('echo:')),
    );
    return { key: event.event_id, ts: call.params.ts ?? call.response.ts, blocks: JSON.parse(call.params.blocks!) };
  }

  const click = (user: string, verb: 'up' | 'down', key: string) =>
    interactionFixture('block_actions', s.api, (p) => {
      p.user.id = user;
      p.actions[0].action_id = `feedback:${verb}`;
      p.actions[0].value = key;
    });

  async function noticeFor(payload: any): Promise<string> {
    const hook = await waitFor(() => s.api.hooks.find((h) => h.path === new URL(payload.response_url).pathname));
    return hook.body.text;
  }

  const rows = async () => s.db.db.select().from(feedback);

  it('puts 👍 and 👎 under every answer, the buttons naming the delivery it answered', async () => {
    const { key, blocks } = await answered();
    expect(blocks[0]).toMatchObject({ type: 'markdown' });
    expect(blocks[1]).toEqual({
      type: 'actions',
      elements: [
        expect.objectContaining({ type: 'button', action_id: 'feedback:up', value: key, text: expect.objectContaining({ text: '👍' }) }),
        expect.objectContaining({ type: 'button', action_id: 'feedback:down', value: key, text: expect.objectContaining({ text: '👎' }) }),
      ],
    });
  });

  it('stores a rating once per person and answer, even clicked twice; anyone who can see it may rate; others may not', async () => {
    const { key } = await answered();
    const before = (await rows()).length;
    const first = click(DANA, 'up', key);
    expect((await postSlack(s.app, interactionForm(first))).status).toBe(200);
    expect(await noticeFor(first)).toBe('Thanks for the feedback.');
    // A double click: another signed request, same person and answer.
    const second = click(DANA, 'down', key);
    expect((await postSlack(s.app, interactionForm(second))).status).toBe(200);
    expect(await noticeFor(second)).toMatch(/already rated/);
    // Someone else in the channel may rate it too; someone who cannot see #general may not.
    const outsider = click(LENA, 'up', key);
    await postSlack(s.app, interactionForm(outsider));
    expect(await noticeFor(outsider)).toMatch(/only rate answers in conversations you are a member of/);

    const mine = (await rows()).slice(before);
    expect(mine.map((r) => r.rating)).toEqual(['up']);
    const audited = await s.db.db.select().from(auditLog).where(eq(auditLog.action, 'feedback'));
    expect(audited.filter((a) => (a.detail as any).answer === mine[0]!.messageId)).toHaveLength(1);
    const denied = await s.db.db.select().from(auditLog).where(and(eq(auditLog.action, 'denial'), eq(auditLog.channelExternalId, 'C0ACMEGEN1')));
    expect(denied.some((d) => (d.detail as any).action === 'feedback')).toBe(true);
  });

  it('asks for an optional reason after a 👎, keeps it once, counts both in /metrics, and sums them for admins only', async () => {
    const { key } = await answered();
    const down = click(MARCUS, 'down', key);
    expect((await postSlack(s.app, interactionForm(down))).status).toBe(200);
    const opened = await waitFor(() => s.api.called('views.open').find((c) => c.params.trigger_id === down.trigger_id));
    const view = JSON.parse(opened.params.view!);
    expect(view).toMatchObject({ callback_id: 'feedback:reason', blocks: expect.arrayContaining([expect.objectContaining({ block_id: 'reason', optional: true })]) });
    const submit = interactionFixture('view_submission', s.api, (p) => {
      p.user.id = MARCUS;
      p.view.callback_id = view.callback_id;
      p.view.private_metadata = view.private_metadata;
      p.view.state.values = { reason: { reason: { type: 'plain_text_input', value: 'It missed the overdue legal review.' } } };
    });
    expect((await postSlack(s.app, interactionForm(submit))).status).toBe(200);
    const [row] = await waitFor(async () => {
      const found = (await rows()).filter((r) => r.rating === 'down' && r.reason);
      return found.length ? found : null;
    });
    expect(row!.reason).toBe('It missed the overdue legal review.');

    const metrics = await (await fetch(`${s.app.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/quorum_feedback_total\{rating="up"\} [1-9]/);
    expect(metrics).toMatch(/quorum_feedback_total\{rating="down"\} 1/);

    const asAdmin = await postSlack(s.app, commandFixture('agent_help').replace('text=help', 'text=feedback').replace(`user_id=${DANA}`, `user_id=${MARCUS}`));
    const summary = JSON.parse(asAdmin.text).text as string;
    expect(summary).toMatch(/last 7 days: 👍 1 · 👎 1/);
    expect(summary).toContain('It missed the overdue legal review.');
    const asMember = await postSlack(s.app, commandFixture('agent_help').replace('text=help', 'text=feedback%2030d'));
    expect(JSON.parse(asMember.text).text).toBe('Only workspace admins can do that.');
    const bad = await postSlack(s.app, commandFixture('agent_help').replace('text=help', 'text=feedback%2090d').replace(`user_id=${DANA}`, `user_id=${MARCUS}`));
    expect(JSON.parse(bad.text).text).toContain('Usage: /agent feedback [7d|30d]');
  });
});
