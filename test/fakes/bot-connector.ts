/**
 * A fake Bot Connector on 127.0.0.1: the `serviceUrl` Teams activities name. Records every
 * posted activity (with its Authorization header), serves paged rosters and member lookups from
 * the fixtures, and can answer 429 + Retry-After to the next posts.
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

export class FakeBotConnector {
  readonly posted: PostedActivity[] = [];
  readonly requests: { method: string; path: string }[] = [];
  /** Activities the bot deleted (`DELETE …/activities/{id}`). */
  readonly deleted: { conversationId: string; activityId: string }[] = [];
  /** conversation (team or chat) id → pages of members; unknown ids get the fixture's two pages. */
  readonly rosters = new Map<string, { members: Member[]; continuationToken?: string }[]>();
  private throttleNext = 0;
  private retryAfterSeconds = 1;
  private server: Server | undefined;
  url = '';

  /** The next `count` message posts get 429 with `Retry-After: seconds`. */
  throttle(count: number, seconds = 1): void {
    this.throttleNext = count;
    this.retryAfterSeconds = seconds;
  }

  messages(): PostedActivity[] {
    return this.posted.filter((p) => p.body.type === 'message');
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
          return json(200, { id });
        }
        if (req.method === 'DELETE' && parts[3] === 'activities' && parts[4]) {
          this.deleted.push({ conversationId, activityId: parts[4] });
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
