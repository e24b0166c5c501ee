/**
 * A fetch for the Slack SDKs on undici's `request()` with one keep-alive Agent. Node's global
 * fetch (WHATWG Request, Headers, web streams, an AbortSignal per call) cost several times the
 * CPU of the request itself; WebClient only needs status, headers, url and the body once, so the
 * answer is read whole (Slack's answers are small JSON) into a minimal Response-like object.
 * Bodies it does not handle (FormData, streams, Blobs) and redirects other than 'error' (Bolt's
 * respond to a response_url) go to the global fetch, with the same timeout when the caller set none.
 */
import { STATUS_CODES } from 'node:http';
import { Agent, type Dispatcher } from 'undici';

export interface WebApiTransportOptions {
  /**
   * Milliseconds to wait for the answer's headers, then again at most between two pieces of its
   * body (undici's headersTimeout and bodyTimeout: cheap timers, no AbortSignal per call).
   */
  timeoutMs: number;
  /** Idle keep-alive sockets close after this long (Slack's side may close them sooner). */
  keepAliveMs?: number;
}

export type FetchFn = typeof globalThis.fetch;

/** Headers of a received answer: undici's lower-cased record behind the part of `Headers` the SDKs read. */
class ReceivedHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: string, name: string, headers: this) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** An answer read whole: what WebClient (status, headers, url, text, arrayBuffer) and Bolt's respond (ok) use. */
class ReadResponse {
  readonly type = 'basic';
  readonly redirected = false;
  readonly bodyUsed = false;
  readonly body = null;

  constructor(
    readonly status: number,
    readonly headers: ReceivedHeaders,
    readonly url: string,
    private readonly bytes: Uint8Array,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }

  async text(): Promise<string> {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.bytes.slice().buffer as ArrayBuffer;
  }
}

type Body = string | Buffer | Uint8Array | null | undefined;

function leanBody(body: unknown): body is Body {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

function plainHeaders(headers: HeadersInit | undefined): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(headers as Iterable<[string, string]>);
  return headers as Record<string, string>;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** A URL split once into what undici's dispatcher takes; the Web API's few method URLs repeat. */
const targets = new Map<string, { origin: string; path: string }>();
const MAX_REMEMBERED_TARGETS = 500;

function targetOf(url: string): { origin: string; path: string } {
  const known = targets.get(url);
  if (known) return known;
  const parsed = new URL(url);
  const target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
  // response_url hooks are unique per command: remember only a bounded set.
  if (targets.size < MAX_REMEMBERED_TARGETS) targets.set(url, target);
  return target;
}

export interface WebApiTransport {
  fetch: FetchFn;
  /** Closes the keep-alive sockets (after the requests in flight). */
  close(): Promise<void>;
}

export function createWebApiTransport(options: WebApiTransportOptions): WebApiTransport {
  const keepAlive = options.keepAliveMs ?? 4_000;
  const agent = new Agent({ keepAliveTimeout: keepAlive, keepAliveMaxTimeout: keepAlive * 4 });
  const { timeoutMs } = options;

  const fallback: FetchFn = (input, init) =>
    globalThis.fetch(input, init?.signal ? init : { ...init, signal: AbortSignal.timeout(timeoutMs) });

  const fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    // Only what WebClient sends (a string URL, a string or byte body, redirect 'error') takes the lean path.
    if (typeof input !== 'string' || init.redirect !== 'error' || !leanBody(init.body)) return fallback(input, init);
    const { origin, path } = targetOf(input);
    const res: Dispatcher.ResponseData = await agent.request({
      origin,
      path,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: plainHeaders(init.headers),
      body: init.body ?? null,
      signal: init.signal ?? null,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (isRedirect(res.statusCode)) {
      await res.body.dump();
      // What fetch does with redirect: 'error'.
      throw new TypeError('fetch failed', { cause: new Error(`unexpected redirect (${res.statusCode}) from ${origin}${path.split('?')[0]}`) });
    }
    const bytes = await res.body.bytes();
    return new ReadResponse(res.statusCode, new ReceivedHeaders(res.headers), input, bytes) as unknown as Response;
  }) as FetchFn;

  return { fetch, close: () => agent.close() };
}
