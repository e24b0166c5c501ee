/**
 * A fake Slack Web API on 127.0.0.1: records every call (method, bearer token, params) and
 * answers from test/fixtures/slack/web-api. Point SLACK_API_URL at `url` (it ends in `/api/`).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parse as parseForm } from 'node:querystring';
import { fileURLToPath } from 'node:url';

const fixtures = fileURLToPath(new URL('../fixtures/slack/web-api/', import.meta.url));
// Read once, parsed per use: every caller gets an object of its own (a load run asks thousands of times).
const fixtureText = new Map<string, string>();
export const webFixture = (name: string): any => {
  let text = fixtureText.get(name);
  if (text === undefined) fixtureText.set(name, (text = readFileSync(join(fixtures, `${name}.json`), 'utf8')));
  return JSON.parse(text);
};

export interface RecordedCall {
  method: string;
  /** The bearer token from the Authorization header. */
  token: string | null;
  params: Record<string, string>;
  /** The request's headers as received (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** performance.now() when the call arrived. */
  at: number;
  /** What the fake answered (set once answered). */
  response?: any;
}

/** A message as Slack stores it, seeded by a test (written by people, not through the bot). */
export interface SeededMessage {
  user?: string;
  bot_id?: string;
  subtype?: string;
  text: string;
  ts: string;
  /** The thread's root ts (the root carries its own ts once it has replies). */
  thread_ts?: string;
  /** Files the message shares, as addFile returns them. */
  files?: Record<string, unknown>[];
}

/** A file as files.info describes it (url_private is added when asked). */
export interface SharedFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  size: number;
  channels: string[];
  groups: string[];
  ims: string[];
  user_team?: string;
}

/** Acme's people by id → users.info fixture. */
const USERS: Record<string, string> = {
  U0ACMEOWN1: 'owner',
  U0ACMEADM1: 'admin',
  U0ACMEMEM1: 'member',
  U0ACMEGST1: 'guest',
  U0ACMESCG1: 'single_channel_guest',
  U0GLBXEXT1: 'external',
};

export class FakeSlackApi {
  readonly calls: RecordedCall[] = [];
  /** token → auth.test answer */
  readonly bots = new Map<string, { team_id: string; user_id: string; bot_id: string; enterprise_id?: string }>();
  /** user id → fields laid over that user's users.info answer (`deleted: true`: deactivated). */
  readonly people = new Map<string, Record<string, unknown>>();
  /** channel → roster (single page); #general serves the two fixture pages. */
  readonly rosters = new Map<string, string[]>();
  /** OAuth code → oauth.v2.access answer. */
  readonly grants = new Map<string, Record<string, unknown>>();
  /** method (or "method token": one workspace's calls) → how many times to answer 429 next, with this Retry-After. */
  readonly rateLimits = new Map<string, { times: number; retryAfter: number }>();
  /** Where a payload's response_url should point: a hook on this fake (bodies land in `hooks`). */
  hookUrl(path: string): string {
    return this.url.replace(/\/api\/$/, path);
  }

  /** Bodies POSTed outside /api/ (response_url hooks), by path. */
  readonly hooks: { path: string; body: any }[] = [];
  /** method → milliseconds to wait before answering (a slow Slack). */
  readonly delays = new Map<string, number>();
  /** channel → its messages, in any order; conversations.history / conversations.replies answer from them. */
  readonly messages = new Map<string, SeededMessage[]>();
  /** What apps.connections.open answers (Socket Mode). */
  socketUrl = '';
  /** method → a Slack error to answer (`{ok:false, error}`) the next `times` calls (every call until deleted without `times`). */
  readonly errors = new Map<string, { error: string; times?: number }>();
  /** method → an HTTP answer other than 200 (a proxy error, a redirect) for the next `times` calls. */
  readonly statuses = new Map<string, { status: number; times: number; headers?: Record<string, string>; body?: string }>();
  /** The bot's messages as a Slack client would show them, by ts: posted, streamed, updated; deleted ones are gone. */
  readonly shown = new Map<string, { channel: string; threadTs: string | undefined; text: string; streaming: boolean }>();
  /** user → the last Home tab view published for them (views.publish), parsed. */
  readonly homeViews = new Map<string, { type: string; blocks: any[] }>();
  /** file id → what files.info answers about it and the bytes its url_private serves (see addFile). */
  readonly files = new Map<string, { file: SharedFile; bytes: Uint8Array }>();
  /** Every download of a url_private, in order, with the bearer token it carried. */
  readonly downloads: { id: string; token: string | null }[] = [];
  /** Calls held until released (a Slack that is slow at one exact point), each for the first call it matches. */
  private readonly holds: { method: string; match: (params: Record<string, string>) => boolean; reached: () => void; released: Promise<void>; used: boolean }[] = [];
  /** trigger_ids a view was opened with (Slack takes each once). */
  readonly usedTriggers = new Set<string>();
  /** Bytes POSTed to an upload URL that files.getUploadURLExternal gave out, by file id. */
  readonly uploads = new Map<string, string>();
  /** Files completed with files.completeUploadExternal: where they were shared, and their bytes. */
  readonly sharedFiles: { id: string; title: string | undefined; channel: string | undefined; content: string | undefined }[] = [];
  private server: Server | null = null;
  private nextTs = 1767258600;
  private nextFile = 1;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if ((req.url ?? '').startsWith('/files-pri/')) {
          this.download(req.url!, req.headers.authorization, res);
          return;
        }
        // The pre-signed upload URL of files.getUploadURLExternal (no token: the URL is the grant).
        if ((req.url ?? '').startsWith('/upload/')) {
          this.uploads.set(req.url!.slice('/upload/'.length), raw);
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${raw.length}`);
          return;
        }
        if (!(req.url ?? '').startsWith('/api/')) {
          this.hooks.push({ path: req.url ?? '', body: JSON.parse(raw || '{}') });
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        const url = req.url!;
        const query = url.indexOf('?');
        const method = url.slice(5, query === -1 ? undefined : query);
        // WebClient sends a form; querystring's parser is several times cheaper than URLSearchParams.
        const params: Record<string, string> = (req.headers['content-type'] ?? '').includes('json')
          ? (JSON.parse(raw || '{}') as Record<string, string>)
          : ({ ...parseForm(raw) } as Record<string, string>);
        const auth = req.headers.authorization;
        const token = auth?.startsWith('Bearer ') ? auth.slice(7) : (params.token ?? null);
        const call: RecordedCall = { method, token, params, headers: req.headers, at: performance.now() };
        this.calls.push(call);
        const hold = this.holds.find((h) => !h.used && h.method === method && h.match(params));
        if (hold) {
          hold.used = true;
          hold.reached();
          void hold.released.then(() => this.respond(method, token, params, call, res));
          return;
        }
        this.respond(method, token, params, call, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/`;
    return this;
  }

  /**
   * Holds the first call of `method` whose params match, until `release()`: `reached` resolves when
   * it arrives. The held call is then answered as any other (rate limits and errors included).
   */
  hold(method: string, match: (params: Record<string, string>) => boolean): { reached: Promise<void>; release(): void } {
    let reached!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((r) => (reached = r));
    const released = new Promise<void>((r) => (release = r));
    this.holds.push({ method, match, reached, released, used: false });
    return { reached: arrived, release };
  }

  private respond(method: string, token: string | null, params: Record<string, string>, call: RecordedCall, res: ServerResponse): void {
    const status = this.statuses.get(method);
    if (status && status.times > 0) {
      status.times -= 1;
      res.writeHead(status.status, { 'content-type': 'text/plain', ...status.headers }).end(status.body ?? '');
      return;
    }
    const limit = this.rateLimits.get(`${method} ${token}`) ?? this.rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      call.response = webFixture('error.ratelimited');
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(limit.retryAfter) });
      res.end(JSON.stringify(call.response));
      return;
    }
    const failure = this.errors.get(method);
    const body = failure ? { ok: false, error: failure.error } : this.answer(method, token, params);
    if (failure?.times !== undefined && --failure.times <= 0) this.errors.delete(method);
    call.response = body;
    const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const delay = this.delays.get(method);
    if (delay === undefined) send();
    else setTimeout(send, delay);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  called(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * A file shared in `channels` (as Slack lists them to the bot): files.info answers it, its
   * url_private serves `bytes` to the bot's token. Returns the file as a message event carries it.
   */
  addFile(id: string, file: { name: string; mimetype: string; bytes: Uint8Array; channels: string[]; user_team?: string; size?: number }): Record<string, unknown> {
    const shared: SharedFile = {
      id,
      name: file.name,
      title: file.name,
      mimetype: file.mimetype,
      size: file.size ?? file.bytes.byteLength,
      channels: file.channels.filter((c) => c.startsWith('C')),
      groups: file.channels.filter((c) => c.startsWith('G')),
      ims: file.channels.filter((c) => c.startsWith('D')),
      ...(file.user_team ? { user_team: file.user_team } : {}),
    };
    this.files.set(id, { file: shared, bytes: file.bytes });
    return { id, name: file.name, title: file.name, mimetype: file.mimetype, size: shared.size };
  }

  private fileInfo(id: string): unknown {
    const found = this.files.get(id);
    if (!found) return { ok: false, error: 'file_not_found' };
    const url = `${this.url.replace(/\/api\/$/, '')}/files-pri/${id}/${encodeURIComponent(found.file.name)}`;
    return { ok: true, file: { ...found.file, url_private: url, url_private_download: `${url}?download=1` } };
  }

  /** url_private: the bytes to the one bot token the fake knows (any bearer token when none is set), a sign-in page otherwise. */
  private download(url: string, authorization: string | undefined, res: import('node:http').ServerResponse): void {
    const id = url.split('/')[2] ?? '';
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : null;
    this.downloads.push({ id, token });
    const found = this.files.get(id);
    if (!found) return void res.writeHead(404).end();
    if (!token || (this.bots.size > 0 && !this.bots.has(token))) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>');
    res.writeHead(200, { 'content-type': found.file.mimetype, 'content-length': String(found.bytes.byteLength) }).end(Buffer.from(found.bytes));
  }

  /** Adds messages to a channel's history, as if people had written them in Slack. */
  seed(channel: string, ...messages: SeededMessage[]): this {
    this.messages.set(channel, [...(this.messages.get(channel) ?? []), ...messages]);
    return this;
  }

  /** One page of `messages` as Slack pages them: `limit` per page, an opaque cursor, has_more. */
  private page(messages: SeededMessage[], params: Record<string, string>): unknown {
    const start = Number(params.cursor ? Buffer.from(params.cursor, 'base64').toString('utf8').replace('offset:', '') : 0);
    const limit = Number(params.limit || 100);
    const slice = messages.slice(start, start + limit);
    const more = start + limit < messages.length;
    return {
      ok: true,
      messages: slice.map((m) => ({ type: 'message', ...m })),
      has_more: more,
      response_metadata: { next_cursor: more ? Buffer.from(`offset:${start + limit}`).toString('base64') : '' },
    };
  }

  /** The messages a person sees in a thread (or, without a thread, at the channel's top level), oldest first. */
  visible(channel: string, threadTs?: string): { ts: string; text: string; streaming: boolean }[] {
    return [...this.shown.entries()]
      .filter(([, m]) => m.channel === channel && m.threadTs === threadTs)
      .map(([ts, m]) => ({ ts, text: m.text, streaming: m.streaming }));
  }

  private show(ts: string, params: Record<string, string>, text: string, streaming: boolean): void {
    this.shown.set(ts, { channel: params.channel ?? '', threadTs: params.thread_ts || undefined, text, streaming });
  }

  private answer(method: string, token: string | null, params: Record<string, string>): unknown {
    switch (method) {
      case 'auth.test': {
        const bot = token ? this.bots.get(token) : undefined;
        if (!bot) return token && this.bots.size === 0 ? webFixture('auth.test') : { ok: false, error: 'invalid_auth' };
        return { ...webFixture('auth.test'), ...bot };
      }
      case 'users.info': {
        const fixture = USERS[params.user ?? ''];
        const over = this.people.get(params.user ?? '');
        if (fixture && over) {
          const answer = webFixture(`users.info.${fixture}`);
          return { ...answer, user: { ...answer.user, ...over } };
        }
        if (fixture) return webFixture(`users.info.${fixture}`);
        // Anyone else is a plain member of the token's own workspace (Grid users carry their enterprise).
        const member = webFixture('users.info.member');
        const bot = token ? this.bots.get(token) : undefined;
        const grid = params.user?.startsWith('W') && bot?.enterprise_id;
        return {
          ...member,
          user: {
            ...member.user,
            id: params.user,
            team_id: bot?.team_id ?? member.user.team_id,
            ...(grid ? { enterprise_user: { enterprise_id: bot.enterprise_id, teams: [bot.team_id] } } : {}),
          },
        };
      }
      case 'conversations.members': {
        const roster = this.rosters.get(params.channel ?? '');
        if (roster) return { ok: true, members: roster, response_metadata: { next_cursor: '' } };
        if (params.channel === 'C0ACMEGEN1') {
          return params.cursor ? webFixture('conversations.members.page2') : webFixture('conversations.members.page1');
        }
        return webFixture('error.channel_not_found');
      }
      case 'conversations.replies': {
        // The root and its replies, oldest first.
        const thread = (this.messages.get(params.channel ?? '') ?? [])
          .filter((m) => m.ts === params.ts || m.thread_ts === params.ts)
          .sort((a, b) => Number(a.ts) - Number(b.ts));
        return thread.length ? this.page(thread, params) : { ok: false, error: 'thread_not_found' };
      }
      case 'conversations.history': {
        // Top-level messages (thread roots included, replies not), newest first.
        const top = (this.messages.get(params.channel ?? '') ?? [])
          .filter((m) => !m.thread_ts || m.thread_ts === m.ts || m.subtype === 'thread_broadcast')
          .sort((a, b) => Number(b.ts) - Number(a.ts));
        return this.page(top, params);
      }
      case 'chat.postMessage':
      case 'chat.postEphemeral': {
        // As Slack: a message needs text (`text` or `markdown_text`), and not both kinds at once.
        const text = messageText(params);
        if (!text) return { ok: false, error: 'no_text' };
        if (params.text && params.markdown_text) return { ok: false, error: 'markdown_text_conflict' };
        const ts = `${this.nextTs++}.000100`;
        if (method === 'chat.postMessage') this.show(ts, params, text, false);
        return { ok: true, channel: params.channel, ts, message_ts: ts, message: { type: 'message', text, ts, thread_ts: params.thread_ts } };
      }
      case 'chat.startStream': {
        if (!params.channel || !params.thread_ts) return { ok: false, error: 'invalid_arguments' };
        const ts = `${this.nextTs++}.000100`;
        this.show(ts, params, params.markdown_text ?? '', true);
        return { ok: true, channel: params.channel, ts };
      }
      case 'chat.appendStream':
      case 'chat.stopStream': {
        const message = this.shown.get(params.ts ?? '');
        if (!message || message.channel !== params.channel) return { ok: false, error: 'message_not_found' };
        if (!message.streaming) return { ok: false, error: 'message_not_in_streaming_state' };
        message.text += params.markdown_text ?? '';
        if (method === 'chat.stopStream') message.streaming = false;
        return method === 'chat.stopStream'
          ? { ok: true, channel: params.channel, ts: params.ts, message: { type: 'message', text: message.text, ts: params.ts, thread_ts: message.threadTs } }
          : { ok: true, channel: params.channel, ts: params.ts };
      }
      case 'files.info':
        return this.fileInfo(params.file ?? '');
      case 'files.getUploadURLExternal': {
        if (!params.filename || !Number(params.length)) return { ok: false, error: 'invalid_arguments' };
        const id = `F0FILE${this.nextFile++}`;
        return { ok: true, upload_url: `${this.url.replace(/\/api\/$/, '')}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = (typeof params.files === 'string' ? JSON.parse(params.files) : params.files) as { id: string; title?: string }[];
        for (const f of files) this.sharedFiles.push({ id: f.id, title: f.title, channel: params.channel_id, content: this.uploads.get(f.id) });
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
      }
      case 'conversations.open':
        // The bot's DM with one user: a stable D id per user (U0ACMEADM1 → D0ACMEADM1).
        return params.users ? { ok: true, channel: { id: `D${params.users.slice(1)}` } } : { ok: false, error: 'users_not_found' };
      case 'apps.connections.open':
        return this.socketUrl ? { ok: true, url: this.socketUrl } : { ok: false, error: 'invalid_auth' };
      case 'oauth.v2.access': {
        const grant = this.grants.get(params.code ?? '');
        return grant ? { ok: true, ...grant } : { ok: false, error: 'invalid_code' };
      }
      case 'chat.update': {
        const message = this.shown.get(params.ts ?? '');
        // Slack answers message_not_found for a message that is gone (or never was).
        if (!message || message.channel !== params.channel) return { ok: false, error: 'message_not_found' };
        if (!messageText(params)) return { ok: false, error: 'no_text' };
        message.text = messageText(params);
        return { ok: true, channel: params.channel, ts: params.ts, text: message.text };
      }
      case 'views.publish': {
        const view = typeof params.view === 'string' ? JSON.parse(params.view) : params.view;
        if (!params.user_id || !view || view.type !== 'home') return { ok: false, error: 'invalid_arguments' };
        if (!Array.isArray(view.blocks) || view.blocks.length > 100) return { ok: false, error: 'invalid_blocks' };
        this.homeViews.set(params.user_id, view);
        return { ok: true, view: { id: `V${params.user_id}`, type: 'home', blocks: view.blocks } };
      }
      case 'assistant.threads.setStatus':
      case 'assistant.threads.setTitle':
      case 'assistant.threads.setSuggestedPrompts':
        // As Slack: the thread is named by its DM channel and root ts.
        if (!params.channel_id || !params.thread_ts) return { ok: false, error: 'invalid_arguments' };
        return { ok: true };
      case 'views.open':
      case 'views.push': {
        // As Slack: a view needs a trigger_id (valid 3 s, once) and a view.
        if (!params.trigger_id) return { ok: false, error: 'invalid_arguments' };
        if (this.usedTriggers.has(params.trigger_id)) return { ok: false, error: 'expired_trigger_id' };
        this.usedTriggers.add(params.trigger_id);
        const view = typeof params.view === 'string' ? JSON.parse(params.view) : params.view;
        return { ok: true, view: { id: `V${this.nextTs++}`, ...view } };
      }
      case 'views.update': {
        const view = typeof params.view === 'string' ? JSON.parse(params.view) : params.view;
        return view ? { ok: true, view: { id: params.view_id ?? `V${this.nextTs++}`, ...view } } : { ok: false, error: 'invalid_arguments' };
      }
      case 'chat.delete':
        if (!this.shown.delete(params.ts ?? '')) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: params.channel, ts: params.ts };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** The text a post or update shows: a markdown block's, else `markdown_text`, else `text` (mrkdwn). */
export function messageText(params: Record<string, string>): string {
  const blocks = typeof params.blocks === 'string' ? (JSON.parse(params.blocks) as { type: string; text?: string }[]) : (params.blocks as unknown as { type: string; text?: string }[] | undefined);
  const markdown = blocks?.find((b) => b.type === 'markdown')?.text;
  return markdown || params.markdown_text || params.text || '';
}
