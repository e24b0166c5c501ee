/**
 * One model call against one provider model, and what its failures mean to the user. The gate
 * (limits, budgets, retries, breakers, fallback: gate.ts) wraps these.
 */
import {
  APICallError,
  EmptyResponseBodyError,
  InvalidResponseDataError,
  JSONParseError,
  NoContentGeneratedError,
  TypeValidationError,
  type LanguageModelV3,
} from '@ai-sdk/provider';
import type { ModelCall, ModelOutcome } from '../core/ports.js';
import { generateStep, streamStep } from './language-model.js';

export const UNREACHABLE_MESSAGE = 'The model is not reachable right now. Please try again in a few minutes.';
export const TIMEOUT_MESSAGE = 'The model took too long to answer. Please try again in a few minutes.';
export const INTERRUPTED_MESSAGE = 'The model stopped in the middle of its answer. Please try again in a few minutes.';
export const UNUSABLE_MESSAGE = 'The model sent a response Quorum could not read (not in the format its API promises). Please try again; if it keeps happening, tell an admin.';

/** The provider answered, but not with anything Quorum can use: a body that does not parse or fit the API's schema. */
export function isUnusableResponse(err: unknown): boolean {
  if (APICallError.isInstance(err)) return err.statusCode !== undefined && err.statusCode >= 200 && err.statusCode < 300;
  return (
    JSONParseError.isInstance(err) ||
    TypeValidationError.isInstance(err) ||
    InvalidResponseDataError.isInstance(err) ||
    EmptyResponseBodyError.isInstance(err) ||
    NoContentGeneratedError.isInstance(err)
  );
}

/**
 * What the user is told when a call failed for good (not a timeout): the provider's own refusal
 * (a 4xx, named by its status, never its text: it can quote the prompt), an unusable response,
 * or the provider out of reach.
 */
export function failureOf(err: unknown, streamed: boolean): { reason: 'unavailable' | 'unusable'; message: string } {
  if (streamed) return { reason: 'unavailable', message: INTERRUPTED_MESSAGE };
  if (isUnusableResponse(err)) return { reason: 'unusable', message: UNUSABLE_MESSAGE };
  const status = APICallError.isInstance(err) ? err.statusCode : undefined;
  if (status === 401 || status === 403) {
    return { reason: 'unavailable', message: `The model provider refused Quorum's credentials (HTTP ${status}). An operator needs to check the model's API key.` };
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
    return { reason: 'unavailable', message: `The model provider refused this request (HTTP ${status}). Please try rephrasing it; if it keeps happening, tell an admin.` };
  }
  return { reason: 'unavailable', message: UNREACHABLE_MESSAGE };
}

/** One attempt against one model, with its own timeout; throws what the provider threw. Streams when `onTextDelta` is given. */
export function callModel(
  model: LanguageModelV3,
  call: Pick<ModelCall, 'messages' | 'signal' | 'tools' | 'toolChoice' | 'onTextDelta'>,
  timeoutMs: number,
): Promise<Answer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  return attemptModel(model, call, call.signal ? AbortSignal.any([timeout, call.signal]) : timeout);
}

type Answer = Extract<ModelOutcome, { kind: 'answer' }>;

/** A call as the gate sends it: with the output cap its budgets allow (sent to the provider as its maximum output). */
export type GatedCall = ModelCall & { maxOutputTokens?: number };

/** One attempt, ended by `signal` (the caller's deadline and cancellation in one). */
export async function attemptModel(
  model: LanguageModelV3,
  call: Pick<GatedCall, 'messages' | 'tools' | 'toolChoice' | 'onTextDelta' | 'maxOutputTokens'>,
  signal: AbortSignal,
): Promise<Answer> {
  const started = performance.now();
  const request = { messages: call.messages, tools: call.tools, toolChoice: call.toolChoice, maxOutputTokens: call.maxOutputTokens, abortSignal: signal };
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

/** The call with its onTextDelta wrapped so the gate knows whether any text went out already. */
export function streamTracker(call: GatedCall): { call: GatedCall; readonly emitted: boolean } {
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
