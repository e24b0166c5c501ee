/**
 * Outgoing Web API calls through the adapter's Web API transport (undici, not the WHATWG fetch): a normal
 * answer, a 429 waited out, HTTP errors and redirects, timeouts, and never a token in an error or a log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { createWebApiTransport } from '../../adapters/slack/web-api-transport.js';
import type { ReplyTarget } from '../../src/core/ports.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { logInto } from '../support/logs.js';
import { waitFor } from '../support/wait.js';
import { drivers } from '../support/db.js';
import { freshEvent, postSlack, useSlackApp } from './support.js';
import { deliveryMemoryOf } from '../../src/core/reply-memory.js';

const TOKEN = 'xoxb-acme-single';
const ACME = { platform: 'slack' as const, externalId: 'T0ACME0001' };

/** Everything an error carries that could reach a log or a caller. */
function expectNoToken(err: unknown, token = TOKEN): void {
  const e = err as Error & { original?: Error };
  const seen = [String(e), e.stack, JSON.stringify(e), e.original?.message, e.original?.stack, String((e.original as { cause?: unknown })?.cause ?? '')];
  for (const text of seen) expect(text ?? '').not.toContain(token);
}

// The Web API path does not depend on the database driver: one driver is enough.
describe.each(drivers.slice(-1))('Slack Web API calls (%s)', (driver) => {
  const lines: string[] = [];
  const slack = useSlackApp(driver, () => ({ log: logInto(lines, 'debug') }));
  let n = 0;
  const target = (): ReplyTarget => {
    n += 1;
    const ts = `1767261000.${String(n).padStart(6, '0')}`;
    return {
      workspace: ACME,
      user: { id: 'U0ACMEMEM1' },
      channel: { id: 'C0ACMEGEN1', kind: 'channel' },
      threadId: ts,
      messageId: ts,
      idempotencyKey: `web-api-${n}`,
      replyRoute: { teamId: 'T0ACME0001', enterpriseId: null, isEnterpriseInstall: false },
    };
  };
  const ports = () => slack.app.running.deps.platforms.slack!;

  it('answers an event through undici with the bot token as a bearer header', async () => {
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> Web API transport question' });
    expect((await postSlack(slack.app, event)).status).toBe(200);
    // The answer (streamed, then ended) is shown in the mention's thread.
    await waitFor(() => slack.api.visible('C0ACMEGEN1', event.event.ts).find((m) => m.text.includes('Web API transport question') && !m.streaming));
    const status = slack.api.called('chat.postMessage').find((c) => c.params.thread_ts === event.event.ts)!;
    expect(status.token).toBe(TOKEN);
    expect(status.headers['content-type']).toBe('application/x-www-form-urlencoded');
    // Node's WHATWG fetch marks every request it sends; the lean client sends only WebClient's headers.
    expect(status.headers['sec-fetch-mode']).toBeUndefined();
    expect(status.headers['user-agent']).toMatch(/@slack:web-api/);
  });

  it('waits out a 429 for its Retry-After before the one retry', async () => {
    slack.api.rateLimits.set('chat.postMessage', { times: 1, retryAfter: 1 });
    const to = target();
    const posted = await ports().replies.post(to, { kind: 'answer', text: 'after the rate limit' }, deliveryMemoryOf());
    const attempts = slack.api.called('chat.postMessage').filter((c) => c.params.thread_ts === to.threadId);
    expect(attempts).toHaveLength(2);
    // Retry-After: 1 → no second attempt before a second has passed (timer rounding allowed).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(990);
    expect(slack.api.visible('C0ACMEGEN1', to.threadId)).toEqual([{ ts: posted.platformMessageId, text: 'after the rate limit', streaming: false }]);
  });

  it('reports an HTTP error with its status and body, and does not send a post again', async () => {
    slack.api.statuses.set('chat.postMessage', { status: 503, times: 1, body: 'upstream unavailable', headers: { 'x-slack-edge': 'down' } });
    const to = target();
    const err = await ports().replies.post(to, { kind: 'answer', text: 'during an outage' }, deliveryMemoryOf()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'slack_webapi_http_error', statusCode: 503, statusMessage: 'Service Unavailable', body: 'upstream unavailable' });
    expect((err as { headers: Record<string, string> }).headers['x-slack-edge']).toBe('down');
    expectNoToken(err);
    expect(slack.api.called('chat.postMessage').filter((c) => c.params.thread_ts === to.threadId)).toHaveLength(1);
    expect(slack.api.visible('C0ACMEGEN1', to.threadId)).toEqual([]);
  });

  it('retries a read that met an HTTP error', async () => {
    slack.api.statuses.set('users.info', { status: 502, times: 1 });
    const before = slack.api.called('users.info').length;
    const facts = await ports().directory.lookup(ACME, { id: 'U0ACMEADM1' });
    expect(facts.platformRole).toBe('admin');
    expect(slack.api.called('users.info').length - before).toBe(2);
  });

  it('refuses a redirect instead of following it', async () => {
    slack.api.statuses.set('chat.postMessage', { status: 302, times: 1, headers: { location: `${slack.api.url}elsewhere` } });
    const to = target();
    const err = await ports().replies.post(to, { kind: 'answer', text: 'redirected' }, deliveryMemoryOf()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'slack_webapi_request_error' });
    expect((err as { original: Error }).original.message).toBe('fetch failed');
    expectNoToken(err);
    expect(slack.api.called('elsewhere')).toHaveLength(0);
  });

  it('never writes the token into a log line, debug included', () => {
    expect(lines.some((l) => l.includes('"level":"debug"') && l.includes('http request headers'))).toBe(true);
    expect(lines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });
});

describe('Slack Web API transport timeouts', () => {
  // The adapter waits 10 s; the same fetch and WebClient with shorter limits show both ways a call ends.
  const slack = {} as { api: FakeSlackApi };
  beforeAll(async () => {
    slack.api = await new FakeSlackApi().start();
  });
  afterAll(() => slack.api?.stop());
  const token = 'xoxb-timeout-secret';

  /** chat.update through a WebClient on a Web API transport while the fake takes a second to answer; resolves with the error. */
  async function lateUpdate(fetchTimeoutMs: number, clientTimeoutMs?: number): Promise<unknown> {
    const lean = createWebApiTransport({ timeoutMs: fetchTimeoutMs });
    const client = new webApi.WebClient(undefined, {
      slackApiUrl: slack.api.url,
      fetch: lean.fetch,
      ...(clientTimeoutMs ? { timeout: clientTimeoutMs } : {}),
      retryConfig: { retries: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
    slack.api.delays.set('chat.update', 1_000);
    try {
      return await client.chat.update({ token, channel: 'C0ACMEGEN1', ts: '1.2', text: 'late' }).then(() => null, (e: unknown) => e);
    } finally {
      slack.api.delays.delete('chat.update');
      await lean.close();
    }
  }

  it('gives up on an answer that does not come within its timeout', async () => {
    const err = await lateUpdate(200);
    expect(err).toMatchObject({ code: 'slack_webapi_request_error', original: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
    expectNoToken(err, token);
  });

  it("honours the caller's abort signal (WebClient's own timeout)", async () => {
    const err = await lateUpdate(10_000, 200);
    expect(err).toMatchObject({ code: 'slack_webapi_request_error', original: { name: 'TimeoutError' } });
    expectNoToken(err, token);
  });
});
