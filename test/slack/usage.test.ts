/** `/agent usage` as a signed Slack slash command, after a mention answered by the fake OpenAI-compatible provider. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '../../src/core/budgets.js';
import { inbox } from '../../src/db/schema.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { FakeOpenAIServer } from '../fakes/openai-server.js';
import { freshEvent, postSlack, slashCommand, useSlackApp } from './support.js';

describe.each(drivers)('/agent usage over Slack (%s)', (driver) => {
  const provider = new FakeOpenAIServer(() => ({ kind: 'answer', text: 'fine', promptTokens: 1234, completionTokens: 56 }));
  // Before the app starts (hooks run in order): its config names the provider's port.
  beforeAll(() => provider.start());
  afterAll(() => provider.stop());
  const slack = useSlackApp(driver, () => ({
    env: {
      SLACK_BOT_TOKEN: 'xoxb-acme-single',
      MODEL_PROVIDER: 'openai',
      MODEL_BASE_URL: provider.baseUrl,
      MODEL_API_KEY: 'test-key',
      MODEL_NAME: 'gpt-fake',
      MODEL_PRICES: JSON.stringify({ 'gpt-fake': { input: 2, output: 10 } }),
    },
  }), () => {});
  const slash = (fixture: string, text: string) => slashCommand(slack.app, text, { fixture });

  it('reports what the provider reported, by channel and for oneself, privately', async () => {
    const mention = freshEvent('app_mention', { text: '<@U0ACMEBOT1> what is the plan?' });
    expect((await postSlack(slack.app, mention)).status).toBe(200);
    await waitFor(async () => (await slack.db.db.select().from(inbox)).some((r) => r.status === 'done'));
    const calls = provider.requests.length;
    const byChannel = await waitFor(async () => {
      const answer = await slash('agent_limit', 'usage today by channel');
      return answer.text.includes(mention.event.channel) ? answer : null;
    });
    expect(byChannel.response_type).toBe('ephemeral');
    const row = byChannel.text.split('\n').find((l) => l.startsWith(mention.event.channel))!;
    const input = (1234 * calls).toLocaleString('en-US');
    const output = (56 * calls).toLocaleString('en-US');
    expect(row.split(/\s{2,}/).slice(1)).toEqual([String(calls), input, output, formatUsd((1234 * 2 + 56 * 10) * calls)]);
    // The member who asked sees their own; the workspace's report is for admins.
    const mine = await slash('agent_help', 'usage me');
    expect(mine.text).toMatch(/^Your usage today/);
    expect(mine.text).toMatch(new RegExp(`\\ntotal\\s+${calls}\\s+${input}\\s+${output}`));
    expect((await slash('agent_help', 'usage')).text).toBe('Only workspace admins can do that.');
  });
});
