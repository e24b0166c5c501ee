/**
 * A fake OpenAI-compatible chat-completions server on 127.0.0.1, scripted per request: a normal
 * answer with usage (optionally slow), an HTTP error (429 with Retry-After, 500), or a hang.
 * A request with `stream: true` gets the answer as server-sent chunks of a few words (usage in
 * the last chunk when asked for), and `broken` cuts the connection after some chunks.
 * It records every request with its model, arrival time and tag (the `[tag]` in the last user
 * message), and the highest number of requests in flight at once, overall and per tag.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'answer'; text?: string; delayMs?: number; promptTokens?: number; completionTokens?: number }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  /** Streams `afterChunks` chunks of `text`, then drops the connection (a stream that breaks midway). */
  | { kind: 'broken'; text: string; afterChunks: number };

export interface FakeRequest {
  index: number;
  model: string;
  tag: string;
  text: string;
  at: number;
  /** The client asked for a streamed answer. */
  stream: boolean;
}

export type Script = (request: FakeRequest) => Behaviour;

export class FakeOpenAIServer {
  readonly requests: FakeRequest[] = [];
  /** Usage reported in successful answers, summed. */
  reported = { promptTokens: 0, completionTokens: 0, answers: 0 };
  maxInFlight = 0;
  readonly maxInFlightByTag = new Map<string, number>();
  private inFlight = 0;
  private readonly inFlightByTag = new Map<string, number>();
  private server: Server | null = null;
  private port = 0;

  constructor(public script: Script = () => ({ kind: 'answer' })) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Forgets recorded requests and peaks (between tests). */
  reset(): void {
    this.requests.length = 0;
    this.reported = { promptTokens: 0, completionTokens: 0, answers: 0 };
    this.maxInFlight = 0;
    this.maxInFlightByTag.clear();
    this.script = () => ({ kind: 'answer' });
  }

  requestsFor(model: string): FakeRequest[] {
    return this.requests.filter((r) => r.model === model);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      model: string;
      messages: Array<{ role: string; content: string | Array<{ type: string; text?: string }> }>;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const last = [...body.messages].reverse().find((m) => m.role === 'user');
    const text = typeof last?.content === 'string' ? last.content : (last?.content ?? []).map((p) => p.text ?? '').join('');
    const tag = /\[([\w-]+)\]/.exec(text)?.[1] ?? '';
    const request: FakeRequest = { index: this.requests.length, model: body.model, tag, text, at: Date.now(), stream: body.stream === true };
    this.requests.push(request);
    const behaviour = this.script(request);

    this.enter(tag);
    // Leave before the answer is written: the client can start its next call as soon as it has
    // the answer, and counting that as overlap would be the server's lag, not the gate's.
    let left = false;
    const leave = () => {
      if (!left) this.leave(tag);
      left = true;
    };
    res.on('close', leave);
    if (behaviour.kind === 'hang') return; // never answers; stop() cuts the socket
    if (behaviour.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (behaviour.retryAfter !== undefined) headers['retry-after'] = behaviour.retryAfter;
      leave();
      res.writeHead(behaviour.status, headers).end(JSON.stringify({ error: { message: `scripted ${behaviour.status}`, type: 'fake' } }));
      return;
    }
    if (behaviour.kind === 'broken') {
      leave();
      this.streamAnswer(res, request.index, body.model, behaviour.text, { cutAfter: behaviour.afterChunks });
      return;
    }
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    const promptTokens = behaviour.promptTokens ?? 10;
    const completionTokens = behaviour.completionTokens ?? 5;
    this.reported.promptTokens += promptTokens;
    this.reported.completionTokens += completionTokens;
    this.reported.answers++;
    leave();
    const answerText = behaviour.text ?? `answer ${request.index} from ${body.model}`;
    if (request.stream) {
      const usage = body.stream_options?.include_usage ? { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } : null;
      this.streamAnswer(res, request.index, body.model, answerText, { usage });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: `chatcmpl-${request.index}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: answerText }, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      }),
    );
  }

  /** Server-sent chat.completion.chunk events, three words each; `cutAfter` drops the socket after that many. */
  private streamAnswer(
    res: ServerResponse,
    index: number,
    model: string,
    text: string,
    options: { usage?: Record<string, number> | null; cutAfter?: number },
  ): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ id: `chatcmpl-${index}`, object: 'chat.completion.chunk', created: 1, model, choices, ...extra })}\n\n`);
    const words = text.split(/(?<= )/);
    const pieces: string[] = [];
    for (let i = 0; i < words.length; i += 3) pieces.push(words.slice(i, i + 3).join(''));
    for (const [i, piece] of pieces.entries()) {
      if (options.cutAfter !== undefined && i >= options.cutAfter) {
        // Let the written chunks reach the client, then drop the connection mid-answer.
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      event([{ index: 0, delta: i === 0 ? { role: 'assistant', content: piece } : { content: piece }, finish_reason: null }]);
    }
    event([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    if (options.usage) event([], { usage: options.usage });
    res.end('data: [DONE]\n\n');
  }

  private enter(tag: string): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const n = (this.inFlightByTag.get(tag) ?? 0) + 1;
    this.inFlightByTag.set(tag, n);
    this.maxInFlightByTag.set(tag, Math.max(this.maxInFlightByTag.get(tag) ?? 0, n));
  }

  private leave(tag: string): void {
    this.inFlight--;
    this.inFlightByTag.set(tag, (this.inFlightByTag.get(tag) ?? 1) - 1);
  }
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
