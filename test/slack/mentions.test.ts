/**
 * Text Quorum posts in Slack can't ping or disguise links, on every path, through signed events and
 * the fake Slack Web API: a streamed answer (chat.startStream/appendStream, the model's text cut
 * into small pieces), a posted answer (a top-level DM: the status message updated), a long answer's
 * further parts, and a private notice (chat.postEphemeral). Every text Slack received is checked,
 * and what Slack shows is the stored answer neutralized. Markdown reaches Slack as Markdown (a
 * markdown block, which renders tables; a streamed answer with a table is shown again as one).
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createReplySink } from '../../adapters/slack/replies.js';
import { neutralizeText } from '../../src/core/outgoing-text.js';
import { inbox, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { messageText, type FakeSlackApi, type RecordedCall } from '../fakes/slack-api.js';
import type { TestApp } from '../support/app.js';
import { drivers, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { harmful, HOSTILE } from '../support/hostile-text.js';
import { freshEvent, postSlack, useSlackApp } from './support.js';
import { deliveryMemoryOf } from '../../src/core/reply-memory.js';

const CHANNEL = 'C0ACMEGEN1';
const DM = 'D0ACMEDM01';
const TEXT_METHODS = ['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'chat.startStream', 'chat.appendStream', 'chat.stopStream'];
const TABLE = 'The *italic* and ***both*** survive:\n\n| Team | Launch |\n|---|---|\n| Web | Friday |\n| Mobile | Monday |';
const LONG = Array.from({ length: 12 }, (_, i) => `Part ${i}: ${'lorem ipsum '.repeat(40)}\n\n${HOSTILE}`).join('\n\n');

async function turn(app: TestApp, db: TestDatabase, event: any): Promise<string> {
  expect((await postSlack(app, event)).status).toBe(200);
  await waitFor(async () => (await db.db.select().from(inbox).where(eq(inbox.idempotencyKey, event.event_id)))[0]?.status === 'done', { timeoutMs: 30_000 });
  const [answer] = await db.db
    .select({ content: messages.content })
    .from(messages)
    .where(and(eq(messages.idempotencyKey, event.event_id), eq(messages.role, 'assistant')));
  return answer!.content;
}

/** Every text Slack received since `from`, as sent. */
function textsSince(api: FakeSlackApi, from: number): { method: string; text: string }[] {
  return api.calls
    .slice(from)
    .filter((c: RecordedCall) => TEXT_METHODS.includes(c.method))
    .map((c) => ({ method: c.method, text: messageText(c.params) }));
}

describe.each(drivers)('Slack: no pings, no disguised links, on every path (%s)', (driver) => {
  const model = new RecordingModelGate(
    (call) => {
      const asked = call.messages.at(-1)?.content ?? '';
      const text = asked.includes('long') ? LONG : asked.includes('table') ? TABLE : HOSTILE;
      return { kind: 'answer', text, model: 'fake-model', usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1 };
    },
    // Two words a piece, paced: mentions and links arrive split over several deltas and stream calls.
    { words: 2, pauseMs: 20 },
  );
  const slack = useSlackApp(driver, () => ({ model }));

  it('streamed: every appended piece is harmless and the streamed message is the answer neutralized', async () => {
    const from = slack.api.calls.length;
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> tell everyone' });
    const stored = await turn(slack.app, slack.db, event);
    expect(stored).toBe(HOSTILE);
    const sent = textsSince(slack.api, from);
    expect(sent.filter((s) => s.method === 'chat.appendStream').length).toBeGreaterThan(1);
    expect(sent.flatMap((s) => harmful(s.text))).toEqual([]);
    expect(slack.api.visible(CHANNEL, event.event.ts).map((m) => m.text)).toEqual([neutralizeText(HOSTILE)]);
  });

  it('posted (a top-level DM): the answer that replaces the status message is harmless', async () => {
    const from = slack.api.calls.length;
    const event = freshEvent('message_im', { text: 'tell everyone' });
    await turn(slack.app, slack.db, event);
    const sent = textsSince(slack.api, from);
    expect(sent.map((s) => s.method)).toContain('chat.update');
    expect(sent.flatMap((s) => harmful(s.text))).toEqual([]);
    expect(slack.api.visible(DM).map((m) => m.text)).toContain(neutralizeText(HOSTILE));
  });

  it('a long answer: every part is harmless', async () => {
    const from = slack.api.calls.length;
    await turn(slack.app, slack.db, freshEvent('message_im', { text: 'a long one please' }));
    const sent = textsSince(slack.api, from);
    expect(sent.filter((s) => s.method === 'chat.postMessage').length).toBeGreaterThan(1);
    expect(sent.flatMap((s) => harmful(s.text))).toEqual([]);
  });

  it('Markdown survives: posted as a markdown block, and a streamed answer with a table is shown again as one', async () => {
    const dm = freshEvent('message_im', { text: 'a table please' });
    const from = slack.api.calls.length;
    await turn(slack.app, slack.db, dm);
    const posted = slack.api.calls.slice(from).filter((c) => c.method === 'chat.update' && messageText(c.params) === TABLE);
    expect(posted).toHaveLength(1);
    // The answer as one markdown block, then its feedback buttons.
    expect(JSON.parse(posted[0]!.params.blocks!)).toEqual([{ type: 'markdown', text: TABLE }, expect.objectContaining({ type: 'actions' })]);
    expect(posted[0]!.params.text).toBe(TABLE);

    const mention = freshEvent('app_mention', { text: '<@U0ACMEBOT1> a table please' });
    const mark = slack.api.calls.length;
    await turn(slack.app, slack.db, mention);
    const calls = slack.api.calls.slice(mark);
    const streamTs = calls.find((c) => c.method === 'chat.startStream')!.response.ts;
    const methods = calls.filter((c) => c.params.ts === streamTs).map((c) => c.method);
    expect(methods.slice(-2)).toEqual(['chat.stopStream', 'chat.update']);
    const rendered = calls.find((c) => c.method === 'chat.update' && c.params.ts === streamTs)!;
    expect(JSON.parse(rendered.params.blocks!)).toEqual([{ type: 'markdown', text: TABLE }, expect.objectContaining({ type: 'actions' })]);
    expect(slack.api.visible(CHANNEL, mention.event.ts).map((m) => m.text)).toEqual([TABLE]);
  });

  it('a private notice (ephemeral) is harmless too', async () => {
    const from = slack.api.calls.length;
    const sink = createReplySink({
      client: new (await import('@slack/bolt')).webApi.WebClient(undefined, { slackApiUrl: slack.api.url }),
      tokens: { forWorkspace: async () => ({ token: 'xoxb-acme-single' }) } as never,
      log: createLogger('silent'),
    });
    const target = {
      workspace: { platform: 'slack' as const, externalId: 'T0ACME0001' },
      user: { id: 'U0ACMEMEM1' },
      channel: { id: CHANNEL, kind: 'channel' as const },
      messageId: '1767259999.000100',
      idempotencyKey: 'notice-1',
      replyRoute: {},
    };
    await sink.post(target as never, { kind: 'notice', text: HOSTILE, private: true }, deliveryMemoryOf());
    const sent = textsSince(slack.api, from);
    expect(sent.map((s) => s.method)).toEqual(['chat.postEphemeral']);
    expect(sent.flatMap((s) => harmful(s.text))).toEqual([]);
  });
});
