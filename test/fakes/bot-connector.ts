/**
 * A fake Bot Connector on 127.0.0.1: the `serviceUrl` Teams activities name. Records every
 * posted activity (with its Authorization header), serves paged rosters and member lookups from
 * the fixtures, and can answer 429 + Retry-After to the next posts. `shown` is what a Teams
 * client would show of the bot's messages: posted, streamed (by streamId), updated, not deleted.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/teams/connector/${name}`, import.meta.url), 'utf8'));

export interface PostedActivity {
  conversationId: string;
  /** The activity replied to (`…/activities/{id}`), if any. */
  replyToId: string | undefined;
  authorization: string | undefined;
  body: { type: string; text?: string; textFormat?: string; [k: string]: unknown };
  /** The id the connector answered with. */
  id: string;
}

interface Member {
  id: string;
  aadObjectId?: string;
  userRole?: string;
  tenantId?: string;
  name?: string;
}

/** One of the bot's messages as a Teams client shows it. */
export interface ShownActivity {
  conversationId: string;
  replyToId: string | undefined;
  text: string;
  /** A stream that has not had its final message yet. */
  streaming: boolean;
}

export class FakeBotConnector {
  readonly posted: PostedActivity[] = [];
  /** Updates the bot made (`PUT …/activities/{id}`), in order. */
  readonly updated: { conversationId: string; activityId: string; text: string | undefined; authorization: string | undefined; attachments?: unknown[] }[] = [];
  /** The bot's messages as a client shows them, by activity id (a stream's message under its streamId). */
  readonly shown = new Map<string, ShownActivity>();
  /**
   * Milliseconds to wait before answering, by what was asked: 'post:message', 'post:typing', 'update'
   * (a slow connector). The activity is shown at once: only the answer is late.
   */
  readonly delays = new Map<string, number>();
  readonly requests: { method: string; path: string }[] = [];
  /** Activities the bot deleted (`DELETE …/activities/{id}`). */
  readonly deleted: { conversationId: string; activityId: string }[] = [];
  /** conversation (team or chat) id → pages of members; unknown ids get the fixture's two pages. */
  readonly rosters = new Map<string, { members: Member[]; continuationToken?: string }[]>();
  private throttleNext = 0;
  private retryAfterSeconds = 1;
  private server: Server | undefined;
  url = '';

  /**
   * Files served here, by path: pictures on the connector's attachment service (`/v3/attachments/…`,
   * the bot's token required) and 1:1 files' pre-authorised download links (`/download/…`, no token).
   */
  readonly files = new Map<string, { bytes: Uint8Array; contentType: string; needsToken: boolean }>();
  /** Every file download, in order, with the Authorization header it carried. */
  readonly downloads: { path: string; authorization: string | undefined }[] = [];

  /** Serves `bytes` at `path`; answers the URL to put in an attachment. */
  addFile(path: string, bytes: Uint8Array, contentType: string, needsToken: boolean): string {
    this.files.set(path, { bytes, contentType, needsToken });
    return `${this.url.replace(/\/$/, '')}${path}`;
  }

  private serveFile(path: string, authorization: string | undefined, res: import('node:http').ServerResponse): void {
    this.downloads.push({ path, authorization });
    const file = this.files.get(path)!;
    if (file.needsToken && !authorization?.startsWith('Bearer ')) return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.byteLength) }).end(Buffer.from(file.bytes));
  }

  /** The next `count` message posts get 429 with `Retry-After: seconds`. */
  throttle(count: number, seconds = 1): void {
    this.throttleNext = count;
    this.retryAfterSeconds = seconds;
  }

  messages(): PostedActivity[] {
    return this.posted.filter((p) => p.body.type === 'message');
  }

  /** What a client shows of the bot's messages in one conversation (a channel's reply chain included), oldest first. */
  visible(conversationId: string): (ShownActivity & { id: string })[] {
    return [...this.shown.entries()]
      .filter(([, m]) => m.conversationId === conversationId || m.conversationId.startsWith(`${conversationId};`))
      .map(([id, m]) => ({ id, ...m }));
  }

  /** Records what a posted activity shows: a message, or a stream's text so far (informative updates and typing show none). */
  private show(id: string, conversationId: string, replyToId: string | undefined, body: PostedActivity['body']): string {
    const info = (body.channelData ?? {}) as { streamType?: string; streamId?: string };
    const streamId = info.streamId;
    if (body.type === 'message') {
      // A stream's final message is the streamed message, finished.
      const key = streamId ?? id;
      this.shown.set(key, { conversationId, replyToId, text: body.text ?? '', streaming: false });
      return key;
    }
    if (info.streamType === 'streaming') this.shown.set(streamId ?? id, { conversationId, replyToId, text: body.text ?? '', streaming: true });
    return id;
  }

  private later(what: string, send: () => void): void {
    const delay = this.delays.get(what);
    if (delay === undefined) send();
    else setTimeout(send, delay);
  }

  pagesFor(conversationId: string) {
    return this.rosters.get(conversationId) ?? [fixture('paged_members.page1.json'), fixture('paged_members.page2.json')];
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname;
      this.requests.push({ method: req.method ?? '', path: decodeURIComponent(path) });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        };
        if (req.method === 'GET' && this.files.has(path)) return this.serveFile(path, req.headers.authorization, res);
        const parts = path.split('/').filter(Boolean).map(decodeURIComponent); // v3, conversations, id, ...
        if (parts[0] !== 'v3' || parts[1] !== 'conversations' || !parts[2]) return json(404, { error: { code: 'NotFound' } });
        const conversationId = parts[2];
        if (req.method === 'POST' && parts[3] === 'activities') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          if (this.throttleNext > 0 && body.type === 'message') {
            this.throttleNext--;
            return json(429, { error: { code: 'TooManyRequests' } }, { 'retry-after': String(this.retryAfterSeconds) });
          }
          const created = fixture('reply_created.json') as { id: string };
          const id = `${created.id}-${this.posted.length + 1}`;
          this.posted.push({ conversationId, replyToId: parts[4], authorization: req.headers.authorization, body, id });
          const answered = this.show(id, conversationId, parts[4], body);
          return this.later(`post:${body.type}`, () => json(200, { id: answered }));
        }
        if (req.method === 'PUT' && parts[3] === 'activities' && parts[4]) {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          const message = this.shown.get(parts[4]);
          if (!message) return json(404, { error: { code: 'NotFound', message: 'not a known activity id' } });
          this.updated.push({ conversationId, activityId: parts[4], text: body.text, authorization: req.headers.authorization, ...(body.attachments ? { attachments: body.attachments } : {}) });
          Object.assign(message, { text: body.text ?? '', streaming: false });
          return this.later('update', () => json(200, { id: parts[4] }));
        }
        if (req.method === 'DELETE' && parts[3] === 'activities' && parts[4]) {
          this.deleted.push({ conversationId, activityId: parts[4] });
          this.shown.delete(parts[4]);
          return json(200, {});
        }
        if (req.method === 'GET' && parts[3] === 'pagedmembers') {
          const pages = this.pagesFor(conversationId);
          const token = url.searchParams.get('continuationToken');
          const index = token ? pages.findIndex((p, i) => i > 0 && pages[i - 1]?.continuationToken === token) : 0;
          if (index < 0) return json(400, { error: { code: 'BadContinuationToken' } });
          return json(200, pages[index]);
        }
        if (req.method === 'GET' && parts[3] === 'members' && parts[4]) {
          const userId = parts[4];
          const member = this.pagesFor(conversationId)
            .flatMap((p) => p.members)
            .find((m) => m.aadObjectId === userId || m.id === userId);
          return member ? json(200, member) : json(404, fixture('member_not_found.json'));
        }
        return json(404, { error: { code: 'NotFound' } });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}
