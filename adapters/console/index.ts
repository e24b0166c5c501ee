/**
 * The local console: talk to Quorum as one of the demo users, with no Slack or Teams.
 * Same core, same inbox, same workers; messages and replies are kept in memory (transcript.ts)
 * for the page, which follows them as they are worked on, streamed and finished.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isCommandText } from '../../src/core/commands/index.js';
import type { EnvelopeInput } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { Intake } from '../../src/core/intake.js';
import type { OutgoingReply, PlatformPorts, ReplyTarget } from '../../src/core/ports.js';
import { HttpError, readJson, sendJson, type Route } from '../../src/http/server.js';
import { dmChannelId, type Demo } from './demo.js';
import { NOTIFY_KEY_PREFIX } from './page.js';
import { createTranscript, type Entry, type Transcript } from './transcript.js';
import { viewRoutes } from './views.js';
import { consoleFiles } from './files.js';
import { interactionRoute } from './interactions.js';
import type { InteractionRouter } from '../../src/core/interactions.js';

const messageRequestSchema = z.object({
  user: z.string().min(1),
  channel: z.string().min(1),
  text: z.string().trim().min(1).max(4_000),
  threadId: z.string().min(1).optional(),
  /** Lets a client retry a submit safely. */
  clientMessageId: z.string().min(1).max(100).optional(),
  /** false: answer as soon as the message is accepted (the page follows the reply as it comes). */
  wait: z.boolean().default(true),
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
  /** Every reply finished, newest last (bounded). */
  replies(): ConsoleReply[];
}

export function createConsoleAdapter(options: { demo: Demo; intake: Intake; interactions?: InteractionRouter; replyTimeoutMs?: number }): ConsoleAdapter {
  const { demo, intake } = options;
  const users = new Map(demo.users.map((u) => [u.id, u]));
  const channels = new Map(demo.channels.map((c) => [c.id, c]));
  const isMember = (channel: string, user: string) => channels.get(channel)?.members.includes(user) ?? false;
  const transcript = createTranscript({ dmChannelOf: dmChannelId, isMember });
  const waiters = new Map<string, (reply: Entry) => void>();
  const files = consoleFiles((id) => users.has(id));

  const ports: PlatformPorts = {
    membership: {
      async isMember(_workspace, channel, userId) {
        if (channel.kind === 'dm') return channel.id === dmChannelId(userId);
        if (!channels.has(channel.id)) throw new QuorumError('MEMBERSHIP_UNAVAILABLE', `unknown demo channel ${channel.id}`);
        return isMember(channel.id, userId);
      },
    },
    directory: {
      async lookup(_workspace, user) {
        const known = users.get(user.id);
        return known ? { platformRole: known.role, deleted: false, displayName: known.name } : { platformRole: 'guest', deleted: true };
      },
    },
    replies: consoleReplySink(transcript, (entry) => waiters.get(entry.key)?.(entry)),
    // A direct message from Quorum itself (budget alerts): into the user's DM, under a `notify:` key.
    async notify(_workspace, userId, text) {
      if (!users.has(userId)) return 'unreachable';
      const key = `${NOTIFY_KEY_PREFIX}${randomUUID()}`;
      transcript.add({ key, from: 'quorum', user: userId, channel: dmChannelId(userId), threadId: null, private: true, kind: 'notice', state: 'done', text });
      return 'sent';
    },
    sendFile: files.sendFile,
    // What the turn gave the model: kept on its reply, shown to its requester only.
    inspect(target, report) {
      transcript.update(replySlot(transcript, target, true), { context: report });
    },
  };

  function waitForReply(key: string, timeoutMs: number): Promise<Entry | null> {
    const already = transcript.replyTo(key);
    if (already?.state === 'done') return Promise.resolve(already);
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
      // Shown before it is submitted, so that it comes before its reply; taken back if it was not taken.
      const retried = transcript.all().some((e) => e.from === 'user' && e.key === idempotencyKey);
      const shown = retried
        ? null
        : transcript.add({
            key: idempotencyKey,
            from: 'user',
            user: user.id,
            channel: envelope.channel.id,
            threadId: envelope.threadId ?? null,
            // Someone writing in a channel they are not in is seen by nobody else there.
            private: !isDm && !isMember(channel!.id, user.id),
            kind: 'message',
            state: 'done',
            text: body.text,
          });
      let result: Awaited<ReturnType<Intake['submit']>>;
      try {
        result = await intake.submit(envelope);
      } catch {
        if (shown) transcript.remove(shown);
        // Nothing was stored: the client may send the same message again.
        throw new HttpError(503, 'Quorum could not store your message right now; please send it again in a moment.');
      }
      if (shown && (result.status === 'invalid' || result.status === 'ignored')) transcript.remove(shown);
      if (result.status === 'invalid') throw new HttpError(400, `invalid message: ${result.problems.join('; ')}`);
      if (result.status === 'ignored') throw new HttpError(400, 'nothing to answer');
      const reply = body.wait ? await waitForReply(idempotencyKey, options.replyTimeoutMs ?? 30_000) : null;
      sendJson(res, reply ? 200 : 202, {
        status: result.status,
        key: idempotencyKey,
        threadId: envelope.threadId ?? null,
        reply: reply ? { kind: reply.kind, text: reply.text, private: reply.private } : null,
      });
    },
  };

  const replies = (): ConsoleReply[] =>
    transcript
      .all()
      .filter((e) => e.from === 'quorum' && e.state === 'done')
      .map((e) => ({
        id: e.id,
        idempotencyKey: e.key,
        kind: e.kind === 'message' ? 'answer' : e.kind,
        text: e.text,
        private: e.private,
        channel: e.channel,
        threadId: e.threadId ?? undefined,
        user: e.user,
        at: e.at,
      }));

  const clicks = options.interactions ? [interactionRoute({ demo, transcript, router: options.interactions })] : [];
  return { ports, routes: [postMessage, files.route, ...clicks, ...viewRoutes({ demo, transcript, replies })], replies };
}

/**
 * Quorum's reply to one delivery: made by whatever comes first (a status, the first streamed
 * text, the context report, the reply itself). `hidden` keeps it to the requester until the
 * reply says who reads it, so that a denial never shows a channel that someone tried.
 */
function replySlot(transcript: Transcript, target: ReplyTarget, hidden: boolean): Entry {
  return (
    transcript.replyTo(target.idempotencyKey) ??
    transcript.add({
      key: target.idempotencyKey,
      from: 'quorum',
      user: target.user.id,
      channel: target.channel.id,
      threadId: target.threadId ?? null,
      private: hidden,
      kind: 'answer',
      state: 'working',
      text: '',
    })
  );
}

/** Replies, status and streaming into the transcript; `finished` is told each reply that is done. */
function consoleReplySink(transcript: Transcript, finished: (entry: Entry) => void): PlatformPorts['replies'] {
  const finish = (entry: Entry, reply: OutgoingReply) => {
    transcript.update(entry, { kind: reply.kind, text: reply.text, private: reply.private ?? false, state: 'done', status: null, actions: reply.actions ?? null });
    finished(entry);
    return { platformMessageId: entry.id };
  };
  return {
    async post(target, reply) {
      return finish(replySlot(transcript, target, true), reply);
    },
    async progress(target, status) {
      const entry = replySlot(transcript, target, false);
      if (entry.state !== 'done') transcript.update(entry, { status });
    },
    openStream(target, _memory, started) {
      let entry: Entry | null = null;
      return {
        append(text) {
          if (!entry) {
            entry = replySlot(transcript, target, false);
            started?.(entry.id).catch(() => {});
          }
          transcript.update(entry, { text: entry.text + text, state: 'streaming', private: false });
        },
        async finish(fullText) {
          return finish(entry ?? replySlot(transcript, target, false), { kind: 'answer', text: fullText });
        },
        async abort() {
          if (entry && entry.state !== 'done') transcript.update(entry, { text: '', state: 'working' });
        },
      };
    },
  };
}
