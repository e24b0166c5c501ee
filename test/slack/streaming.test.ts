/**
 * Live progress on the fake Slack, through signed events and the real gate: the status message
 * and its step updates, then the answer streamed into the thread (startStream, appendStream,
 * stopStream), then the status message deleted, leaving exactly one answer, the one stored.
 * Where Slack cannot stream (a top-level DM, startStream refused) the answer is posted once;
 * a model that breaks mid-answer leaves a clear error and no recorded answer.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERRUPTED_MESSAGE } from '../../src/model/model-call.js';
import { inbox, messages } from '../../src/db/schema.js';
import { FakeOpenAIServer } from '../fakes/openai-server.js';
import { FakeSlackApi, type RecordedCall } from '../fakes/slack-api.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, postSlack, startSlackApp, useSlackApp } from './support.js';

const CHANNEL = 'C0ACMEGEN1';
const DM = 'D0ACMEDM01';
const STREAM_METHODS = ['chat.startStream', 'chat.appendStream', 'chat.stopStream'];

/** Sends a signed event and waits until its inbox row is done; returns the stored answer (or null). */
async function turn(app: TestApp, db: TestDatabase, event: any): Promise<string | null> {
  expect((await postSlack(app, event)).status).toBe(200);
  await waitFor(
    async () => {
      const [row] = await db.db.select().from(inbox).where(eq(inbox.idempotencyKey, event.event_id));
      return row?.status === 'done';
    },
    { timeoutMs: 30_000 },
  );
  const [answer] = await db.db
    .select({ content: messages.content })
    .from(messages)
    .where(and(eq(messages.idempotencyKey, event.event_id), eq(messages.role, 'assistant')));
  return answer?.content ?? null;
}

/** This turn's Slack calls, in order: the status message (its post, updates, delete) and the stream. */
function callsOfTurn(api: FakeSlackApi, channel: string, thread: string): RecordedCall[] {
  const status = api.called('chat.postMessage').find((c) => c.params.channel === channel && c.params.thread_ts === thread);
  const start = api.called('chat.startStream').find((c) => c.params.channel === channel && c.params.thread_ts === thread);
  const statusTs: string | undefined = status?.response?.ts;
  const streamTs: string | undefined = start?.response?.ts;
  return api.calls.filter(
    (c) =>
      c === status ||
      c === start ||
      (c.params.channel === channel && c.params.ts !== undefined && (c.params.ts === statusTs || c.params.ts === streamTs)),
  );
}

/** What the stream showed: the text of startStream, every appendStream and stopStream, joined. */
function streamedText(calls: RecordedCall[]): string {
  return calls
    .filter((c) => STREAM_METHODS.includes(c.method))
    .map((c) => c.params.markdown_text ?? '')
    .join('');
}

describe.each(drivers)('Slack live progress and streamed answers, offline model (%s)', (driver) => {
  const slack = useSlackApp(driver);


  it('a multi-step mention: status, step updates, then the streamed answer; the status goes, one answer stays', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> search launch and summarize this thread' });
    const thread = event.event.ts;
    const stored = await turn(slack.app, slack.db, event);
    expect(stored).toContain('Here is what the steps found');

    const calls = callsOfTurn(slack.api, CHANNEL, thread);
    const methods = calls.map((c) => c.method);
    // In order: the status message and its steps, the stream, the status message deleted.
    expect(methods[0]).toBe('chat.postMessage');
    expect(calls[0]!.params.text).toBe('_Planning…_');
    const updates = calls.filter((c) => c.method === 'chat.update').map((c) => c.params.text);
    expect(updates).toEqual(['_Searching history…_', '_Searching history…_', '_Writing the answer…_']);
    const start = methods.indexOf('chat.startStream');
    expect(methods.slice(1, start)).toEqual(['chat.update', 'chat.update', 'chat.update']);
    const appends = methods.slice(start + 1, -2);
    expect(appends.length).toBeGreaterThanOrEqual(1);
    expect(new Set(appends)).toEqual(new Set(['chat.appendStream']));
    expect(methods.slice(-2)).toEqual(['chat.stopStream', 'chat.delete']);
    const statusTs = calls[0]!.response.ts;
    const streamTs = calls[start]!.response.ts;
    expect(calls.at(-1)!.params.ts).toBe(statusTs);

    // Shown while written, from the recipient's point of view, and what was stored is what was shown.
    expect(calls[start]!.params).toMatchObject({ thread_ts: thread, recipient_user_id: 'U0ACMEMEM1', recipient_team_id: 'T0ACME0001' });
    expect(streamedText(calls)).toBe(stored);
    const visible = slack.api.visible(CHANNEL, thread);
    expect(visible).toEqual([{ ts: streamTs, text: stored, streaming: false }]);
  });

  it('a simple mention streams the one-call answer', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> what is a changelog?' });
    const stored = await turn(slack.app, slack.db, event);
    const calls = callsOfTurn(slack.api, CHANNEL, event.event.ts);
    expect(calls.map((c) => c.method)).toEqual(expect.arrayContaining(['chat.startStream', 'chat.appendStream', 'chat.stopStream']));
    expect(streamedText(calls)).toBe(stored);
    expect(slack.api.visible(CHANNEL, event.event.ts).map((m) => m.text)).toEqual([stored]);
  });

  it('stores the streamed message before any of the answer shows in it, so a crash cannot leave a second answer', async () => {
    // Slack is slow to confirm the stream: any text shown before the confirmation was shown
    // before its message could be remembered.
    slack.api.delays.set('chat.startStream', 1_000);
    try {
      const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> what is a release train?' });
      expect((await postSlack(slack.app, event)).status).toBe(200);
      // The first moment the streamed message shows any text (polled closely: it may end soon after).
      const shown = await waitFor(
        () => {
          const start = slack.api.called('chat.startStream').find((c) => c.params.thread_ts === event.event.ts);
          const ts: string | undefined = start?.response?.ts;
          return ts && slack.api.shown.get(ts)?.text ? { ts } : undefined;
        },
        { timeoutMs: 30_000, everyMs: 2 },
      );
      const [row] = await slack.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, event.event_id));
      expect(row?.statusMessageId).toBe(shown.ts);
      await waitFor(async () => (await slack.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, event.event_id)))[0]?.status === 'done', {
        timeoutMs: 30_000,
      });
    } finally {
      slack.api.delays.delete('chat.startStream');
    }
  });

  it('a top-level DM has no thread to stream into: one message, no stream calls', async () => {
    const from = slack.api.calls.length;
    const event = freshEvent('message_im', { text: 'hello from a dm' });
    const stored = await turn(slack.app, slack.db, event);
    const mine = slack.api.calls.slice(from).filter((c) => c.params.channel === DM);
    expect(mine.filter((c) => STREAM_METHODS.includes(c.method))).toHaveLength(0);
    expect(mine.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    expect(mine.at(-1)).toMatchObject({ method: 'chat.update', params: { text: stored! } });
  });

  it('when Slack refuses startStream, the answer is posted once instead', async () => {
    slack.api.errors.set('chat.startStream', { error: 'method_not_supported', times: 1 });
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> explain the fallback' });
    const stored = await turn(slack.app, slack.db, event);
    const calls = callsOfTurn(slack.api, CHANNEL, event.event.ts);
    expect(calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.startStream', 'chat.update']);
    expect(slack.api.visible(CHANNEL, event.event.ts).map((m) => m.text)).toEqual([stored!]);
  });
});

describe.each(drivers)('Slack streamed answer that breaks midway (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  const model = new FakeOpenAIServer((r) =>
    r.tag === 'broken' ? { kind: 'broken', text: 'The launch moves to Friday and the docs freeze to Thursday, says the thread.', afterChunks: 2 } : { kind: 'answer' },
  );

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    await model.start();
    app = await startSlackApp(db, api, {
      env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', MODEL_PROVIDER: 'openai', MODEL_BASE_URL: model.baseUrl, MODEL_API_KEY: 'test-key' },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await model.stop();
    await api?.stop();
    await db?.close();
  });

  it('withdraws the partial answer, says so clearly, records no answer and does not retry', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> [broken] when do we launch?' });
    const stored = await turn(app, db, event);
    expect(stored).toBeNull();
    const calls = callsOfTurn(api, CHANNEL, event.event.ts);
    const methods = calls.map((c) => c.method);
    // Some text was shown, then the stream was stopped and deleted before the error went out.
    const start = calls.find((c) => c.method === 'chat.startStream')!;
    expect(streamedText(calls).length).toBeGreaterThan(0);
    const withdrawn = methods.lastIndexOf('chat.delete');
    expect(calls[withdrawn]!.params.ts).toBe(start.response.ts);
    expect(methods.slice(withdrawn + 1)).toEqual(['chat.update']);
    expect(api.visible(CHANNEL, event.event.ts).map((m) => m.text)).toEqual([INTERRUPTED_MESSAGE]);
    expect(model.requests.filter((r) => r.tag === 'broken')).toHaveLength(1);
  });
});
