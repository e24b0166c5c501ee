/**
 * Feedback and "Ask Quorum about this" in Teams, through verified activities: an answer carries
 * 👍 / 👎 as an Adaptive Card whose buttons open as task modules; a rating is kept once per
 * person; the message extension action asks about a channel message and is answered in the
 * asker's 1:1 chat with that message in the prompt.
 */
import { describe, expect, it } from 'vitest';
import { feedback } from '../../src/db/schema.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, useTeams } from './helpers.js';

let seq = 0;
const fresh = (a: Record<string, any>): Record<string, any> => ({ ...a, id: `${Date.now()}${String(++seq).padStart(4, '0')}` });

describe.each(drivers)('Teams feedback and message actions (%s)', (driver) => {
  const t = useTeams(driver);

  it('puts 👍 / 👎 under a 1:1 answer and keeps one rating per person, however often it is clicked', async () => {
    const question = fresh(activity('personal_message', t.teams.connector.url));
    expect((await t.teams.post(question)).status).toBe(200);
    const answer = await waitFor(() => t.teams.connector.posted.find((p) => p.body.type === 'message' && (p.body.attachments as unknown[] | undefined)?.length));
    const card = (answer.body.attachments as any[])[0];
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const [up, down] = card.content.actions;
    expect(up).toMatchObject({ type: 'Action.Submit', title: '👍', data: { msteams: { type: 'task/fetch' }, quorumAction: 'feedback:up' } });
    expect(down.data.quorumAction).toBe('feedback:down');

    // The click arrives as task/fetch with the button's data.
    const click = () =>
      fresh(
        activity('invoke_task_fetch', t.teams.connector.url, (a) => {
          a.conversation = question.conversation;
          a.channelData = question.channelData;
          a.value.data = up.data;
        }),
      );
    const first = await t.teams.post(click());
    expect(JSON.parse(first.text)).toEqual({ task: { type: 'message', value: 'Thanks for the feedback.' } });
    const again = await t.teams.post(click());
    expect(JSON.parse(again.text).task.value).toMatch(/already rated/);
    expect((await t.db.db.select().from(feedback)).map((r) => r.rating)).toEqual(['up']);
  });

  it("answers a message extension action in the asker's 1:1 chat, with the chosen message in the prompt", async () => {
    // Alex has a 1:1 chat with Quorum (the previous test); the action is taken on a channel message.
    const personal = activity('personal_message', t.teams.connector.url).conversation.id as string;
    const calls = t.teams.model.calls.length;
    const fetched = await t.teams.post(fresh(activity('invoke_compose_extension_fetch_task', t.teams.connector.url)));
    const task = JSON.parse(fetched.text).task;
    expect(task).toMatchObject({ type: 'continue', value: { title: 'Ask Quorum' } });
    const submitData = { ...task.value.card.content.actions[0].data, question: 'Who owns the postmortem?' };
    const submitted = await t.teams.post(fresh(activity('invoke_compose_extension_submit_action', t.teams.connector.url, (a) => (a.value.data = submitData))));
    expect(submitted.status).toBe(200);
    const reply = await waitFor(() => t.teams.connector.posted.find((p) => p.conversationId === personal && String(p.body.text ?? '').includes('Who owns the postmortem?')));
    expect(reply.body.text).toMatch(/^echo:/);
    const prompt = t.teams.model.promptsText().slice(calls).join('\n');
    expect(prompt).toContain('Rollback of INC-2291 is done; the postmortem is due Friday.');
  });
});
