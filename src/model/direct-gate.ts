/**
 * The simplest ModelGate: one call, a timeout, and every failure turned into a short answer for
 * the user. The throttling gate (limits, budgets, retries, breakers) wraps the same call.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Logger, ModelCall, ModelGate, ModelOutcome } from '../core/ports.js';
import { generateStep, streamStep } from './language-model.js';

export const UNREACHABLE_MESSAGE = 'The model is not reachable right now. Please try again in a few minutes.';
export const TIMEOUT_MESSAGE = 'The model took too long to answer. Please try again in a few minutes.';
export const INTERRUPTED_MESSAGE = 'The model stopped in the middle of its answer. Please try again in a few minutes.';

export interface DirectGateOptions {
  model: (modelId: string) => LanguageModelV3;
  modelName: (tier: 'answer' | 'small') => string;
  timeoutMs: number;
  log: Logger;
}

/** One attempt against one model, with its own timeout; throws what the provider threw. Streams when `onTextDelta` is given. */
export function callModel(
  model: LanguageModelV3,
  call: Pick<ModelCall, 'messages' | 'signal' | 'tools' | 'onTextDelta'>,
  timeoutMs: number,
): Promise<Answer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  return attemptModel(model, call, call.signal ? AbortSignal.any([timeout, call.signal]) : timeout);
}

type Answer = Extract<ModelOutcome, { kind: 'answer' }>;

/** One attempt, ended by `signal` (the caller's deadline and cancellation in one). */
export async function attemptModel(
  model: LanguageModelV3,
  call: Pick<ModelCall, 'messages' | 'tools' | 'onTextDelta'>,
  signal: AbortSignal,
): Promise<Answer> {
  const started = performance.now();
  const request = { messages: call.messages, tools: call.tools, abortSignal: signal };
  const result = call.onTextDelta ? await streamStep(model, request, call.onTextDelta) : await generateStep(model, request);
  const toolCalls = result.toolCalls;
  return {
    kind: 'answer',
    text: result.text.trim() || (toolCalls.length > 0 ? '' : '(The model returned an empty answer.)'),
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
    model: model.modelId,
    usage: result.usage,
    latencyMs: Math.round(performance.now() - started),
  };
}

export function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'TimeoutError' || (name === 'AbortError' && /timeout/i.test(String((err as Error).message)));
}

export function createDirectGate(options: DirectGateOptions): ModelGate {
  return {
    async generate(call): Promise<ModelOutcome> {
      const modelId = options.modelName(call.tier ?? 'answer');
      const started = performance.now();
      const stream = streamTracker(call);
      try {
        return await callModel(options.model(modelId), stream.call, options.timeoutMs);
      } catch (err) {
        const latencyMs = Math.round(performance.now() - started);
        const timeout = isTimeout(err);
        options.log.warn(
          { event: 'model.failed', model: modelId, kind: timeout ? 'timeout' : (err as Error).name, latencyMs, streamed: stream.emitted },
          'model call failed',
        );
        if (timeout) return { kind: 'refused', reason: 'timeout', message: TIMEOUT_MESSAGE, model: modelId, latencyMs };
        const message = stream.emitted ? INTERRUPTED_MESSAGE : UNREACHABLE_MESSAGE;
        return { kind: 'refused', reason: 'unavailable', message, model: modelId, latencyMs };
      }
    },
  };
}

/** The call with its onTextDelta wrapped so the gate knows whether any text went out already. */
export function streamTracker(call: ModelCall): { call: ModelCall; readonly emitted: boolean } {
  const onTextDelta = call.onTextDelta;
  if (!onTextDelta) return { call, emitted: false };
  const tracker = {
    emitted: false,
    call: {
      ...call,
      onTextDelta: (delta: string) => {
        tracker.emitted = true;
        onTextDelta(delta);
      },
    },
  };
  return tracker;
}
