/**
 * The local console: talk to Quorum as one of the demo users, with no Slack or Teams.
 * Same core, same inbox, same workers; replies are kept in memory for the page to show.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isCommandText } from '../../src/core/commands.js';
import type { EnvelopeInput } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { Intake } from '../../src/core/intake.js';
import type { OutgoingReply, PlatformPorts, ReplyTarget } from '../../src/core/ports.js';
import { HttpError, readJson, sendJson, type Route } from '../../src/http/server.js';
import { dmChannelId, type Demo } from './demo.js';
import { consolePage, NOTIFY_KEY_PREFIX } from './page.js';

const messageRequestSchema = z.object({
  user: z.string().min(1),
  channel: z.string().min(1),
  text: z.string().trim().min(1).max(4_000),
  threadId: z.string().min(1).optional(),
  /** Lets a client retry a submit safely. */
  clientMessageId: z.string().min(1).max(100).optional(),
});

export interface ConsoleReply extends OutgoingReply {
  id: string;
  idempotencyKey: string;
  channel: string;
  threadId: string | undefined;
  user: string;
  at: string;
}

export interface ConsoleAdapter {
  ports: PlatformPorts;
  routes: Route[];
  /** Every reply posted, newest last (bounded). */
  replies(): ConsoleReply[];
}

const MAX_KEPT_REPLIES = 1_000;

export function createConsoleAdapter(options: { demo: Demo; intake: Intake; replyTimeoutMs?: number }): ConsoleAdapter {
  const { demo, intake } = options;
  const users = new Map(demo.users.map((u) => [u.id, u]));
  const channels = new Map(demo.channels.map((c) => [c.id, c]));
  const kept: ConsoleReply[] = [];
  const waiters = new Map<string, (reply: ConsoleReply) => void>();
  const keep = (reply: ConsoleReply) => {
    kept.push(reply);
    if (kept.length > MAX_KEPT_REPLIES) kept.shift();
    waiters.get(reply.idempotencyKey)?.(reply);
  };

  const ports: PlatformPorts = {
    membership: {
      async isMember(_workspace, channel, userId) {
        if (channel.kind === 'dm') return channel.id === dmChannelId(userId);
        const known = channels.get(channel.id);
        if (!known) throw new QuorumError('MEMBERSHIP_UNAVAILABLE', `unknown demo channel ${channel.id}`);
        return known.members.includes(userId);
      },
    },
    directory: {
      async lookup(_workspace, user) {
        const known = users.get(user.id);
        return known ? { platformRole: known.role, deleted: false, displayName: known.name } : { platformRole: 'guest', deleted: true };
      },
    },
    replies: {
      async post(target: ReplyTarget, reply: OutgoingReply) {
        const posted: ConsoleReply = {
          ...reply,
          id: randomUUID(),
          idempotencyKey: target.idempotencyKey,
          channel: target.channel.id,
          threadId: target.threadId,
          user: target.user.id,
          at: new Date().toISOString(),
        };
        keep(posted);
        return { platformMessageId: posted.id };
      },
    },
    // A direct message from Quorum itself (budget alerts): into the user's feed, under a `notify:` key.
    async notify(_workspace, userId, text) {
      if (!users.has(userId)) return 'unreachable';
      const id = randomUUID();
      const at = new Date().toISOString();
      keep({ kind: 'notice', text, private: true, id, idempotencyKey: `${NOTIFY_KEY_PREFIX}${id}`, channel: dmChannelId(userId), threadId: undefined, user: userId, at });
      return 'sent';
    },
  };

  function waitForReply(key: string, timeoutMs: number): Promise<ConsoleReply | null> {
    const already = kept.find((r) => r.idempotencyKey === key);
    if (already) return Promise.resolve(already);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(key);
        resolve(null);
      }, timeoutMs);
      waiters.set(key, (reply) => {
        clearTimeout(timer);
        waiters.delete(key);
        resolve(reply);
      });
    });
  }

  const postMessage: Route = {
    method: 'POST',
    path: '/console/api/messages',
    handler: async (req, res) => {
      const parsed = messageRequestSchema.safeParse(await readJson(req, 64 * 1024));
      if (!parsed.success) throw new HttpError(400, `invalid message: ${parsed.error.issues.map((i) => i.path.join('.') || i.code).join(', ')}`);
      const body = parsed.data;
      const user = users.get(body.user);
      if (!user) throw new HttpError(400, `unknown demo user "${body.user.slice(0, 40)}"`);
      const isDm = body.channel === 'dm';
      const channel = isDm ? null : channels.get(body.channel);
      if (!isDm && !channel) throw new HttpError(400, `unknown channel "${body.channel.slice(0, 40)}"`);
      const messageId = randomUUID();
      const idempotencyKey = body.clientMessageId ? `${body.user}:${body.clientMessageId}` : messageId;
      const envelope: EnvelopeInput = {
        kind: isCommandText(body.text) ? 'command' : isDm ? 'direct' : 'mention',
        idempotencyKey,
        workspace: { platform: 'console', externalId: demo.workspace.id },
        user: { id: user.id, displayName: user.name },
        channel: isDm ? { id: dmChannelId(user.id), kind: 'dm' } : { id: channel!.id, kind: 'channel', name: channel!.name },
        ...(isDm ? {} : { threadId: body.threadId ?? messageId }),
        messageId,
        text: body.text,
        receivedAt: new Date(),
      };
      let result: Awaited<ReturnType<Intake['submit']>>;
      try {
        result = await intake.submit(envelope);
      } catch {
        // Nothing was stored: the client may send the same message again.
        throw new HttpError(503, 'Quorum could not store your message right now; please send it again in a moment.');
      }
      if (result.status === 'invalid') throw new HttpError(400, `invalid message: ${result.problems.join('; ')}`);
      if (result.status === 'ignored') throw new HttpError(400, 'nothing to answer');
      const reply = await waitForReply(idempotencyKey, options.replyTimeoutMs ?? 30_000);
      sendJson(res, reply ? 200 : 202, {
        status: result.status,
        key: idempotencyKey,
        threadId: envelope.threadId ?? null,
        reply: reply ? { kind: reply.kind, text: reply.text, private: reply.private ?? false } : null,
      });
    },
  };

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/',
      handler: (_req, res) => {
        const html = consolePage(demo);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" });
        res.end(html);
      },
    },
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
    postMessage,
    {
      // Answers that came after the POST returned (a slow model, a restart): the page polls this.
      method: 'GET',
      path: '/console/api/replies',
      handler: (req, res) => {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        const user = query.get('user');
        if (!user || !users.has(user)) throw new HttpError(400, 'user is required');
        const key = query.get('key');
        sendJson(res, 200, {
          replies: kept
            .filter((r) => r.user === user && (!key || r.idempotencyKey === key))
            .map(({ idempotencyKey, kind, text, channel, at }) => ({ idempotencyKey, kind, text, channel, at })),
        });
      },
    },
  ];

  return { ports, routes, replies: () => [...kept] };
}
