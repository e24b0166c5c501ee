/** Streamed answers through the gate: same outcome and usage as unstreamed, retries only before the first text. */
import { describe, expect, it } from 'vitest';
import { INTERRUPTED_MESSAGE } from '../../src/model/model-call.js';
import { callOf, FALLBACK, fakeScope, gateFor, MAIN, MemoryLedger, RecordingLogger, useFakeProvider } from './helpers.js';

const ANSWER = 'The launch moves to Friday, with the docs freeze on Thursday and the release notes by noon.';

describe('streamed model calls against a fake OpenAI-compatible server', () => {
  const { server, track } = useFakeProvider();

  it('streams the answer in pieces; text, usage and the settled ledger match the unstreamed call', async () => {
    server.script = () => ({ kind: 'answer', text: ANSWER, promptTokens: 21, completionTokens: 17 });
    const ledger = new MemoryLedger();
    const gate = track(gateFor(server, { ledger }));
    const deltas: string[] = [];
    const streamed = await gate.generate(callOf(fakeScope(), 'p1', 'stream', { onTextDelta: (d) => deltas.push(d) }));
    const plain = await gate.generate(callOf(fakeScope(), 'p1', 'plain'));

    expect(server.requests.map((r) => r.stream)).toEqual([true, false]);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(ANSWER);
    expect(streamed).toMatchObject({ kind: 'answer', text: ANSWER, model: MAIN, usage: { inputTokens: 21, outputTokens: 17 } });
    expect(plain).toMatchObject({ kind: 'answer', text: ANSWER, model: MAIN, usage: { inputTokens: 21, outputTokens: 17 } });
    expect(ledger.settled).toHaveLength(2);
    expect(ledger.settled[0]!.entries).toEqual(ledger.settled[1]!.entries);
  });

  it('retries a failure that came before any text, and streams the retry', async () => {
    server.script = (r) => (r.index === 0 ? { kind: 'status', status: 503 } : { kind: 'answer', text: ANSWER });
    const gate = track(gateFor(server));
    const deltas: string[] = [];
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'retry', { onTextDelta: (d) => deltas.push(d) }));
    expect(outcome).toMatchObject({ kind: 'answer', text: ANSWER, model: MAIN });
    expect(server.requests).toHaveLength(2);
    expect(deltas.join('')).toBe(ANSWER);
  });

  it('falls back before any text went out', async () => {
    server.script = (r) => (r.model === MAIN ? { kind: 'status', status: 500 } : { kind: 'answer', text: 'from fallback' });
    const gate = track(gateFor(server));
    const deltas: string[] = [];
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'fb', { onTextDelta: (d) => deltas.push(d) }));
    expect(outcome).toMatchObject({ kind: 'answer', model: FALLBACK, text: 'from fallback' });
    expect(deltas.join('')).toBe('from fallback');
  });

  it('a stream that breaks after some text is refused: no retry, no fallback, nothing settled as used', async () => {
    server.script = () => ({ kind: 'broken', text: ANSWER, afterChunks: 2 });
    const ledger = new MemoryLedger();
    const log = new RecordingLogger();
    const gate = track(gateFor(server, { ledger, log }));
    const deltas: string[] = [];
    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'broken', { onTextDelta: (d) => deltas.push(d) }));
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'unavailable', message: INTERRUPTED_MESSAGE });
    expect(deltas.length).toBeGreaterThan(0);
    expect(ANSWER.startsWith(deltas.join(''))).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(log.named('model.gave_up')).toEqual([expect.objectContaining({ obj: expect.objectContaining({ why: 'interrupted' }) })]);
    expect(ledger.settled.every((s) => s.entries.length === 0)).toBe(true);
  });
});
