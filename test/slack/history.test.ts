/**
 * summarize_thread reads the platform's history (Slack conversations.replies / .history), not
 * only Quorum's own turns: through signed events to /slack/events, a real database and the fake
 * Slack Web API. The audience rule and membership hold for what is read; a failing Slack falls
 * back to stored messages; nothing read from Slack reaches the logs.
 */
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { createHistory } from '../../adapters/slack/history.js';
import { isQuorumError } from '../../src/core/errors.js';
import { inbox } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import { FakeSlackApi, type SeededMessage } from '../fakes/slack-api.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, postSlack, startSlackApp } from './support.js';

const A = 'C0HISTAAA1';
const B = 'C0HISTBBB1';
const C = 'C0HISTCCC1';
const DM = 'D0ACMEDM01';
const ROOT = '1767250000.000100';
const BOT = 'U0ACMEBOT1';

const msg = (user: string, ts: string, text: string, thread_ts?: string): SeededMessage => ({ user, ts, text, ...(thread_ts ? { thread_ts } : {}) });

describe.each(drivers)('summarize_thread through Slack history (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  const logLines: string[] = [];
  /** What the model asks summarize_thread for, per test. */
  let toolInput: Record<string, unknown> = {};
  const gate = new ScriptedAgentGate((step, _call, withResults) => {
    if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'summarize' } }]);
    if (step === 'researcher') return withResults ? answer('researched') : answer('', [{ toolName: 'summarize_thread', input: toolInput }]);
    return answer('final answer');
  });

  /** The tool result the researcher's second round received. */
  const toolResult = () => gate.calls.find((c) => c.step === 'researcher' && c.withResults)?.call.messages.at(-1)?.content ?? '';
  const done = (key: string) =>
    waitFor(async () => {
      const rows = await db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${key}`);
      return rows[0]?.status === 'done' ? rows[0] : null;
    });
  /** Posts a signed event and waits until its turn is done. */
  async function deliver(event: any): Promise<void> {
    expect((await postSlack(app, event)).status).toBe(200);
    await done(event.event_id);
  }
  function mention(channel: string, text: string, threadTs?: string): any {
    const event = freshEvent('app_mention_in_thread', { channel, user: 'U0ACMEMEM1', text: `<@${BOT}> ${text}` });
    if (threadTs) event.event.thread_ts = threadTs;
    else delete event.event.thread_ts;
    return event;
  }
  const answered = (channel: string) =>
    api.calls.some((c) => ['chat.update', 'chat.postMessage'].includes(c.method) && c.params.channel === channel && c.params.text?.includes('final answer'));

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    api.rosters.set(A, ['U0ACMEMEM1', 'U0ACMEOWN1', BOT]);
    api.rosters.set(B, ['U0ACMEOWN1', BOT]);
    api.rosters.set(C, ['U0ACMEMEM1', BOT]);
    api.seed(
      A,
      msg('U0ACMEOWN1', ROOT, 'canary-a-root: should we roll back the vendor?', ROOT),
      msg('U0ACMEADM1', '1767250060.000200', 'canary-a-reply: yes, roll back on Friday', ROOT),
      msg('U0ACMEOWN1', '1767250120.000300', 'canary-a-other-thread: lunch plans'),
    );
    // B has a thread with the same ts as A's: only the envelope's channel may be read.
    api.seed(B, msg('U0ACMEOWN1', ROOT, 'canary-b-same-ts-thread: the acquisition closes in May', ROOT), msg('U0ACMEOWN1', '1767250200.000100', 'canary-b-top: board only'));
    api.seed(C, msg('U0ACMEOWN1', '1767250300.000100', 'canary-c-top: the launch moved to June'));
    api.seed(DM, msg('U0ACMEMEM1', '1767250400.000100', 'canary-dm-own: remind me about the invoice'));
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        cb();
      },
    });
    app = await startSlackApp(db, api, { model: gate, log: createLogger('debug', sink) });
  });
  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    await db?.close();
  });
  beforeEach(() => {
    gate.reset();
    toolInput = {};
  });

  it('a mention in a thread summarizes the thread as Slack has it, people’s messages included', async () => {
    const event = mention(A, 'summarize this thread', ROOT);
    await deliver(event);
    const result = toolResult();
    expect(result).toContain('canary-a-root: should we roll back the vendor?');
    expect(result).toContain('canary-a-reply: yes, roll back on Friday');
    expect(result).toContain('<@U0ACMEOWN1>');
    expect(result).not.toContain('canary-a-other-thread');
    expect(result).not.toContain('Only the messages stored by Quorum');
    const replies = api.called('conversations.replies').at(-1)!;
    expect(replies.params).toMatchObject({ channel: A, ts: ROOT });
    expect(replies.token).toBe('xoxb-acme-single');
    expect(answered(A)).toBe(true);
  });

  it('from a DM: a channel the requester is not in is refused and never read; one they are in is read', async () => {
    const historyCalls = () => api.called('conversations.history').map((c) => c.params.channel);
    toolInput = { channel: B };
    await deliver(freshEvent('message_im', { text: 'summarize the board channel' }));
    expect(toolResult()).toContain('That channel is not available to you.');
    expect(gate.promptsText()).not.toContain('canary-b');
    expect(historyCalls()).not.toContain(B);

    gate.reset();
    toolInput = { channel: C };
    await deliver(freshEvent('message_im', { text: 'summarize the launch channel' }));
    expect(toolResult()).toContain('canary-c-top: the launch moved to June');
    expect(historyCalls()).toContain(C);

    // The DM itself: its recent messages, the requester's own.
    gate.reset();
    toolInput = {};
    await deliver(freshEvent('message_im', { text: 'summarize our chat' }));
    expect(toolResult()).toContain('canary-dm-own: remind me about the invoice');
    expect(historyCalls().at(-1)).toBe(DM);
  });

  it('canary: nothing of channel B reaches a prompt for a reply in channel A', async () => {
    const before = api.calls.length;
    const prompts: string[] = [];
    const ask = async (input: Record<string, unknown>, event: any) => {
      gate.reset();
      toolInput = input;
      await deliver(event);
      prompts.push(gate.promptsText());
      return toolResult();
    };
    expect(await ask({ channel: B }, mention(A, 'summarize the board channel', ROOT))).toContain('Only this conversation can be summarized here');
    expect(await ask({ channel: A }, mention(A, 'summarize here', ROOT))).toContain('canary-a-root');
    await ask({}, mention(A, 'summarize a new thread'));
    expect(prompts.join('\n')).not.toContain('canary-b');
    // B was never asked for its messages while A's replies were written.
    const read = api.calls.slice(before).filter((c) => c.method.startsWith('conversations.') && c.method !== 'conversations.members');
    expect(read.length).toBeGreaterThan(0);
    expect(read.every((c) => c.params.channel === A)).toBe(true);
  });

  it('Slack history failing: falls back to stored messages, says so, and the turn still answers', async () => {
    const thread = '1767251000.000100';
    api.seed(A, msg('U0ACMEOWN1', thread, 'canary-a-unreadable: Slack will not give this out', thread));
    api.errors.set('conversations.replies', { error: 'not_in_channel' });
    try {
      await deliver(mention(A, 'first-ask-stored: what is the plan?', thread));
      gate.reset();
      await deliver(mention(A, 'summarize this thread', thread));
    } finally {
      api.errors.delete('conversations.replies');
    }
    const result = toolResult();
    expect(result).toContain('Only the messages stored by Quorum are shown: slack history could not be read right now');
    expect(result).toContain('first-ask-stored: what is the plan?');
    expect(result).not.toContain('canary-a-unreadable');
    expect(answered(A)).toBe(true);
    const warned = logLines.map((l) => JSON.parse(l)).filter((l) => l.event === 'history.unavailable');
    expect(warned.at(-1)).toMatchObject({ code: 'HISTORY_UNAVAILABLE', platform: 'slack', err: 'Slack conversations.replies failed: not_in_channel' });
  });

  it('bounds what reaches the model: at most 50 messages and about 12,000 characters', async () => {
    const thread = '1767252000.000100';
    const long = (i: number) => msg('U0ACMEOWN1', `${1767252000 + i}.000100`, `bulk-${i}: ${'x'.repeat(380)}`, thread);
    api.seed(A, ...Array.from({ length: 80 }, (_, i) => long(i)));
    await deliver(mention(A, 'summarize this long thread', thread));
    expect(api.called('conversations.replies').at(-1)!.params).toMatchObject({ channel: A, ts: thread, limit: '50' });
    const result = toolResult();
    expect(result.length).toBeLessThan(12_500);
    expect(result).toMatch(/\(\d+ earlier messages left out\)/);
    // The newest of what was read is kept.
    expect(result).toContain('bulk-49:');
    expect(result).not.toContain('bulk-50:');
  });

  it('never logs what it read from Slack, even at debug level', () => {
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join('\n');
    for (const canary of ['canary-a-root', 'canary-a-reply', 'canary-c-top', 'canary-dm-own', 'bulk-1:']) expect(all).not.toContain(canary);
  });
});

describe('Slack history adapter (against the fake Web API)', () => {
  let api: FakeSlackApi;
  const workspace = { platform: 'slack' as const, externalId: 'T0ACME0001' };
  const tokens = { forWorkspace: async () => ({ token: 'xoxb-history' }), forget: () => {} };

  beforeAll(async () => {
    api = await new FakeSlackApi().start();
    api.seed('C0PAGED001', ...Array.from({ length: 250 }, (_, i) => msg(i % 2 ? 'U1' : 'U2', `${1767000000 + i}.000100`, `m${i}`)));
    api.seed('C0PAGED001', { bot_id: 'B0BOT', text: 'from a bot', ts: '1767000300.000100' }, { user: 'U3', subtype: 'channel_join', text: '<@U3> has joined', ts: '1767000301.000100' });
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('pages a bounded number of times, newest messages kept, oldest first; join lines dropped, bots marked', async () => {
    const client = new webApi.WebClient(undefined, { slackApiUrl: api.url, retryConfig: { retries: 0 } });
    const history = createHistory({ client, tokens, pageSize: 100, maxPages: 2 });
    const before = api.called('conversations.history').length;
    const messages = await history.recent(workspace, { id: 'C0PAGED001', kind: 'channel' }, 1_000);
    expect(api.called('conversations.history').length - before).toBe(2);
    // 200 read (2 pages): the join line, the bot's message, m249 … m52; the join line is dropped.
    expect(messages).toHaveLength(199);
    expect(messages.at(-1)).toMatchObject({ authorId: 'B0BOT', authorIsBot: true, text: 'from a bot' });
    expect(messages.at(-2)).toMatchObject({ authorId: 'U1', authorIsBot: false, text: 'm249' });
    expect(messages[0]!.text).toBe('m52');
    expect(messages.at(-1)!.at).toEqual(new Date(1767000300_000));
  });

  it('maps Slack errors to HISTORY_UNAVAILABLE with Slack’s code only', async () => {
    const client = new webApi.WebClient(undefined, { slackApiUrl: api.url, retryConfig: { retries: 0 } });
    const history = createHistory({ client, tokens });
    api.errors.set('conversations.history', { error: 'missing_scope' });
    try {
      const err = await history.recent(workspace, { id: 'C0PAGED001', kind: 'channel' }, 10).catch((e: unknown) => e);
      expect(isQuorumError(err, 'HISTORY_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toBe('Slack conversations.history failed: missing_scope');
    } finally {
      api.errors.delete('conversations.history');
    }
    const missing = await history.thread(workspace, { id: 'C0PAGED001', kind: 'channel' }, '1.000000', 10).catch((e: unknown) => e);
    expect((missing as Error).message).toBe('Slack conversations.replies failed: thread_not_found');
  });
});
