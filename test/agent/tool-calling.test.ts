/**
 * The gate's single-attempt primitive passes tools to the AI SDK without execute and returns
 * the tool calls; the offline model answers them deterministically (zod or JSON schema).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callModel } from '../../src/model/model-call.js';
import { createOfflineModel } from '../../src/model/offline.js';

const model = createOfflineModel();
const searchJson = {
  description: 'Search earlier messages.',
  inputSchema: { type: 'object', properties: { query: { type: 'string' }, channel: { type: 'string' } }, required: ['query'] },
};

describe('tool calling through callModel with the offline model', () => {
  it('returns tool calls for a JSON-schema tool, with the rest of the request as input', async () => {
    const out = await callModel(model, { messages: [{ role: 'user', content: 'search launch dates' }], tools: { search_history: searchJson } }, 5_000);
    expect(out.toolCalls).toEqual([{ id: 'offline-0', toolName: 'search_history', input: { query: 'launch dates' } }]);
  });

  it('returns one call per part of an "and" request, for zod-schema tools chosen by description', async () => {
    const task = { description: '', inputSchema: z.object({ task: z.string() }) };
    const out = await callModel(
      model,
      {
        messages: [{ role: 'user', content: 'summarize the thread and draft a note' }],
        tools: {
          researcher: { ...task, description: 'Searches and summarizes history.' },
          writer: { ...task, description: 'Writes a draft.' },
        },
      },
      5_000,
    );
    expect(out.toolCalls).toEqual([
      { id: 'offline-0', toolName: 'researcher', input: { task: 'summarize the thread' } },
      { id: 'offline-1', toolName: 'writer', input: { task: 'draft a note' } },
    ]);
  });

  it('answers with text when no tool fits, when no tools are offered, and once results are in', async () => {
    const noFit = await callModel(model, { messages: [{ role: 'user', content: 'hello' }], tools: { search_history: searchJson } }, 5_000);
    expect(noFit.toolCalls).toBeUndefined();
    expect(noFit.text).toContain('You asked: "hello"');
    const noTools = await callModel(model, { messages: [{ role: 'user', content: 'search launch' }] }, 5_000);
    expect(noTools.toolCalls).toBeUndefined();
    const results = await callModel(
      model,
      {
        messages: [
          { role: 'user', content: 'search launch' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'c1', toolName: 'search_history', input: { query: 'launch' } }] },
          { role: 'tool', toolCallId: 'c1', toolName: 'search_history', content: 'found it' },
        ],
        tools: { search_history: searchJson },
      },
      5_000,
    );
    expect(results.toolCalls).toBeUndefined();
    expect(results.text).toContain('search_history: found it');
  });
});
