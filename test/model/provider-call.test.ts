/**
 * callModel talks to the provider's LanguageModelV3 without generateText/streamText: the provider
 * must see the same request, and the caller get the same text, tool calls and usage, as through
 * the AI SDK (which is the reference here).
 */
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3Content, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { generateText, jsonSchema, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { PromptMessage, ToolSpec } from '../../src/core/ports.js';
import { callModel } from '../../src/model/model-call.js';

const usage = {
  inputTokens: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 7, text: 7, reasoning: 0 },
};

/** A provider that answers from a script and keeps the options of every call. */
function scriptedModel(content: LanguageModelV3Content[], parts?: LanguageModelV3StreamPart[] | ReadableStream<LanguageModelV3StreamPart>) {
  const seen: LanguageModelV3CallOptions[] = [];
  const model: LanguageModelV3 = {
    specificationVersion: 'v3',
    provider: 'scripted',
    modelId: 'scripted-1',
    supportedUrls: {},
    async doGenerate(options) {
      seen.push(options);
      return { content, finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
    },
    async doStream(options) {
      seen.push(options);
      if (parts instanceof ReadableStream) return { stream: parts };
      return {
        stream: new ReadableStream({
          start(controller) {
            for (const part of parts ?? []) controller.enqueue(part);
            controller.close();
          },
        }),
      };
    },
  };
  return { model, seen };
}

const messages: PromptMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'earlier question' },
  { role: 'assistant', content: 'earlier answer' },
  { role: 'system', content: 'Delegate when useful.' },
  { role: 'user', content: 'plan the launch' },
];
const task = z.object({ task: z.string().min(1) });
const notes = { type: 'object', properties: { note: { type: 'string' } }, required: ['note'] };
const tools: Record<string, ToolSpec> = {
  researcher: { description: 'Finds things.', inputSchema: task },
  notes: { description: 'Keeps notes.', inputSchema: notes },
};

const toolCall = (toolName: string, input: string, id = toolName): LanguageModelV3Content => ({ type: 'tool-call', toolCallId: id, toolName, input });

/** What the AI SDK made of the same provider answer, as callModel reports it. */
async function throughSdk(model: LanguageModelV3) {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const result = await generateText({
    model,
    system,
    messages: messages.filter((m) => m.role !== 'system') as never,
    tools: {
      researcher: tool({ description: 'Finds things.', inputSchema: task }),
      notes: tool({ description: 'Keeps notes.', inputSchema: jsonSchema(notes as never) }),
    },
    maxRetries: 0,
  });
  return {
    text: result.text,
    toolCalls: result.toolCalls.map((c) => ({ id: c.toolCallId, toolName: c.toolName, input: c.input as unknown })),
    usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
  };
}

describe('callModel against a provider, without the AI SDK in between', () => {
  it('sends the provider the request the AI SDK sends: system first, text parts, tools as JSON schema', async () => {
    const ours = scriptedModel([{ type: 'text', text: 'ok' }]);
    const sdk = scriptedModel([{ type: 'text', text: 'ok' }]);
    await callModel(ours.model, { messages, tools }, 5_000);
    await throughSdk(sdk.model);
    const [mine, reference] = [ours.seen[0]!, sdk.seen[0]!];
    expect(mine.prompt).toEqual(reference.prompt);
    expect(mine.prompt[0]).toEqual({ role: 'system', content: 'You are terse.\n\nDelegate when useful.' });
    expect(mine.tools).toEqual(reference.tools);
    expect(mine.toolChoice).toEqual({ type: 'auto' });
    expect(mine.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('sends earlier tool calls and their results as the SDK does: tool-call parts and tool-result parts tied by id', async () => {
    const withTools: PromptMessage[] = [
      ...messages,
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_a', toolName: 'researcher', input: { task: 'dates' } }, { id: 'call_b', toolName: 'notes', input: { note: 'x' } }] },
      { role: 'tool', toolCallId: 'call_a', toolName: 'researcher', content: 'found: Friday' },
      { role: 'tool', toolCallId: 'call_b', toolName: 'notes', content: 'Noted.' },
    ];
    const ours = scriptedModel([{ type: 'text', text: 'ok' }]);
    const sdk = scriptedModel([{ type: 'text', text: 'ok' }]);
    await callModel(ours.model, { messages: withTools, tools, toolChoice: 'none' }, 5_000);
    await generateText({
      model: sdk.model,
      system: 'You are terse.\n\nDelegate when useful.',
      messages: [
        ...(messages.filter((m) => m.role !== 'system') as never[]),
        {
          role: 'assistant',
          content: [
            { type: 'tool-call', toolCallId: 'call_a', toolName: 'researcher', input: { task: 'dates' } },
            { type: 'tool-call', toolCallId: 'call_b', toolName: 'notes', input: { note: 'x' } },
          ],
        },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'call_a', toolName: 'researcher', output: { type: 'text', value: 'found: Friday' } },
            { type: 'tool-result', toolCallId: 'call_b', toolName: 'notes', output: { type: 'text', value: 'Noted.' } },
          ],
        },
      ],
      tools: {
        researcher: tool({ description: 'Finds things.', inputSchema: task }),
        notes: tool({ description: 'Keeps notes.', inputSchema: jsonSchema(notes as never) }),
      },
      toolChoice: 'none',
      maxRetries: 0,
    });
    expect(ours.seen[0]!.prompt).toEqual(sdk.seen[0]!.prompt);
    expect(ours.seen[0]!.toolChoice).toEqual({ type: 'none' });
    expect(ours.seen[0]!.prompt.at(-1)).toMatchObject({ role: 'tool', content: [{ toolCallId: 'call_a' }, { toolCallId: 'call_b' }] });
  });

  it('offers no tools when none are given', async () => {
    const { model, seen } = scriptedModel([{ type: 'text', text: 'ok' }]);
    await callModel(model, { messages, tools: {} }, 5_000);
    expect(seen[0]!.tools).toBeUndefined();
    expect(seen[0]!.toolChoice).toBeUndefined();
  });

  it('returns the text, tool calls and usage the AI SDK returns, bad tool calls included', async () => {
    const content: LanguageModelV3Content[] = [
      { type: 'text', text: 'Let me ' },
      { type: 'reasoning', text: 'not part of the answer' },
      { type: 'text', text: 'check. ' },
      toolCall('researcher', '{"task":"dates","extra":1}'),
      toolCall('researcher', '{"task":""}', 'r2'),
      toolCall('notes', '{"note":"call Ana"}'),
      toolCall('notes', '{not json', 'n2'),
      toolCall('nowhere', '{"task":"x"}'),
      toolCall('researcher', '', 'r3'),
    ];
    const out = await callModel(scriptedModel(content).model, { messages, tools }, 5_000);
    const reference = await throughSdk(scriptedModel(content).model);
    expect(out.toolCalls).toEqual(reference.toolCalls);
    expect(out.toolCalls?.[0]).toEqual({ id: 'researcher', toolName: 'researcher', input: { task: 'dates' } });
    expect(out.text).toBe(reference.text.trim());
    expect(out.usage).toEqual(reference.usage);
    expect(out).toMatchObject({ kind: 'answer', text: 'Let me check.', model: 'scripted-1', usage: { inputTokens: 12, outputTokens: 7 } });
  });

  it('streams text until a tool call starts, and returns the whole step as generate does', async () => {
    const parts: LanguageModelV3StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'Looking ' },
      { type: 'text-delta', id: 't', delta: '' },
      { type: 'text-delta', id: 't', delta: 'it up.' },
      { type: 'tool-input-start', id: 'c1', toolName: 'researcher' },
      { type: 'tool-input-delta', id: 'c1', delta: '{"task":"dates"}' },
      { type: 'tool-input-end', id: 'c1' },
      { type: 'text-delta', id: 't', delta: ' (hidden)' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'researcher', input: '{"task":"dates","extra":1}' },
      { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage },
    ];
    const deltas: string[] = [];
    const out = await callModel(scriptedModel([], parts).model, { messages, tools, onTextDelta: (d) => deltas.push(d) }, 5_000);
    expect(deltas).toEqual(['Looking ', 'it up.']);
    expect(out).toMatchObject({
      text: 'Looking it up. (hidden)',
      toolCalls: [{ toolName: 'researcher', input: { task: 'dates' } }],
      usage: { inputTokens: 12, outputTokens: 7 },
    });
  });

  it('throws the error a stream carries, after the text before it went out', async () => {
    const failure = new Error('upstream broke');
    const parts: LanguageModelV3StreamPart[] = [
      { type: 'text-delta', id: 't', delta: 'Half ' },
      { type: 'error', error: failure },
      { type: 'text-delta', id: 't', delta: 'never' },
    ];
    const deltas: string[] = [];
    await expect(callModel(scriptedModel([], parts).model, { messages, onTextDelta: (d) => deltas.push(d) }, 5_000)).rejects.toBe(failure);
    expect(deltas).toEqual(['Half ']);
  });

  it('a stream that never ends is ended by the caller’s signal', async () => {
    let cancelled = false;
    const endless = new ReadableStream<LanguageModelV3StreamPart>({
      start(controller) {
        controller.enqueue({ type: 'text-delta', id: 't', delta: 'Thinking' });
      },
      cancel() {
        cancelled = true;
      },
    });
    const abort = new AbortController();
    const deltas: string[] = [];
    const pending = callModel(scriptedModel([], endless).model, { messages, signal: abort.signal, onTextDelta: (d) => deltas.push(d) }, 60_000);
    while (deltas.length === 0) await new Promise((r) => setImmediate(r));
    abort.abort(new Error('turn cancelled'));
    await expect(pending).rejects.toThrow('turn cancelled');
    expect(cancelled).toBe(true);
  });
});

describe('tool names on the wire', () => {
  it('sends connected tools under names providers accept, and maps the calls back', async () => {
    const { generateStep } = await import('../../src/model/language-model.js');
    const spec: ToolSpec = { description: 'Searches.', inputSchema: notes };
    const offered: Record<string, ToolSpec> = { 'wiki.search': spec, wiki_search: spec, 'github.delete_repo': spec };
    const history: PromptMessage[] = [
      ...messages,
      { role: 'assistant', content: '', toolCalls: [{ id: 'c0', toolName: 'wiki.search', input: { note: 'x' } }] },
      { role: 'tool', toolCallId: 'c0', toolName: 'wiki.search', content: 'found' },
    ];
    const { model, seen } = scriptedModel([toolCall('wiki_search_2', '{"note":"a"}', 'c1'), toolCall('github_delete_repo', '{"note":"b"}', 'c2'), toolCall('made.up', '{}', 'c3')]);
    const result = await generateStep(model, { messages: history, tools: offered, abortSignal: new AbortController().signal });
    const sent = (seen[0]!.tools ?? []).map((t) => t.name);
    expect(sent.every((n) => /^[a-zA-Z0-9_-]{1,64}$/.test(n))).toBe(true);
    expect(new Set(sent).size).toBe(3);
    // The name that was already safe keeps itself; the dotted one gets another.
    expect(sent).toEqual(['wiki_search_2', 'wiki_search', 'github_delete_repo']);
    const namesInHistory = seen[0]!.prompt.flatMap((m) => (typeof m.content === 'string' ? [] : m.content.map((p) => ('toolName' in p ? p.toolName : null)))).filter(Boolean);
    expect(namesInHistory).toEqual(['wiki_search_2', 'wiki_search_2']);
    expect(result.toolCalls.map((c) => c.toolName)).toEqual(['wiki.search', 'github.delete_repo', 'made.up']);
  });
});
