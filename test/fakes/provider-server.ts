/**
 * The common part of the fake model providers on 127.0.0.1 (OpenAI-compatible, Anthropic),
 * scripted per request: a normal answer with usage (optionally slow), an HTTP error (429 with
 * Retry-After, 500), or a hang. A streamed request gets the answer as server-sent events of a
 * few words each, and `broken` cuts the connection after some of them. Each subclass speaks
 * its provider's wire format; this records every request with its model, arrival time, tag
 * (the `[tag]` in the last user message) and API key, and the highest number of requests in
 * flight at once, overall and per tag.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tool call the fake answers with (not streamed); `arguments` is the raw JSON text, so it can be broken. */
export interface FakeToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type Behaviour =
  | {
      kind: 'answer';
      text?: string;
      toolCalls?: FakeToolCall[];
      delayMs?: number;
      promptTokens?: number;
      /** A number, or 'random': anywhere from 1 up to the request's maximum output (max_tokens), as a model's answers vary. */
      completionTokens?: number | 'random';
    }
  /** A 200 whose body is not what the API promises (a response the client cannot use). */
  | { kind: 'garbage'; body: string }
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
  /** The key the client sent (Authorization: Bearer, or x-api-key). */
  apiKey: string | undefined;
  /** The request body as sent (messages in the provider's own format, tools, tool_choice). */
  body: RequestBody;
  /** The usage the answer reported (absent for errors and hangs). */
  usage?: Usage;
}

export type Script = (request: FakeRequest) => Behaviour;

export interface Usage {
  input: number;
  output: number;
}

/** What a provider's request body has in common: a model, messages and a stream flag. */
export interface RequestBody {
  model: string;
  messages: Array<{ role: string; content: string | null | Array<{ type: string; text?: string }> }>;
  stream?: boolean;
  [field: string]: unknown;
}

export abstract class FakeProviderServer {
  readonly requests: FakeRequest[] = [];
  /** Usage reported in successful answers, summed. */
  reported = { promptTokens: 0, completionTokens: 0, answers: 0 };
  maxInFlight = 0;
  readonly maxInFlightByTag = new Map<string, number>();
  private inFlight = 0;
  private readonly inFlightByTag = new Map<string, number>();
  private server: Server | null = null;
  private port = 0;

  /** The endpoint path below /v1, e.g. /chat/completions. */
  protected abstract readonly path: string;
  protected abstract errorBody(status: number): unknown;
  protected abstract answerBody(index: number, model: string, text: string, usage: Usage, toolCalls: FakeToolCall[]): unknown;
  /** Whether a streamed answer should report its usage. */
  protected abstract streamUsage(body: RequestBody): boolean;
  /** Server-sent events: before the first piece, one piece of text, after the last piece. */
  protected abstract streamStart(index: number, model: string, usage: Usage | null): string;
  protected abstract streamPiece(index: number, model: string, piece: string, position: number): string;
  protected abstract streamEnd(index: number, model: string, usage: Usage | null): string;
  /** A whole streamed response that asks for tools (as a model streaming a step would). */
  protected abstract streamToolCalls(index: number, model: string, text: string, toolCalls: FakeToolCall[], usage: Usage | null): string;

  /** Another endpoint this provider serves (OpenAI's /embeddings): its JSON answer, or undefined when the path is not its. */
  protected otherRoute(_url: string, _body: unknown): unknown {
    return undefined;
  }

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

  /** Most tokens (prompt + completion, as reported) of answered requests that arrived within any window of `windowMs`. */
  busiestTokens(windowMs: number): number {
    const answered = this.requests.filter((r) => r.usage).sort((a, b) => a.at - b.at);
    let best = 0;
    let sum = 0;
    for (let start = 0, end = 0; end < answered.length; end++) {
      sum += answered[end]!.usage!.input + answered[end]!.usage!.output;
      while (answered[end]!.at - answered[start]!.at >= windowMs) {
        sum -= answered[start]!.usage!.input + answered[start]!.usage!.output;
        start++;
      }
      best = Math.max(best, sum);
    }
    return best;
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
    const other = req.method === 'POST' && req.url ? this.otherRoute(req.url, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')) : undefined;
    if (other !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(other));
      return;
    }
    if (req.method !== 'POST' || !req.url?.endsWith(this.path)) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RequestBody;
    const last = [...body.messages].reverse().find((m) => m.role === 'user');
    const text = typeof last?.content === 'string' ? last.content : (last?.content ?? []).map((p) => p.text ?? '').join('');
    const tag = /\[([\w-]+)\]/.exec(text)?.[1] ?? '';
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const apiKey = bearer ?? (req.headers['x-api-key'] as string | undefined);
    const request: FakeRequest = { index: this.requests.length, model: body.model, tag, text, at: Date.now(), stream: body.stream === true, apiKey, body };
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
      res.writeHead(behaviour.status, headers).end(JSON.stringify(this.errorBody(behaviour.status)));
      return;
    }
    if (behaviour.kind === 'garbage') {
      leave();
      res.writeHead(200, { 'content-type': 'application/json' }).end(behaviour.body);
      return;
    }
    if (behaviour.kind === 'broken') {
      leave();
      this.stream(res, request.index, body.model, behaviour.text, { usage: null, cutAfter: behaviour.afterChunks });
      return;
    }
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    const usage = { input: behaviour.promptTokens ?? 10, output: completionOf(behaviour.completionTokens, body) };
    request.usage = usage;
    this.reported.promptTokens += usage.input;
    this.reported.completionTokens += usage.output;
    this.reported.answers++;
    leave();
    const answerText = behaviour.text ?? `answer ${request.index} from ${body.model}`;
    if (request.stream && !behaviour.toolCalls?.length) {
      this.stream(res, request.index, body.model, answerText, { usage: this.streamUsage(body) ? usage : null });
      return;
    }
    if (request.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(this.streamToolCalls(request.index, body.model, behaviour.text ?? '', behaviour.toolCalls!, this.streamUsage(body) ? usage : null));
      return;
    }
    const body200 = this.answerBody(request.index, body.model, behaviour.toolCalls?.length ? (behaviour.text ?? '') : answerText, usage, behaviour.toolCalls ?? []);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body200));
  }

  /** The answer as server-sent events, three words a piece; `cutAfter` drops the socket after that many. */
  private stream(res: ServerResponse, index: number, model: string, text: string, options: { usage: Usage | null; cutAfter?: number }): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(this.streamStart(index, model, options.usage));
    const words = text.split(/(?<= )/);
    const pieces: string[] = [];
    for (let i = 0; i < words.length; i += 3) pieces.push(words.slice(i, i + 3).join(''));
    for (const [i, piece] of pieces.entries()) {
      if (options.cutAfter !== undefined && i >= options.cutAfter) {
        // Let the written pieces reach the client, then drop the connection mid-answer.
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.write(this.streamPiece(index, model, piece, i));
    }
    res.end(this.streamEnd(index, model, options.usage));
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

/** The maximum output the client asked for: OpenAI's max_tokens (or max_completion_tokens), Anthropic's max_tokens. */
export function maxOutputOf(body: RequestBody): number | undefined {
  const value = body.max_tokens ?? body.max_completion_tokens;
  return typeof value === 'number' ? value : undefined;
}

function completionOf(scripted: number | 'random' | undefined, body: RequestBody): number {
  if (scripted !== 'random') return scripted ?? 5;
  const cap = maxOutputOf(body) ?? 1_000;
  return 1 + Math.floor(Math.random() * cap);
}
