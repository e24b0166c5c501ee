/**
 * A fallback model on another provider (MODEL_FALLBACK_PROVIDER …): real HTTP to a fake
 * OpenAI-compatible server and a fake Anthropic Messages API, through the AI SDK's own providers.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { INTERRUPTED_MESSAGE, UNREACHABLE_MESSAGE } from '../../src/model/model-call.js';
import type { ModelGateOptions } from '../../src/model/gate.js';
import { createModelFactory, fallbackSourceFor, modelNameFor } from '../../src/model/providers.js';
import { FakeAnthropicServer } from '../fakes/anthropic-server.js';
import { callOf, deadPort, fakeScope, gateFor, MAIN, MemoryLedger, RecordingAudit, RecordingLogger, useFakeProvider } from './helpers.js';

const MAIN_KEY = 'sk-planted-main-key-4b1d';
const FALLBACK_KEY = 'sk-ant-planted-fallback-key-77c3';
const CLAUDE = 'claude-haiku-4-5';
const ANSWER = 'The launch moves to Friday, with the docs freeze on Thursday and the release notes by noon.';

describe('a fallback model on another provider', () => {
  const { server: openai, track } = useFakeProvider();
  const { server: anthropic } = useFakeProvider(new FakeAnthropicServer());

  /** The gate as main.ts builds it from these variables, at test speed. */
  function gateFromEnv(env: Record<string, string>, options: Partial<ModelGateOptions> = {}) {
    const config = loadConfig(env);
    return track(
      gateFor(openai, {
        provider: config.MODEL_PROVIDER,
        model: createModelFactory(config),
        modelName: (tier) => modelNameFor(config, tier),
        fallbackModel: config.MODEL_FALLBACK_NAME ?? null,
        fallbackSource: fallbackSourceFor(config),
        ...options,
      }),
    );
  }

  const openaiToAnthropic = (overrides: Record<string, string> = {}) => ({
    MODEL_PROVIDER: 'openai',
    MODEL_BASE_URL: openai.baseUrl,
    MODEL_API_KEY: MAIN_KEY,
    MODEL_NAME: MAIN,
    MODEL_FALLBACK_NAME: CLAUDE,
    MODEL_FALLBACK_PROVIDER: 'anthropic',
    MODEL_FALLBACK_BASE_URL: anthropic.baseUrl,
    MODEL_FALLBACK_API_KEY: FALLBACK_KEY,
    ...overrides,
  });

  it('main down (5xx): answers from Anthropic, with usage and cost under the fallback model, audited as a fallback', async () => {
    openai.script = () => ({ kind: 'status', status: 503 });
    anthropic.script = () => ({ kind: 'answer', text: 'from claude', promptTokens: 12, completionTokens: 4 });
    const ledger = new MemoryLedger();
    const audit = new RecordingAudit();
    const log = new RecordingLogger();
    const gate = gateFromEnv(openaiToAnthropic(), { ledger, audit, log, prices: { [CLAUDE]: { input: 3, output: 15 }, [MAIN]: { input: 100, output: 100 } } });

    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'down'));

    expect(outcome).toMatchObject({ kind: 'answer', text: 'from claude', model: CLAUDE, usage: { inputTokens: 12, outputTokens: 4 } });
    expect(openai.requests).toHaveLength(3); // first attempt + 2 retries
    expect(anthropic.requests).toEqual([expect.objectContaining({ model: CLAUDE, tag: 'down', apiKey: FALLBACK_KEY })]);
    // Each provider gets its own key: the main key never goes to Anthropic, nor the reverse.
    expect(openai.requests.every((r) => r.apiKey === MAIN_KEY)).toBe(true);
    expect(ledger.settled.map((s) => s.entries)).toEqual([[{ model: CLAUDE, usage: { inputTokens: 12, outputTokens: 4 }, costMicroUsd: 12 * 3 + 4 * 15 }]]);
    expect(audit.entries).toEqual([
      expect.objectContaining({ action: 'model_call', outcome: 'ok', model: CLAUDE, detail: { attempts: 4, fallback: true, provider: 'anthropic' } }),
    ]);
    expect(log.named('model.fallback')).toEqual([
      expect.objectContaining({ obj: expect.objectContaining({ from: MAIN, to: CLAUDE, fromProvider: 'openai', toProvider: 'anthropic', why: 'exhausted' }) }),
    ]);
    const logged = JSON.stringify(log.events);
    expect(logged).not.toContain(FALLBACK_KEY);
    expect(logged).not.toContain(MAIN_KEY);
  });

  it('Anthropic main refused at the socket: answers from the OpenAI-compatible fallback with its own key', async () => {
    const env = {
      MODEL_PROVIDER: 'anthropic',
      MODEL_BASE_URL: `http://127.0.0.1:${await deadPort()}/v1`,
      MODEL_API_KEY: MAIN_KEY,
      MODEL_NAME: MAIN,
      MODEL_FALLBACK_NAME: 'local-llama',
      MODEL_FALLBACK_PROVIDER: 'openai',
      MODEL_FALLBACK_BASE_URL: openai.baseUrl,
      MODEL_FALLBACK_API_KEY: FALLBACK_KEY,
    };
    openai.script = () => ({ kind: 'answer', text: 'from llama', promptTokens: 7, completionTokens: 2 });
    const ledger = new MemoryLedger();
    const log = new RecordingLogger();
    const gate = gateFromEnv(env, { ledger, log, prices: { 'local-llama': { input: 1, output: 2 } } });

    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'refused'));

    expect(outcome).toMatchObject({ kind: 'answer', text: 'from llama', model: 'local-llama' });
    expect(openai.requests).toEqual([expect.objectContaining({ model: 'local-llama', apiKey: FALLBACK_KEY })]);
    expect(ledger.settled.map((s) => s.entries)).toEqual([[{ model: 'local-llama', usage: { inputTokens: 7, outputTokens: 2 }, costMicroUsd: 7 + 4 }]]);
    // Three attempts reached for the dead socket, each logged without a status or a key.
    expect(log.named('model.failed').map((e) => e.obj.provider)).toEqual(['anthropic', 'anthropic', 'anthropic']);
    expect(JSON.stringify(log.events)).not.toContain(FALLBACK_KEY);
  });

  it("keeps a breaker per provider and model: the main's open breaker sends calls straight to the fallback, whose breaker stays closed", async () => {
    // The same model name on both providers: only the provider tells the two breakers apart.
    const SAME = 'claude-sonnet-4-5';
    openai.script = () => ({ kind: 'status', status: 500 });
    anthropic.script = () => ({ kind: 'answer', text: 'from claude' });
    const log = new RecordingLogger();
    const gate = gateFromEnv(openaiToAnthropic({ MODEL_NAME: SAME, MODEL_FALLBACK_NAME: SAME }), {
      log,
      resilience: { timeoutMs: 15_000, retries: 0, breakerThreshold: 2, breakerCooldownMs: 60_000 },
    });
    const scope = fakeScope();
    for (let i = 0; i < 2; i++) expect(await gate.generate(callOf(scope, 'p1', 'brk'))).toMatchObject({ kind: 'answer', model: SAME, text: 'from claude' });
    expect(gate.breakerState(SAME)).toBe('Open');
    expect(gate.breakerState(SAME, 'fallback')).toBe('Closed');
    expect(log.named('model.breaker_open').map((e) => e.obj)).toEqual([expect.objectContaining({ provider: 'openai', model: SAME })]);

    // Open: the main provider is not asked at all.
    const asked = openai.requests.length;
    const outcome = await gate.generate(callOf(scope, 'p1', 'brk'));
    expect(outcome).toMatchObject({ kind: 'answer', model: SAME, text: 'from claude' });
    expect(openai.requests).toHaveLength(asked);
    expect(anthropic.requests).toHaveLength(3);
    expect(log.named('model.fallback').at(-1)?.obj).toMatchObject({ why: 'open', toProvider: 'anthropic' });
  });

  it('both providers down: the clear refusal, nothing recorded as used', async () => {
    openai.script = () => ({ kind: 'status', status: 502 });
    anthropic.script = () => ({ kind: 'status', status: 529 });
    const ledger = new MemoryLedger();
    const audit = new RecordingAudit();
    const log = new RecordingLogger();
    const gate = gateFromEnv(openaiToAnthropic(), { ledger, audit, log });

    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'both'));

    expect(outcome).toMatchObject({ kind: 'refused', reason: 'unavailable', message: UNREACHABLE_MESSAGE, model: MAIN });
    expect(openai.requests).toHaveLength(3);
    expect(anthropic.requests).toHaveLength(3);
    expect(ledger.settled.every((s) => s.entries.length === 0)).toBe(true);
    expect(audit.entries).toEqual([]);
    expect(log.named('model.gave_up').map((e) => e.obj.provider)).toEqual(['openai', 'anthropic']);
    expect(JSON.stringify(log.events)).not.toContain(FALLBACK_KEY);
  });

  it('streams the Anthropic fallback when the main failed before any text', async () => {
    openai.script = () => ({ kind: 'status', status: 500 });
    anthropic.script = () => ({ kind: 'answer', text: ANSWER, promptTokens: 30, completionTokens: 19 });
    const ledger = new MemoryLedger();
    const gate = gateFromEnv(openaiToAnthropic(), { ledger });
    const deltas: string[] = [];

    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'sfb', { onTextDelta: (d) => deltas.push(d) }));

    expect(outcome).toMatchObject({ kind: 'answer', text: ANSWER, model: CLAUDE, usage: { inputTokens: 30, outputTokens: 19 } });
    expect(anthropic.requests).toEqual([expect.objectContaining({ stream: true })]);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(ANSWER);
    expect(ledger.settled[0]!.entries).toEqual([expect.objectContaining({ model: CLAUDE, usage: { inputTokens: 30, outputTokens: 19 } })]);
  });

  it('does not fall back once streamed text went out: the other provider is never asked', async () => {
    openai.script = () => ({ kind: 'broken', text: ANSWER, afterChunks: 2 });
    const gate = gateFromEnv(openaiToAnthropic());
    const deltas: string[] = [];

    const outcome = await gate.generate(callOf(fakeScope(), 'p1', 'cut', { onTextDelta: (d) => deltas.push(d) }));

    expect(outcome).toMatchObject({ kind: 'refused', reason: 'unavailable', message: INTERRUPTED_MESSAGE });
    expect(deltas.length).toBeGreaterThan(0);
    expect(anthropic.requests).toHaveLength(0);
  });

  it('a fallback of the same provider still shares its endpoint and key', async () => {
    openai.script = (r) => (r.model === MAIN ? { kind: 'status', status: 503 } : { kind: 'answer', text: 'same provider' });
    const gate = gateFromEnv({ MODEL_PROVIDER: 'openai', MODEL_BASE_URL: openai.baseUrl, MODEL_API_KEY: MAIN_KEY, MODEL_NAME: MAIN, MODEL_FALLBACK_NAME: 'gpt-small' });
    expect(await gate.generate(callOf(fakeScope(), 'p1', 'same'))).toMatchObject({ kind: 'answer', model: 'gpt-small', text: 'same provider' });
    expect(openai.requestsFor('gpt-small')).toEqual([expect.objectContaining({ apiKey: MAIN_KEY })]);
    expect(anthropic.requests).toHaveLength(0);
  });
});
