/**
 * A fake OpenAI-compatible chat-completions server on 127.0.0.1 (see provider-server.ts for the
 * scripting and what it records). A streamed answer comes as chat.completion.chunk events, usage
 * in the last chunk when the client asked for it (stream_options.include_usage).
 */
import { FakeProviderServer, type FakeToolCall, type RequestBody, type Usage } from './provider-server.js';

export type { Behaviour, FakeRequest, FakeToolCall, Script } from './provider-server.js';

export class FakeOpenAIServer extends FakeProviderServer {
  protected readonly path = '/chat/completions';
  /** Requests to /embeddings: the model and the texts. */
  readonly embeddings: { model: string; input: string[] }[] = [];

  /**
   * /embeddings: a deterministic vector per text, its words hashed into DIMENSIONS buckets after
   * SYNONYMS map each to its group's first word, so "automobile" lands where "car" does: a search
   * can find by meaning what shares no word with it.
   */
  protected override otherRoute(url: string, body: unknown): unknown {
    if (!url.endsWith('/embeddings')) return undefined;
    const { model, input } = body as { model: string; input: string | string[] };
    const texts = Array.isArray(input) ? input : [input];
    this.embeddings.push({ model, input: texts });
    return {
      object: 'list',
      data: texts.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t) })),
      model,
      usage: { prompt_tokens: texts.length, total_tokens: texts.length },
    };
  }

  protected errorBody(status: number) {
    return { error: { message: `scripted ${status}`, type: 'fake' } };
  }

  protected answerBody(index: number, model: string, text: string, usage: Usage, toolCalls: FakeToolCall[]) {
    const calls = toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    const message = calls.length ? { role: 'assistant', content: text || null, tool_calls: calls } : { role: 'assistant', content: text };
    return {
      id: `chatcmpl-${index}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, finish_reason: calls.length ? 'tool_calls' : 'stop' }],
      usage: usageOf(usage),
    };
  }

  protected streamUsage(body: RequestBody) {
    return (body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage === true;
  }

  protected streamStart() {
    return '';
  }

  protected streamPiece(index: number, model: string, piece: string, position: number) {
    return chunk(index, model, [{ index: 0, delta: position === 0 ? { role: 'assistant', content: piece } : { content: piece }, finish_reason: null }]);
  }

  protected streamEnd(index: number, model: string, usage: Usage | null) {
    const finish = chunk(index, model, [{ index: 0, delta: {}, finish_reason: 'stop' }]);
    return `${finish}${usage ? chunk(index, model, [], { usage: usageOf(usage) }) : ''}data: [DONE]\n\n`;
  }

  protected streamToolCalls(index: number, model: string, text: string, toolCalls: FakeToolCall[], usage: Usage | null) {
    const calls = toolCalls.map((c, i) => ({ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    const delta = { role: 'assistant', ...(text ? { content: text } : {}), tool_calls: calls };
    const finish = chunk(index, model, [{ index: 0, delta: {}, finish_reason: 'tool_calls' }]);
    return `${chunk(index, model, [{ index: 0, delta, finish_reason: null }])}${finish}${usage ? chunk(index, model, [], { usage: usageOf(usage) }) : ''}data: [DONE]\n\n`;
  }
}

function usageOf(usage: Usage) {
  return { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output };
}

function chunk(index: number, model: string, choices: unknown[], extra: Record<string, unknown> = {}): string {
  return `data: ${JSON.stringify({ id: `chatcmpl-${index}`, object: 'chat.completion.chunk', created: 1, model, choices, ...extra })}\n\n`;
}

/** Most requests (of those given) that arrived within any window of `windowMs`. */
export function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** Words that mean the same to the fake embedding model (each maps to the first of its group). */
const SYNONYMS = [
  ['car', 'automobile', 'vehicle', 'sedan'],
  ['doctor', 'physician', 'medic'],
  ['invoice', 'bill', 'receipt'],
];
const CANONICAL = new Map(SYNONYMS.flatMap((group) => group.map((word) => [word, group[0]!] as const)));
export const FAKE_EMBEDDING_DIMENSIONS = 32;

/** The fake model's vector of a text: its (canonical) words counted into hashed buckets. */
export function fakeEmbedding(text: string): number[] {
  const v = new Array<number>(FAKE_EMBEDDING_DIMENSIONS).fill(0);
  for (const raw of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const word = CANONICAL.get(raw) ?? raw;
    v[[...word].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % FAKE_EMBEDDING_DIMENSIONS, 7)]! += 1;
  }
  return v;
}
