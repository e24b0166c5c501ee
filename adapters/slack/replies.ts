/**
 * ReplySink on chat.postMessage: in the right thread, as Markdown in a `markdown` block (Slack
 * renders it itself, tables included, which `markdown_text` does not; so no hand-made mrkdwn
 * conversion), neutralized (src/core/outgoing-text.ts), split below Slack's limits, with a status
 * message that the answer replaces (chat.update), and further parts whose messages are stored
 * before their text shows, so that nothing is posted twice.
 */
import type { webApi } from '@slack/bolt';
import type { Logger, OutgoingReply, ReplySink, ReplyTarget } from '../../src/core/ports.js';
import { showFurtherParts, statusMessages } from '../../src/core/reply-memory.js';
import { LRUCache } from 'lru-cache';
import type { ReplyAction } from '../../src/core/interactions.js';
import { markdownMessage, messageWithActions, outgoing } from './markdown.js';
import type { SlackReplyRoute } from './events.js';
import { openSlackStream } from './stream.js';
import type { TokenSource } from './tokens.js';
import { splitText } from '../../src/core/split-text.js';

type WebClient = webApi.WebClient;

/**
 * A markdown block holds at most 12,000 characters (and Slack truncates `text` at 40,000); long
 * messages read poorly, so a reply is split well below both.
 */
export const MAX_MESSAGE_CHARS = 3_500;

/** chat.update; false when Slack says the message no longer exists. */
async function updateUnlessGone(client: WebClient, args: { token: string; channel: string; ts: string; text: string; actions?: ReplyAction[] | undefined }): Promise<boolean> {
  const { text, actions, ...where } = args;
  try {
    await client.chat.update({ ...where, ...messageWithActions(text, actions) });
    return true;
  } catch (err) {
    if ((err as { data?: { error?: string } }).data?.error === 'message_not_found') return false;
    throw err;
  }
}

export interface SlackReplySinkOptions {
  /** A client whose only retries are 429s honouring Retry-After: a post whose fate is unknown is never sent again. */
  client: WebClient;
  tokens: TokenSource;
  log: Logger;
}

function routeOf(target: ReplyTarget): Partial<SlackReplyRoute> {
  return target.replyRoute as Partial<SlackReplyRoute>;
}

function threadOf(target: ReplyTarget): string | undefined {
  if (target.channel.kind === 'dm') return routeOf(target).threadTs;
  return target.threadId ?? target.messageId;
}

export function createReplySink(options: SlackReplySinkOptions): ReplySink {
  const { client, tokens } = options;
  // The status message shown while the model runs (chained so post waits for it).
  const statuses = statusMessages(new LRUCache<string, Promise<string | null>>({ max: 5_000, ttl: 30 * 60_000 }));

  return {
    progress(target, status, memory) {
      // A re-run of the delivery starts from the status message its earlier attempt stored.
      return statuses.update(target, memory, async (ts) => {
        const { token } = await tokens.forWorkspace(target.workspace);
        const content = markdownMessage(`_${status}_`);
        if (ts) {
          await client.chat.update({ token, channel: target.channel.id, ts, ...content });
          return ts;
        }
        const thread = threadOf(target);
        const res = await client.chat.postMessage({ token, channel: target.channel.id, ...content, ...(thread ? { thread_ts: thread } : {}) });
        return res.ts ?? null;
      });
    },

    async post(target, reply: OutgoingReply, memory) {
      const { token } = await tokens.forWorkspace(target.workspace);
      const shownNow = await statuses.current(target);
      const statusTs = shownNow ?? memory.statusMessageId;
      const chunks = splitText(outgoing(reply.text), MAX_MESSAGE_CHARS);
      const thread = threadOf(target);
      const channel = target.channel.id;
      // The buttons go under the last part (the end of the answer), which is the first when there is one.
      const last = chunks.length - 1;
      const actionsAt = (index: number) => (index === last ? reply.actions : undefined);

      if (reply.private && target.channel.kind !== 'dm') {
        if (statusTs) await client.chat.delete({ token, channel, ts: statusTs }).catch(() => undefined);
        statuses.forget(target);
        let first: string | undefined;
        for (const [index, text] of chunks.entries()) {
          const content = messageWithActions(text, actionsAt(index));
          const res = await client.chat.postEphemeral({ token, channel, user: target.user.id, ...content, ...(thread ? { thread_ts: thread } : {}) });
          first ??= res.message_ts;
        }
        return { platformMessageId: first ?? 'ephemeral' };
      }

      const actionsFor = (text: string) => (text === chunks[last] ? reply.actions : undefined);
      const postText = async (text: string, actions = actionsFor(text)) => {
        const res = await client.chat.postMessage({ token, channel, ...messageWithActions(text, actions), ...(thread ? { thread_ts: thread } : {}) });
        if (!res.ts) throw new Error('chat.postMessage answered without a ts');
        return res.ts;
      };
      const update = (ts: string, text: string, actions = actionsFor(text)) => updateUnlessGone(client, { token, channel, ts, text, actions });
      // A message from an earlier attempt (before a crash) may be a stream that was never ended.
      if (!shownNow && statusTs) await client.chat.stopStream({ token, channel, ts: statusTs }).catch(() => undefined);
      // The status message becomes the answer's first part: one message, however the turn ends
      // (unless it is gone: someone deleted it, or a withdrawn stream took it).
      const first = statusTs && (await update(statusTs, chunks[0]!, actionsAt(0))) ? statusTs : await postText(chunks[0]!, actionsAt(0));
      // A long answer's further parts: each one's ts is stored before its text shows (and a re-run updates them).
      await showFurtherParts(chunks.slice(1), memory, {
        post: (text) => postText(text),
        update: (ts, text) => update(ts, text),
        remove: (ts) => client.chat.delete({ token, channel, ts }).then(() => undefined, () => undefined),
        placeholder: '_…_',
      });
      statuses.forget(target);
      return { platformMessageId: first };
    },

    openStream(target, memory, started) {
      const thread = threadOf(target);
      // A stream is always a thread reply: a top-level DM gets its answer as one message instead.
      if (!thread) return null;
      const status = {
        current: async () => (await statuses.current(target)) ?? memory.statusMessageId,
        clear: () => statuses.forget(target),
      };
      return openSlackStream({ client, tokens, thread, status, started, log: options.log }, target);
    },
  };
}
