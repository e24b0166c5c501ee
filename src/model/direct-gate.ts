/**
 * The simplest ModelGate: one call, a timeout, and every failure turned into a short answer for
 * the user. The throttling gate (limits, budgets, retries, breakers) wraps the same call.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { generateText, jsonSchema, streamText, tool, zodSchema, type LanguageModelUsage, type ModelMessage, type Schema, type ToolSet } from 'ai';
import type { Logger, ModelCall, ModelGate, ModelOutcome, ToolSpec } from '../core/ports.js';

export const UNREACHABLE_MESSAGE = 'The model is not reachable right now. Please try again in a few minutes.';
export const TIMEOUT_MESSAGE = 'The model took too long to answer. Please try again in a few minutes.';
export const INTERRUPTED_MESSAGE = 'The model stopped in the middle of its answer. Please try again in a few minutes.';

export interface DirectGateOptions {
  model: (modelId: string) => LanguageModelV3;
  modelName: (tier: 'answer' | 'small') => string;
  timeoutMs: number;
  log: Logger;
}

/** One attempt against one model; throws what the provider threw. Streams when `onTextDelta` is given. */
export async function callModel(
  model: LanguageModelV3,
  call: Pick<ModelCall, 'messages' | 'signal' | 'tools' | 'onTextDelta'>,
  timeoutMs: number,
): Promise<Extract<ModelOutcome, { kind: 'answer' }>> {
  const started = performance.now();
  const signals = [AbortSignal.timeout(timeoutMs), ...(call.signal ? [call.signal] : [])];
  const system = call.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const request = {
    model,
    ...(system ? { system } : {}),
    messages: call.messages.filter((m) => m.role !== 'system') as ModelMessage[],
    ...(call.tools && Object.keys(call.tools).length > 0 ? { tools: toolSetOf(call.tools) } : {}),
    maxRetries: 0,
    abortSignal: AbortSignal.any(signals),
  };
  const result = call.onTextDelta ? await streamedText(request, call.onTextDelta) : await generateText(request);
  const toolCalls = result.toolCalls.map((c) => ({ toolName: c.toolName, input: c.input as unknown }));
  return {
    kind: 'answer',
    text: result.text.trim() || (toolCalls.length > 0 ? '' : '(The model returned an empty answer.)'),
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
    model: model.modelId,
    usage: { inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0 },
    latencyMs: Math.round(performance.now() - started),
  };
}

type Request = Parameters<typeof generateText>[0] & { abortSignal: AbortSignal };

/**
 * streamText, passing text on as it arrives, with the same result as generateText (text, tool
 * calls, the step's usage). Text after a tool call started is not passed on: it is not an answer.
 */
async function streamedText(
  request: Request,
  onTextDelta: (delta: string) => void,
): Promise<{ text: string; toolCalls: Array<{ toolName: string; input: unknown }>; usage: LanguageModelUsage }> {
  // onError: the default prints the error (it can quote the prompt); it is thrown below instead.
  const result = streamText({ ...request, onError: () => {} });
  let tools = false;
  for await (const part of result.fullStream) {
    if (part.type === 'error') throw part.error;
    if (part.type === 'abort') throw request.abortSignal.reason ?? new Error('the model call was aborted');
    if (part.type === 'tool-input-start' || part.type === 'tool-call') tools = true;
    if (part.type === 'text-delta' && part.text && !tools) onTextDelta(part.text);
  }
  return { text: await result.text, toolCalls: await result.toolCalls, usage: await result.usage };
}

/**
 * A zod schema's AI SDK form, kept per schema: the SDK converts it to JSON schema once per
 * Schema object, and the same tool schemas are offered on every call.
 */
const converted = new WeakMap<object, Schema>();
function schemaOf(input: unknown): Schema {
  if (typeof (input as { safeParse?: unknown } | null)?.safeParse !== 'function') return jsonSchema(input as never);
  let schema = converted.get(input as object);
  if (!schema) converted.set(input as object, (schema = zodSchema(input as never)));
  return schema;
}

/** Tools without execute: generateText stops at the tool calls and the core runs them. */
function toolSetOf(tools: Record<string, ToolSpec>): ToolSet {
  const set: ToolSet = {};
  // A zod schema goes in as is; anything else is taken as a JSON schema.
  for (const [name, spec] of Object.entries(tools)) set[name] = tool({ description: spec.description, inputSchema: schemaOf(spec.inputSchema) as never });
  return set;
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
