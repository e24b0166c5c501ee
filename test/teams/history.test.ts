/**
 * Teams has no history port (a channel's messages need Microsoft Graph, not implemented):
 * summarize_thread falls back to the messages Quorum stored, says so, and the turn answers.
 */
import { describe, expect, it } from 'vitest';
import { inbox } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { answer, stepOf } from '../fakes/scripted-agent-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, useTeams } from './helpers.js';

describe.each(drivers)('summarize_thread on Teams (%s)', (driver) => {
  const model = new RecordingModelGate((call) => {
    const withResults = call.messages.at(-1)?.role === 'tool';
    const step = stepOf(call);
    if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'summarize' } }]);
    if (step === 'researcher') return withResults ? answer('researched') : answer('', [{ toolName: 'summarize_thread', input: {} }]);
    return answer('final answer');
  });

  const t = useTeams(driver, () => ({ model }));


  it('reads the stored messages of the reply chain, says why, and answers', async () => {
    const post = async (id: string, text: string) => {
      const a = activity('channel_mention_in_reply_chain', t.teams.connector.url, (x) => {
        x.id = id;
        x.text = `<at>Quorum</at> ${text}\n`;
      });
      expect((await t.teams.post(a)).status).toBe(200);
      await waitFor(async () => (await t.db.db.select().from(inbox)).every((r) => r.status === 'done'));
    };
    await post('1767258060801', 'first-ask-stored: which alerts fired first?');
    await post('1767258060802', 'summarize this thread');

    const results = model.calls.filter((c) => stepOf(c) === 'researcher' && c.messages.at(-1)!.role === 'tool');
    const last = results.at(-1)!.messages.at(-1)!.content;
    expect(last).toContain('Only the messages stored by Quorum are shown: teams history is not available to Quorum');
    expect(last).toContain('first-ask-stored: which alerts fired first?');
    expect([...t.teams.connector.shown.values()].filter((m) => m.text === 'final answer')).toHaveLength(2);
  });
});
