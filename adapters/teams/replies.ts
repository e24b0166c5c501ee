/**
 * ReplySink for Teams: proactive posts into the stored conversation (the HTTP request that
 * brought the message ended long ago), into the right reply chain, as Markdown, split when long.
 */
import { ActivityTypes, TextFormatTypes, TurnContext, type ConversationReference } from 'botbuilder';
import { QuorumError } from '../../src/core/errors.js';
import type { OutgoingReply, ReplySink, ReplyTarget } from '../../src/core/ports.js';
import type { TeamsReplyRoute } from './activity.js';
import { BoundedCache, keys, type TeamsRuntime } from './runtime.js';

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

  return {
    async post(target: ReplyTarget, reply: OutgoingReply) {
      const place = await where(target, reply.private === true);
      if (!place) {
        runtime.log.info({ event: 'teams.reply_dropped', workspace: target.workspace.externalId }, 'conversation no longer installed; reply dropped');
        return { platformMessageId: 'dropped:uninstalled' };
      }
      const parts = splitText(reply.text, maxChars);
      const ids: string[] = [];
      for (const [index, text] of parts.entries()) {
        const partKey = `${target.idempotencyKey}|${reply.kind}|${index}/${parts.length}`;
        const already = sent.get(partKey);
        if (already) {
          ids.push(already);
          continue;
        }
        const reference = {
          ...place.reference,
          conversation: { ...(place.reference.conversation as object), id: place.conversationId },
          ...(place.replyToId ? { activityId: place.replyToId } : {}),
        };
        let id: string;
        try {
          id = await runtime.inConversation(reference, async (context) => {
            // context.sendActivity would reply to the proactive turn's own (made-up) activity id;
            // applying the stored reference keeps the reply in the original reply chain.
            const activity = TurnContext.applyConversationReference(
              { type: ActivityTypes.Message, text, textFormat: TextFormatTypes.Markdown },
              reference as Partial<ConversationReference>,
            );
            const [response] = await context.adapter.sendActivities(context, [activity]);
            return response?.id ?? '';
          });
        } catch (err) {
          throw new QuorumError('REPLY_FAILED', `Teams did not take the reply (part ${index + 1} of ${parts.length})`, { cause: err });
        }
        sent.set(partKey, id);
        ids.push(id);
      }
      return { platformMessageId: ids[0] ?? '' };
    },

    async progress(target: ReplyTarget) {
      const route = routeOf(target);
      // Teams shows typing indicators in chats only, not in channel posts.
      if (route.kind === 'channel') return;
      const place = await where(target, false);
      if (!place) return;
      const reference = { ...place.reference, conversation: { ...(place.reference.conversation as object), id: place.conversationId } };
      await runtime.inConversation(reference, async (context) => {
        await context.sendActivity({ type: ActivityTypes.Typing });
      });
    },
  };
}
