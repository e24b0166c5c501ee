/**
 * One step against a provider's LanguageModelV3, without the AI SDK's generateText/streamText
 * around it. Those check the prompt against the SDK's whole message schema on every call (a fresh
 * zod array each time, so zod walks the schema tree again) and build telemetry spans: about as
 * much CPU as the rest of a turn's model call. Our prompt is built by the core from plain strings,
 * so it needs no checking; what the SDK adds that we use is here: the prompt in the provider's
 * form, tools as JSON schema, tool calls parsed as the SDK parses them, and usage.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FunctionTool,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { InvalidResponseDataError } from '@ai-sdk/provider';
import { jsonSchema, safeParseJSON, safeValidateTypes, zodSchema, type Schema } from '@ai-sdk/provider-utils';
import type { PromptMessage, TokenUsage, ToolCall, ToolSpec } from '../core/ports.js';

export interface StepRequest {
  messages: PromptMessage[];
  tools?: Record<string, ToolSpec> | undefined;
  toolChoice?: 'auto' | 'none' | undefined;
  /** The most output the provider may produce (set when a budget or the tpm limit applies). */
  maxOutputTokens?: number | undefined;
  abortSignal: AbortSignal;
}

export interface StepResult {
  text: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
}

/**
 * System messages joined, first (as generateText's `system`); user text as text parts (and a
 * user's pictures as file parts); an
 * assistant's tool calls as `tool-call` parts with their ids; tool results as `tool-result`
 * parts naming the call they answer (consecutive results in one `tool` message, as the SDK does),
 * which each provider sends in its own protocol.
 */
export function promptOf(messages: PromptMessage[], wire: (name: string) => string = (n) => n): LanguageModelV3Prompt {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const prompt: LanguageModelV3Prompt = system ? [{ role: 'system', content: system }] : [];
  for (const m of messages) {
    if (m.role === 'user') {
      // Pictures follow the text they belong to, as file parts (each provider sends its image form).
      const images = (m.images ?? []).map((i) => ({ type: 'file' as const, mediaType: i.mediaType, data: i.data }));
      prompt.push({ role: 'user', content: [{ type: 'text', text: m.content }, ...images] });
    }
    else if (m.role === 'assistant') {
      const calls = (m.toolCalls ?? []).filter((c): c is ToolCall & { id: string } => typeof c.id === 'string');
      prompt.push({
        role: 'assistant',
        content: [
          ...(m.content || calls.length === 0 ? [{ type: 'text' as const, text: m.content }] : []),
          ...calls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: wire(c.toolName), input: c.input ?? {} })),
        ],
      });
    } else if (m.role === 'tool') {
      const part = { type: 'tool-result' as const, toolCallId: m.toolCallId, toolName: wire(m.toolName), output: { type: 'text' as const, value: m.content } };
      const last = prompt.at(-1);
      if (last?.role === 'tool') last.content.push(part);
      else prompt.push({ role: 'tool', content: [part] });
    }
  }
  return prompt;
}

/**
 * A tool's input schema in the SDK's form, kept per schema object: a zod schema is converted to
 * JSON schema once (the same tool schemas are offered on every call); anything else is taken as
 * a JSON schema.
 */
const converted = new WeakMap<object, Schema>();
function schemaOf(input: unknown): Schema {
  if (typeof (input as { safeParse?: unknown } | null)?.safeParse !== 'function') return jsonSchema(input as never);
  let schema = converted.get(input as object);
  if (!schema) converted.set(input as object, (schema = zodSchema(input as never)));
  return schema;
}

interface PreparedTools {
  tools: LanguageModelV3FunctionTool[];
  schemas: Map<string, Schema>;
  names: ToolNames;
}

/**
 * OpenAI and Anthropic take tool names of `[a-zA-Z0-9_-]{1,64}` only; connected tools are named
 * `connection.tool`. Each call maps the names it sends (offered tools, then those in the prompt's
 * history) to safe ones, unique within the call, and maps the model's calls back; a name the
 * model made up passes through unchanged, for the core to refuse.
 */
export interface ToolNames {
  toWire(name: string): string;
  fromWire(name: string): string;
}

const SAFE_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function toolNamesFor(request: Pick<StepRequest, 'tools' | 'messages'>): ToolNames {
  const wire = new Map<string, string>();
  const original = new Map<string, string>();
  const add = (name: string) => {
    if (wire.has(name)) return;
    const base = SAFE_TOOL_NAME.test(name) ? name : name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 60) || 'tool';
    let safe = base;
    for (let n = 2; original.has(safe); n++) safe = `${base.slice(0, 60)}_${n}`;
    wire.set(name, safe);
    original.set(safe, name);
  };
  // Names that are already safe keep themselves first, so that a renamed one never takes theirs.
  const names = [...Object.keys(request.tools ?? {}), ...request.messages.flatMap((m) => (m.role === 'assistant' ? (m.toolCalls ?? []).map((c) => c.toolName) : m.role === 'tool' ? [m.toolName] : []))];
  for (const name of names) if (SAFE_TOOL_NAME.test(name)) add(name);
  for (const name of names) add(name);
  return { toWire: (name) => wire.get(name) ?? name, fromWire: (name) => original.get(name) ?? name };
}

function prepareTools(request: StepRequest): PreparedTools {
  const names = toolNamesFor(request);
  const prepared: PreparedTools = { tools: [], schemas: new Map(), names };
  for (const [name, spec] of Object.entries(request.tools ?? {})) {
    const schema = schemaOf(spec.inputSchema);
    prepared.schemas.set(name, schema);
    prepared.tools.push({ type: 'function', name: names.toWire(name), description: spec.description, inputSchema: schema.jsonSchema as never });
  }
  return prepared;
}

function callOptions(request: StepRequest, tools: PreparedTools): LanguageModelV3CallOptions {
  return {
    prompt: promptOf(request.messages, tools.names.toWire),
    ...(tools.tools.length > 0 ? { tools: tools.tools, toolChoice: { type: request.toolChoice ?? 'auto' } } : {}),
    ...(request.maxOutputTokens !== undefined ? { maxOutputTokens: request.maxOutputTokens } : {}),
    abortSignal: request.abortSignal,
  };
}

/**
 * As the SDK parses a tool call: the input checked against the tool's schema (an empty input is
 * `{}`); a call that does not fit (unknown tool, bad JSON, wrong shape) is still returned, with
 * its input as JSON or as the raw text, for the core to refuse.
 */
async function parseToolCall(call: RawToolCall, schemas: Map<string, Schema> | undefined): Promise<ToolCall> {
  const id = call.toolCallId;
  const schema = schemas?.get(call.toolName);
  if (schema) {
    const parsed = call.input.trim() === '' ? await safeValidateTypes({ value: {}, schema }) : await safeParseJSON({ text: call.input, schema });
    if (parsed.success) return { id, toolName: call.toolName, input: parsed.value };
  }
  const raw = await safeParseJSON({ text: call.input });
  return { id, toolName: call.toolName, input: raw.success ? raw.value : call.input };
}

type RawToolCall = { toolCallId: string; toolName: string; input: string };

function usageOf(usage: LanguageModelV3Usage | undefined): TokenUsage {
  return { inputTokens: usage?.inputTokens.total ?? 0, outputTokens: usage?.outputTokens.total ?? 0 };
}

async function toolCallsOf(parts: RawToolCall[], tools: PreparedTools): Promise<ToolCall[]> {
  const calls: ToolCall[] = [];
  for (const part of parts) calls.push(await parseToolCall({ ...part, toolName: tools.names.fromWire(part.toolName) }, tools.schemas));
  return calls;
}

/** One step, whole. Throws what the provider threw. */
export async function generateStep(model: LanguageModelV3, request: StepRequest): Promise<StepResult> {
  const tools = prepareTools(request);
  const result = await model.doGenerate(callOptions(request, tools));
  let text = '';
  const calls: RawToolCall[] = [];
  for (const part of result.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'tool-call' && !part.providerExecuted) calls.push(part);
  }
  return { text, toolCalls: await toolCallsOf(calls, tools), usage: usageOf(result.usage) };
}

/**
 * One step, streamed: text goes to `onTextDelta` as it arrives, until a tool call starts (text
 * after that is not an answer). Same result as `generateStep`. An error part, a broken stream or
 * the abort signal ends it with a throw.
 */
export async function streamStep(model: LanguageModelV3, request: StepRequest, onTextDelta: (delta: string) => void): Promise<StepResult> {
  const tools = prepareTools(request);
  const signal = request.abortSignal;
  const { stream } = await model.doStream({ ...callOptions(request, tools), includeRawChunks: false });
  const reader = stream.getReader();
  // A provider stream that ignores the signal still ends when it fires.
  const stop = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener('abort', stop, { once: true });
  let text = '';
  const calls: RawToolCall[] = [];
  let usage: LanguageModelV3Usage | undefined;
  let toolStarted = false;
  let finished = false;
  let sawFinish = false;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<LanguageModelV3StreamPart>;
      try {
        next = await reader.read();
      } catch (err) {
        throw signal.aborted ? (signal.reason ?? err) : err;
      }
      if (signal.aborted) throw signal.reason ?? new Error('the model call was aborted');
      if (next.done) break;
      const part = next.value;
      if (part.type === 'error') throw part.error;
      if (part.type === 'text-delta') {
        text += part.delta;
        if (part.delta && !toolStarted) onTextDelta(part.delta);
      } else if (part.type === 'tool-input-start') {
        toolStarted = true;
      } else if (part.type === 'tool-call') {
        toolStarted = true;
        if (!part.providerExecuted) calls.push(part);
      } else if (part.type === 'finish') {
        usage = part.usage;
        sawFinish = true;
      }
    }
    finished = true;
  } finally {
    signal.removeEventListener('abort', stop);
    // Broken off (an error part, a throw in onTextDelta): the provider's response is not read further.
    if (!finished) void reader.cancel().catch(() => {});
  }
  // A body that held no event of the API's stream (or stopped before its end) is not an empty answer.
  if (!sawFinish) {
    throw new InvalidResponseDataError({ data: null, message: 'the model stream ended without its closing event' });
  }
  return { text, toolCalls: await toolCallsOf(calls, tools), usage: usageOf(usage) };
}
