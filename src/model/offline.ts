/**
 * The `offline` provider: a deterministic stand-in that needs no network. It says plainly that
 * no AI was called and reflects what it was asked, so the product can be tried and tested.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';

export const OFFLINE_MODEL_ID = 'quorum-offline-1';

/** Rough token count (≈4 characters a token), used for budgets and usage with the offline model. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

interface PromptText {
  system: string[];
  turns: { role: string; text: string }[];
  /** The last user turn's text, trimmed. */
  question: string;
  /** The tool results the prompt ends with (answers to the model's last calls), or null when it ends otherwise. */
  results: string[] | null;
}

/** The prompt as text, read once per call (the answer, the tool calls and the usage all need it). */
function promptText(options: LanguageModelV3CallOptions): PromptText {
  const system: string[] = [];
  const turns: { role: string; text: string }[] = [];
  let question = '';
  for (const message of options.prompt) {
    if (message.role === 'system') {
      system.push(message.content);
      continue;
    }
    let text = '';
    for (const part of message.content) {
      if (part.type === 'text') text += part.text;
      else if (part.type === 'tool-result') text += part.output.type === 'text' ? part.output.value : JSON.stringify(part.output);
    }
    turns.push({ role: message.role, text });
    if (message.role === 'user') question = text;
  }
  const last = options.prompt.at(-1);
  const results =
    last?.role === 'tool'
      ? last.content.flatMap((p) => (p.type === 'tool-result' ? [`${p.toolName}: ${p.output.type === 'text' ? p.output.value : JSON.stringify(p.output)}`] : []))
      : null;
  return { system, turns, question: question.trim(), results };
}

/** Words that make the offline model ask for a tool whose name or description holds the same word. */
const TOOL_WORDS = ['summarize', 'search', 'remember', 'recall', 'status', 'draft', 'create'];

/** Of the tools that hold the trigger word, the one that shares the most other words with the request (first on a tie). */
function bestMatch<T extends { name: string; description?: string | undefined }>(tools: T[], word: string, part: string): T | undefined {
  const words = part.toLowerCase().split(/\W+/).filter((w) => w.length > 3 && w !== word);
  let best: T | undefined;
  let bestScore = -1;
  for (const t of tools) {
    const text = `${t.name} ${t.description ?? ''}`.toLowerCase();
    if (!text.includes(word)) continue;
    const score = words.filter((w) => text.includes(w)).length;
    if (score > bestScore) [best, bestScore] = [t, score];
  }
  return best;
}

/**
 * Deterministic tool calling: when tools are offered and the request (split on " and ") names
 * one of TOOL_WORDS, ask for the matching tool with each string field set to that part of the
 * request. A prompt that already carries results is answered with text, so no loop forms.
 */
export function offlineToolCalls(options: LanguageModelV3CallOptions, prompt = promptText(options)): { toolName: string; input: Record<string, string> }[] {
  const tools = (options.tools ?? []).filter((t) => t.type === 'function');
  if (tools.length === 0) return [];
  const { question } = prompt;
  // A prompt that ends with results (or that may not call tools) is answered with text, so no loop forms.
  if (prompt.results || options.toolChoice?.type === 'none') return [];
  const calls: { toolName: string; input: Record<string, string> }[] = [];
  for (const part of question.split(/\s+and\s+/i)) {
    const lower = part.toLowerCase();
    const word = TOOL_WORDS.find((w) => lower.includes(w));
    if (!word) continue;
    const match = bestMatch(tools, word, lower);
    if (!match) continue;
    const schema = match.inputSchema as { properties?: Record<string, { type?: string }>; required?: string[] };
    // A tool named for the word (search_history for "search") gets the rest of the request as
    // its input; a delegate chosen by its description gets the whole part, trigger word included.
    const value = match.name.toLowerCase().split(/[._]/).includes(word) ? part.replace(new RegExp(word, 'i'), '').trim() || part.trim() : part.trim();
    const input: Record<string, string> = {};
    for (const key of schema.required ?? []) if (schema.properties?.[key]?.type === 'string') input[key] = value;
    calls.push({ toolName: match.name, input });
  }
  return calls;
}

export function offlineAnswer(options: LanguageModelV3CallOptions, prompt = promptText(options)): string {
  const { turns, question } = prompt;
  if (prompt.results) {
    const found = prompt.results.join('\n\n').trim();
    return `(Offline model: a local stand-in, no AI was called.) Here is what the steps found:\n${found.length > 1500 ? `${found.slice(0, 1500)}…` : found}`;
  }
  const earlier = turns.length - 1;
  const quoted = question.length > 300 ? `${question.slice(0, 300)}…` : question;
  return [
    `(Offline model: a local stand-in, no AI was called.) You asked: "${quoted}".`,
    earlier > 0
      ? `I can see ${earlier} earlier message${earlier === 1 ? '' : 's'} in this conversation.`
      : 'This is the start of our conversation.',
    'Set MODEL_PROVIDER to openai or anthropic for real answers.',
  ].join(' ');
}

function usageOf({ system, turns }: PromptText, answer: string): LanguageModelV3Usage {
  // The length of every part joined with newlines, without building the string.
  let length = system.length + turns.length - 1;
  for (const text of system) length += text.length;
  for (const turn of turns) length += turn.text.length;
  const input = Math.max(1, Math.ceil(length / 4));
  const output = estimateTokens(answer);
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}

/** What the offline model answers: tool calls when it asks for tools, else the text. */
function offlineReply(options: LanguageModelV3CallOptions): { content: LanguageModelV3Content[]; text: string; usage: LanguageModelV3Usage; toolCalls: boolean } {
  const prompt = promptText(options);
  const calls = offlineToolCalls(options, prompt);
  if (calls.length > 0) {
    const content: LanguageModelV3Content[] = calls.map((c, i) => ({
      type: 'tool-call',
      toolCallId: `offline-${i}`,
      toolName: c.toolName,
      input: JSON.stringify(c.input),
    }));
    return { content, text: '', usage: usageOf(prompt, JSON.stringify(calls)), toolCalls: true };
  }
  const text = offlineAnswer(options, prompt);
  return { content: [{ type: 'text', text }], text, usage: usageOf(prompt, text), toolCalls: false };
}

/** The pieces the offline model streams an answer in: about four words each, always the same for the same text. */
export function offlineDeltas(text: string): string[] {
  const words = text.split(/(?<= )/);
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += 4) pieces.push(words.slice(i, i + 4).join(''));
  return pieces;
}

export function createOfflineModel(modelId = OFFLINE_MODEL_ID): LanguageModelV3 {
  return {
    specificationVersion: 'v3',
    provider: 'offline',
    modelId,
    supportedUrls: {},
    async doGenerate(options): Promise<LanguageModelV3GenerateResult> {
      const reply = offlineReply(options);
      return {
        content: reply.content,
        finishReason: reply.toolCalls ? { unified: 'tool-calls', raw: 'tool_calls' } : { unified: 'stop', raw: 'stop' },
        usage: reply.usage,
        warnings: [],
      };
    },
    async doStream(options) {
      const reply = offlineReply(options);
      const parts: LanguageModelV3StreamPart[] = [{ type: 'stream-start', warnings: [] }];
      if (reply.toolCalls) {
        for (const part of reply.content) if (part.type === 'tool-call') parts.push(part);
      } else {
        parts.push({ type: 'text-start', id: 't0' });
        for (const delta of offlineDeltas(reply.text)) parts.push({ type: 'text-delta', id: 't0', delta });
        parts.push({ type: 'text-end', id: 't0' });
      }
      parts.push({
        type: 'finish',
        finishReason: reply.toolCalls ? { unified: 'tool-calls', raw: 'tool_calls' } : { unified: 'stop', raw: 'stop' },
        usage: reply.usage,
      });
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      });
      return { stream };
    },
  };
}
