/**
 * ReplySink for Teams: proactive posts into the stored conversation (the HTTP request that
 * brought the message ended long ago), into the right reply chain, as Markdown, split when long.
 * In 1:1 chats the answer streams (Teams' bot streaming protocol, see stream.ts).
 */
import { ActivityTypes, TextFormatTypes, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { QuorumError } from '../../src/core/errors.js';
import type { OutgoingReply, ReplySink, ReplyTarget } from '../../src/core/ports.js';
import type { TeamsReplyRoute } from './activity.js';
import { BoundedCache, keys, type TeamsRuntime } from './runtime.js';
import { openTeamsStream, TeamsStreamSession } from './stream.js';

/** Teams accepts about 28 KB per message; stay well below it and split at paragraph or line ends. */
export const DEFAULT_MAX_CHARS = 7_000;

export function splitText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = Math.max(window.lastIndexOf('\n\n'), window.lastIndexOf('\n'));
    if (cut < max / 2) cut = window.lastIndexOf(' ');
    if (cut < max / 2) cut = max;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

function routeOf(target: ReplyTarget): TeamsReplyRoute {
  const route = target.replyRoute as Partial<TeamsReplyRoute>;
  if (!route.conversationKey || !route.conversationId || !route.replyToId) {
    throw new QuorumError('REPLY_FAILED', 'the Teams reply route is incomplete');
  }
  return route as TeamsReplyRoute;
}

export function createReplySink(runtime: TeamsRuntime, options: { maxChars?: number } = {}): ReplySink {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  // Parts already posted in this process: a retried turn never posts the same part twice.
  const sent = new BoundedCache<string>(50_000, 24 * 60 * 60_000);
  // 1:1 chats: each turn's stream (informative updates, then the answer), by delivery.
  const sessions = new BoundedCache<TeamsStreamSession<Place>>(10_000, 30 * 60_000);
  const sessionOf = (target: ReplyTarget) => {
    let session = sessions.get(target.idempotencyKey);
    if (!session) sessions.set(target.idempotencyKey, (session = new TeamsStreamSession<Place>()));
    return session;
  };

  /** The conversation to post in, or null when it was uninstalled (its work stops there). */
  async function where(target: ReplyTarget, privately: boolean) {
    const route = routeOf(target);
    const stored = await runtime.loadConversation(target.workspace, route.conversationKey);
    if (!stored) return null;
    if (privately && route.kind !== 'personal') {
      // A private notice asked in a channel goes to the requester's personal chat when there is one.
      const personal = (await runtime.refs.load(target.workspace, keys.personal(target.user.id)))?.conversationKey;
      const dm = typeof personal === 'string' ? await runtime.loadConversation(target.workspace, personal) : null;
      if (dm) return { reference: dm.reference, conversationId: personal as string, replyToId: undefined };
    }
    return { reference: stored.reference, conversationId: route.conversationId, replyToId: route.replyToId };
  }

  type Place = NonNullable<Awaited<ReturnType<typeof where>>>;

  /** The stored reference aimed at the place's conversation, and its reply chain when `inChain`. */
  function referenceOf(place: Place, inChain: boolean): Record<string, unknown> {
    return {
      ...place.reference,
      conversation: { ...(place.reference.conversation as object), id: place.conversationId },
      ...(inChain && place.replyToId ? { activityId: place.replyToId } : {}),
    };
  }

  /** Deletes one of the bot's activities (a withdrawn stream). */
  async function remove(place: Place, activityId: string): Promise<void> {
    await runtime.inConversation(referenceOf(place, false), (context) => context.deleteActivity(activityId));
  }

  /** Posts one activity into the place's conversation (and reply chain); answers the new activity's id. */
  async function send(place: Place, activity: Partial<Activity>): Promise<string> {
    const reference = referenceOf(place, true);
    return runtime.inConversation(reference, async (context) => {
      // context.sendActivity would reply to the proactive turn's own (made-up) activity id;
      // applying the stored reference keeps the reply in the original reply chain.
      const applied = TurnContext.applyConversationReference(activity, reference as Partial<ConversationReference>);
      const [response] = await context.adapter.sendActivities(context, [applied]);
      return response?.id ?? '';
    });
  }

  /** Posts the parts not yet posted for this delivery (a retried turn never posts a part twice). */
  async function postParts(target: ReplyTarget, kind: OutgoingReply['kind'], place: Place, parts: string[], ids: string[] = []): Promise<string[]> {
    for (const [index, text] of parts.entries()) {
      if (index < ids.length) continue;
      const partKey = `${target.idempotencyKey}|${kind}|${index}/${parts.length}`;
      const already = sent.get(partKey);
      if (already) {
        ids.push(already);
        continue;
      }
      let id: string;
      try {
        id = await send(place, { type: ActivityTypes.Message, text, textFormat: TextFormatTypes.Markdown });
      } catch (err) {
        throw new QuorumError('REPLY_FAILED', `Teams did not take the reply (part ${index + 1} of ${parts.length})`, { cause: err });
      }
      sent.set(partKey, id);
      ids.push(id);
    }
    return ids;
  }

  return {
    async post(target: ReplyTarget, reply: OutgoingReply) {
      const place = await where(target, reply.private === true);
      if (!place) {
        runtime.log.info({ event: 'teams.reply_dropped', workspace: target.workspace.externalId }, 'conversation no longer installed; reply dropped');
        return { platformMessageId: 'dropped:uninstalled' };
      }
      const parts = splitText(reply.text, maxChars);
      // A 1:1 stream that showed only progress ends with this reply as its final message.
      const session = sessions.get(target.idempotencyKey);
      if (session?.place && session.streamId && !session.ended && !reply.private) {
        sessions.delete(target.idempotencyKey);
        await send(session.place, session.final(parts[0] ?? ''));
        session.ended = true;
        sent.set(`${target.idempotencyKey}|${reply.kind}|0/${parts.length}`, session.streamId);
        await postParts(target, reply.kind, session.place, parts, [session.streamId]);
        return { platformMessageId: session.streamId };
      }
      const ids = await postParts(target, reply.kind, place, parts);
      return { platformMessageId: ids[0] ?? '' };
    },

    openStream(target: ReplyTarget) {
      // Teams streams bot messages in 1:1 chats only; channels and group chats get one message.
      if (routeOf(target).kind !== 'personal') return null;
      return openTeamsStream(
        {
        maxChars,
        place: async () => {
          const place = await where(target, false);
          if (!place) throw new QuorumError('REPLY_FAILED', 'the conversation is no longer installed');
          return place;
        },
        send,
        remove,
        // The final message carries the first part; the rest are posted as usual, once.
        postRest: async (place, parts, firstId) => {
          sent.set(`${target.idempotencyKey}|answer|0/${parts.length}`, firstId);
          await postParts(target, 'answer', place, parts, [firstId]);
        },
        split: (text) => splitText(text, maxChars),
        },
        sessionOf(target),
      );
    },

    async progress(target: ReplyTarget, status: string) {
      const route = routeOf(target);
      // Teams shows typing indicators in chats only, not in channel posts.
      if (route.kind === 'channel') return;
      if (route.kind === 'personal') {
        // 1:1: an informative update says which step runs (skipped when it would come too soon).
        const session = sessionOf(target);
        if (session.answering || session.ended || session.tooSoon()) return;
        session.place ??= await where(target, false);
        if (!session.place) return;
        const place = session.place;
        await session.send('informative', (fields) => send(place, { type: ActivityTypes.Typing, text: status, ...fields }));
        return;
      }
      const place = await where(target, false);
      if (!place) return;
      await runtime.inConversation(referenceOf(place, false), async (context) => {
        await context.sendActivity({ type: ActivityTypes.Typing });
      });
    },
  };
}
