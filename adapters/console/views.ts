/** The console's read side: the page, its files, and each user's view of a place (JSON, or followed as server-sent events). */
import type { IncomingMessage } from 'node:http';
import { HttpError, sendJson, type Route } from '../../src/http/server.js';
import { assetRoute } from './assets.js';
import type { Demo } from './demo.js';
import type { ConsoleReply } from './index.js';
import { consolePage, PAGE_CSP } from './page.js';
import type { Transcript, View } from './transcript.js';

export function viewRoutes(options: { demo: Demo; transcript: Transcript; replies: () => ConsoleReply[] }): Route[] {
  const { demo, transcript } = options;
  const userIds = new Set(demo.users.map((u) => u.id));
  const places = new Set(['dm', ...demo.channels.map((c) => c.id)]);

  /** `?user=…&place=…`, both known: anything else is a 400, never an empty view. */
  const viewOf = (req: IncomingMessage): View => {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const user = query.get('user') ?? '';
    const place = query.get('place') ?? '';
    if (!userIds.has(user)) throw new HttpError(400, 'user must be one of the demo users');
    if (!places.has(place)) throw new HttpError(400, 'place must be "dm" or one of the demo channels');
    return { user, place };
  };

  return [
    {
      method: 'GET',
      path: '/',
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff' });
        res.end(consolePage(demo));
      },
    },
    assetRoute(),
    {
      method: 'GET',
      path: '/console/api/demo',
      handler: (_req, res) =>
        sendJson(res, 200, {
          workspace: demo.workspace,
          users: demo.users.map(({ id, name, role }) => ({ id, name, role })),
          channels: demo.channels.map(({ id, name }) => ({ id, name })),
        }),
    },
    // One user's view of one place, as it is now.
    { method: 'GET', path: '/console/api/view', handler: (req, res) => sendJson(res, 200, { entries: transcript.view(viewOf(req)) }) },
    // The same view, followed: a snapshot, then every change (the page shows progress and streaming from it).
    { method: 'GET', path: '/console/api/events', handler: (req, res) => transcript.subscribe(viewOf(req), res) },
    {
      // Replies a user received (answers that came after the POST returned, notices from Quorum).
      method: 'GET',
      path: '/console/api/replies',
      handler: (req, res) => {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        const user = query.get('user');
        if (!user || !userIds.has(user)) throw new HttpError(400, 'user is required');
        const key = query.get('key');
        sendJson(res, 200, {
          replies: options
            .replies()
            .filter((r) => r.user === user && (!key || r.idempotencyKey === key))
            .map(({ idempotencyKey, kind, text, channel, at }) => ({ idempotencyKey, kind, text, channel, at })),
        });
      },
    },
  ];
}
