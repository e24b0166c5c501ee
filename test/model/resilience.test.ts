import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { callOf, FALLBACK, fakeScope, gateFor, MAIN, RecordingAudit, RecordingLogger, useFakeProvider } from './helpers.js';

// The database plays no part in retries and breakers: an in-memory ledger stands in.
describe('model gate resilience against a fake OpenAI-compatible server', () => {
  const { server, track } = useFakeProvider();

  it('answers through the fake provider with its usage', async () => {
    server.script = () => ({ kind: 'answer', text: 'hi there', promptTokens: 12, completionTokens: 3 });
    const gate = track(gateFor(server));
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'plain'));
    expect(outcome).toMatchObject({ kind: 'answer', text: 'hi there', model: MAIN, usage: { inputTokens: 12, outputTokens: 3 } });
  });

  it('honours Retry-After on 429 before trying again', async () => {
    server.script = (r) => (r.index === 0 ? { kind: 'status', status: 429, retryAfter: '1' } : { kind: 'answer' });
    const gate = track(gateFor(server, { resilience: { timeoutMs: 15_000, retries: 2, backoffInitialMs: 5, backoffMaxMs: 10 } }));
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'r429'));
    expect(outcome).toMatchObject({ kind: 'answer', model: MAIN });
    expect(server.requests).toHaveLength(2);
    // Backoff alone would have waited ≤ 10 ms; the provider asked for a second.
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('caps a long Retry-After', async () => {
    server.script = (r) => (r.index === 0 ? { kind: 'status', status: 429, retryAfter: '3600' } : { kind: 'answer' });
    const gate = track(gateFor(server, { resilience: { timeoutMs: 15_000, retries: 1, retryAfterCapMs: 50 } }));
    expect(await gate.generate(callOf(fakeScope(), 'p1', 'cap'))).toMatchObject({ kind: 'answer' });
    expect(server.requests).toHaveLength(2);
  });

  it('retries 5xx, then answers with the fallback model and audits the degraded call', async () => {
    server.script = (r) => (r.model === MAIN ? { kind: 'status', status: 503 } : { kind: 'answer', text: 'from fallback' });
    const audit = new RecordingAudit();
    const gate = track(gateFor(server, { audit }));
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'r5xx'));
    expect(outcome).toMatchObject({ kind: 'answer', model: FALLBACK, text: 'from fallback' });
    expect(server.requestsFor(MAIN)).toHaveLength(3); // first attempt + 2 retries
    expect(server.requestsFor(FALLBACK)).toHaveLength(1);
    expect(audit.entries).toEqual([expect.objectContaining({ action: 'model_call', outcome: 'ok', model: FALLBACK, detail: { attempts: 4, fallback: true, provider: 'openai' } })]);
  });

  it('says the model is unreachable when there is no fallback', async () => {
    server.script = () => ({ kind: 'status', status: 500 });
    const gate = track(gateFor(server, { fallbackModel: null }));
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'nofb'));
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'unavailable' });
    if (outcome.kind === 'refused') expect(outcome.message).toMatch(/not reachable/);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a bad request', async () => {
    server.script = () => ({ kind: 'status', status: 400 });
    const gate = track(gateFor(server));
    expect(await gate.generate(callOf(fakeScope(), 'p1', 'bad'))).toMatchObject({ kind: 'refused', reason: 'unavailable' });
    expect(server.requests).toHaveLength(1);
  });

  it('cuts a hanging call with the timeout and does not repeat it', async () => {
    server.script = () => ({ kind: 'hang' });
    const gate = track(gateFor(server, { resilience: { timeoutMs: 300, retries: 2, backoffInitialMs: 5 } }));
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'hang'));
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'timeout' });
    expect(server.requests).toHaveLength(1);
  });

  it('the timeout closes the hanging request, and a caller who gives up ends the call at once', async () => {
    // The fake counts a request as in flight until its socket closes.
    const inFlight = () => (server as unknown as { inFlight: number }).inFlight;
    server.script = () => ({ kind: 'hang' });
    const gate = track(gateFor(server, { fallbackModel: null, resilience: { timeoutMs: 300, retries: 0 } }));
    expect(await gate.generate(callOf(fakeScope(), 'p1', 'cut'))).toMatchObject({ kind: 'refused', reason: 'timeout' });
    await waitFor(() => inFlight() === 0, { timeoutMs: 2_000 });

    const slow = track(gateFor(server, { fallbackModel: null, resilience: { timeoutMs: 20_000, retries: 0 } }));
    const caller = new AbortController();
    const pending = slow.generate(callOf(fakeScope(), 'p1', 'gone', { signal: caller.signal }));
    await waitFor(() => inFlight() === 1);
    caller.abort(new Error('the turn was cancelled'));
    // Not 'timeout': the call ended when the caller gave up, not 20 s later.
    expect(await pending).toMatchObject({ kind: 'refused', reason: 'unavailable' });
    await waitFor(() => inFlight() === 0, { timeoutMs: 2_000 });
    expect(server.requests).toHaveLength(2);
  });

  it('drops the limiters of idle workspaces', async () => {
    const gate = track(gateFor(server, { idleMs: 2_000 }));
    await Promise.all(Array.from({ length: 5 }, () => gate.generate(callOf(fakeScope(), 'p1', 'idle'))));
    expect(gate.limiters.size()).toBe(5);
    await waitFor(() => gate.limiters.size() === 0, { timeoutMs: 10_000, everyMs: 50 });
  });

  it('opens the breaker after repeated failures and closes it after the cool-down', async () => {
    let mainHealthy = false;
    server.script = (r) => (r.model === MAIN && !mainHealthy ? { kind: 'status', status: 500 } : { kind: 'answer' });
    const log = new RecordingLogger();
    const gate = track(
      gateFor(server, {
        log,
        resilience: { timeoutMs: 15_000, retries: 0, breakerThreshold: 3, breakerCooldownMs: 300 },
      }),
    );
    const scope = fakeScope();
    for (let i = 0; i < 3; i++) expect(await gate.generate(callOf(scope, 'p1', 'brk'))).toMatchObject({ model: FALLBACK });
    expect(gate.breakerState(MAIN)).toBe('Open');
    expect(log.named('model.breaker_open')).toHaveLength(1);

    // Open: the main model is not asked at all, the fallback answers.
    const before = server.requestsFor(MAIN).length;
    expect(await gate.generate(callOf(scope, 'p1', 'brk'))).toMatchObject({ kind: 'answer', model: FALLBACK });
    expect(server.requestsFor(MAIN)).toHaveLength(before);

    // After the cool-down one trial call reaches the main model again and closes the breaker.
    mainHealthy = true;
    await waitFor(async () => (await gate.generate(callOf(scope, 'p1', 'brk'))).kind === 'answer' && gate.breakerState(MAIN) === 'Closed', {
      timeoutMs: 10_000,
      everyMs: 100,
    });
    expect(await gate.generate(callOf(scope, 'p1', 'brk'))).toMatchObject({ kind: 'answer', model: MAIN });
    expect(log.named('model.breaker_closed')).toHaveLength(1);
  });
});
