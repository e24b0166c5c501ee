/**
 * ReplySink for Teams: proactive posts into the stored conversation (the HTTP request that
 * brought the message ended long ago), into the right reply chain, as Markdown, split when long.
 * In 1:1 chats the answer streams (Teams' bot streaming protocol, see stream.ts). In channels and
 * group chats a status message shows while the turn works and the answer replaces it
 * (updateActivity), as in Slack: its id is stored before the model runs, so a re-run after a crash
 * updates that message instead of posting the answer a second time.
 */
import { LRUCache } from 'lru-cache';
import { ActivityTypes, TextFormatTypes, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { QuorumError } from '../../src/core/errors.js';
import { isBlank, neutralizeText } from '../../src/core/outgoing-text.js';
import type { DeliveryMemory, OutgoingReply, ReplySink, ReplyTarget } from '../../src/core/ports.js';
import { showFurtherParts, statusMessages } from '../../src/core/reply-memory.js';
import type { ReplyAction } from '../../src/core/interactions.js';
import type { TeamsReplyRoute } from './activity.js';
import { actionsAttachment } from './cards.js';
import { tablesAsText } from './markdown.js';
import { keys, type TeamsRuntime } from './runtime.js';
import { openTeamsStream, TeamsStreamSession } from './stream.js';
import { splitText } from '../../src/core/split-text.js';

/** Teams accepts about 28 KB per message; stay well below it and split at paragraph or line ends. */
export const DEFAULT_MAX_CHARS = 7_000;

function routeOf(target: ReplyTarget): TeamsReplyRoute {
  const route = target.replyRoute as Partial<TeamsReplyRoute>;
  if (!route.conversationKey || !route.conversationId || !route.replyToId) {
    throw new QuorumError('REPLY_FAILED', 'the Teams reply route is incomplete');
  }
  return route as TeamsReplyRoute;
}

export function createReplySink(runtime: TeamsRuntime, options: { maxChars?: number } = {}): ReplySink {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  // 1:1 chats: each turn's stream (informative updates, then the answer), by delivery.
  const sessions = new LRUCache<string, TeamsStreamSession<Place>>({ max: 10_000, ttl: 30 * 60_000 });
  const sessionOf = (target: ReplyTarget, memory: DeliveryMemory) => {
    let session = sessions.get(target.idempotencyKey);
    // Made before this attempt stored anything: a status id set now is an earlier attempt's (an
    // ended session is one too: a retry in this process).
    if (!session || session.ended) sessions.set(target.idempotencyKey, (session = new TeamsStreamSession<Place>(memory.statusMessageId)));
    return session;
  };
  // Channels and group chats: the status message shown while the model runs, by delivery (chained so post waits for it).
  const statuses = statusMessages(new LRUCache<string, Promise<string | null>>({ max: 10_000, ttl: 30 * 60_000 }));

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
  async function send(place: Place, unsafe: Partial<Activity>): Promise<string> {
    const activity = safely(unsafe);
    const reference = referenceOf(place, true);
    return runtime.inConversation(reference, async (context) => {
      // context.sendActivity would reply to the proactive turn's own (made-up) activity id;
      // applying the stored reference keeps the reply in the original reply chain.
      const applied = TurnContext.applyConversationReference(activity, reference as Partial<ConversationReference>);
      const [response] = await context.adapter.sendActivities(context, [applied]);
      return response?.id ?? '';
    });
  }

  const message = (text: string, actions?: readonly ReplyAction[]): Partial<Activity> => ({
    type: ActivityTypes.Message,
    text,
    textFormat: TextFormatTypes.Markdown,
    // Buttons (feedback) as an Adaptive Card under the text; `attachments: []` clears them on an update.
    ...(actions ? { attachments: actions.length ? [actionsAttachment(actions)] : [] } : {}),
  });

  /** Posts one message; its id must be known, for it may be stored and updated. */
  async function post(place: Place, text: string, actions?: readonly ReplyAction[]): Promise<string> {
    let id: string;
    try {
      id = await send(place, message(text, actions));
    } catch (err) {
      throw new QuorumError('REPLY_FAILED', 'Teams did not take the reply', { cause: err });
    }
    if (!id) throw new QuorumError('REPLY_FAILED', 'Teams took the reply without an id');
    return id;
  }

  /**
   * Replaces the text of one of the bot's messages; false when Teams will not: the message is gone
   * (deleted, or a stream that never showed text) or cannot be updated. The caller then posts anew:
   * a reply shown twice is better than one lost.
   */
  async function update(place: Place, activityId: string, text: string, actions?: readonly ReplyAction[]): Promise<boolean> {
    try {
      await runtime.inConversation(referenceOf(place, false), (context) => context.updateActivity(safely({ ...message(text, actions), id: activityId })));
      return true;
    } catch (err) {
      if (refused(err)) return false;
      throw new QuorumError('REPLY_FAILED', 'Teams did not take the update', { cause: err });
    }
  }

  /** Shows the reply's first part in `shownId` (posted when there is none or it is gone), then the rest once each. */
  async function show(memory: DeliveryMemory, place: Place, parts: string[], shownId: string | null, actions?: readonly ReplyAction[]): Promise<string> {
    // The buttons go on the message that holds the reply (its first part).
    const first = shownId && (await update(place, shownId, parts[0] ?? '', actions)) ? shownId : await post(place, parts[0] ?? '', actions);
    await showRest(memory, place, parts);
    return first;
  }

  /** The parts after the first: each one's id is stored before its text shows (see showFurtherParts). */
  async function showRest(memory: DeliveryMemory, place: Place, parts: string[]): Promise<void> {
    await showFurtherParts(parts.slice(1), memory, {
      post: (text) => post(place, text),
      update: (id, text) => update(place, id, text),
      remove: (id) => remove(place, id).catch(() => undefined),
      placeholder: '_…_',
    });
  }

  return {
    async post(target: ReplyTarget, reply: OutgoingReply, memory: DeliveryMemory) {
      const place = await where(target, reply.private === true);
      if (!place) {
        runtime.log.info({ event: 'teams.reply_dropped', workspace: target.workspace.externalId }, 'conversation no longer installed; reply dropped');
        return { platformMessageId: 'dropped:uninstalled' };
      }
      const parts = splitText(reply.text, maxChars);
      const route = routeOf(target);
      // A 1:1 stream that showed only progress ends with this reply as its final message.
      const session = sessions.get(target.idempotencyKey);
      if (session?.place && session.streamId && !session.ended && !reply.private) {
        sessions.delete(target.idempotencyKey);
        await send(session.place, { ...session.final(parts[0] ?? ''), ...(reply.actions?.length ? { attachments: [actionsAttachment(reply.actions)] } : {}) });
        session.ended = true;
        await showRest(memory, session.place, parts);
        return { platformMessageId: session.streamId };
      }
      // The message this reply replaces: in 1:1 chats an earlier attempt's stream (this attempt's
      // ended or was withdrawn), elsewhere the status message.
      const shownId =
        route.kind === 'personal'
          ? session
            ? session.inherited
            : memory.statusMessageId
          : ((await statuses.current(target)) ?? memory.statusMessageId);
      statuses.forget(target);
      if (place.conversationId === route.conversationId) return { platformMessageId: await show(memory, place, parts, shownId, reply.actions) };
      // A private reply went to the requester's personal chat: the status message in the channel goes.
      const channel = shownId ? await where(target, false) : null;
      if (channel && shownId) await remove(channel, shownId).catch(() => undefined);
      return { platformMessageId: await show({ ...memory, partMessageIds: [] }, place, parts, null, reply.actions) };
    },

    openStream(target: ReplyTarget, memory: DeliveryMemory, started?: (messageId: string) => Promise<void>) {
      // Teams streams bot messages in 1:1 chats only; channels and group chats get one message.
      if (routeOf(target).kind !== 'personal') return null;
      const session = sessionOf(target, memory);
      // A re-run: the answer replaces the earlier attempt's message (post) instead of streaming into a second one.
      if (session.inherited) return null;
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
          postRest: (place, parts) => showRest(memory, place, parts),
          split: (text) => splitText(text, maxChars),
          // Best effort: without it a re-run after a crash may show the answer a second time.
          started: async (streamId) =>
            started?.(streamId).catch((err: Error) =>
              runtime.log.warn({ event: 'reply.stream_not_remembered', err: err.message }, 'streamed message not remembered'),
            ),
        },
        session,
      );
    },

    async progress(target: ReplyTarget, status: string, memory: DeliveryMemory) {
      const route = routeOf(target);
      if (route.kind === 'personal') {
        const session = sessionOf(target, memory);
        // A re-run shows a typing indicator only: a new stream would put the answer in a second message.
        if (session.inherited) {
          const place = await where(target, false);
          if (place) await runtime.inConversation(referenceOf(place, false), (context) => context.sendActivity({ type: ActivityTypes.Typing }));
          return;
        }
        // 1:1: an informative update says which step runs (skipped when it would come too soon).
        if (session.answering || session.ended || session.tooSoon()) return;
        session.place ??= await where(target, false);
        if (!session.place) return;
        const place = session.place;
        await session.send('informative', (fields) => send(place, { type: ActivityTypes.Typing, text: status, ...fields }));
        // The stream's message is the one a re-run replaces.
        return session.streamId ? { statusMessageId: session.streamId } : undefined;
      }
      // Channels and group chats: one status message, updated in place; the answer replaces it.
      return statuses.update(target, memory, async (id) => {
        const place = await where(target, false);
        if (!place) return id;
        const text = `_${status}_`;
        if (id && (await update(place, id, text))) return id;
        return post(place, text);
      });
    },
  };
}

/**
 * Every activity's text as it leaves: neutralized (src/core/outgoing-text.ts), tables made
 * readable (Teams renders no Markdown tables), and a message never empty.
 */
export function safely<A extends Partial<Activity>>(activity: A): A {
  if (typeof activity.text !== 'string') return activity;
  const text = tablesAsText(neutralizeText(activity.text));
  return { ...activity, text: isBlank(text) && activity.type === ActivityTypes.Message ? EMPTY_TEXT : text };
}

/** Teams shows nothing for a message without text: one that is empty once neutralized says so instead. */
export const EMPTY_TEXT = '_(no text)_';

/**
 * Whether Teams refused the request for good (a 4xx: not found, not a known activity, not
 * allowed), not for now (429 is retried by the connector client; 5xx and dropped connections throw).
 */
function refused(err: unknown): boolean {
  const status = (err as { statusCode?: number }).statusCode ?? 0;
  return status >= 400 && status < 500 && status !== 429;
}
