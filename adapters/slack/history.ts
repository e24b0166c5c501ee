/**
 * ConversationHistory for the core: a thread through conversations.replies, a channel's or DM's
 * latest messages through conversations.history. Pages are bounded; every failure (not in the
 * channel, missing scope, Slack down) is HISTORY_UNAVAILABLE, so the tool falls back to stored
 * messages. Message text is returned, never logged.
 */
import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import { MAX_ENVELOPE_FILES, type ChannelRef, type WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { ConversationHistory, PlatformMessage } from '../../src/core/ports.js';
import { fileRefsOf, slackFileSchema } from './file-refs.js';
import type { TokenSource } from './tokens.js';

const messageSchema = z.object({
  type: z.string().optional(),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string(),
  files: z.array(slackFileSchema).optional().catch(undefined),
});

type SlackMessage = z.infer<typeof messageSchema>;

const pageSchema = z.object({
  messages: z.array(messageSchema).default([]),
  has_more: z.boolean().optional(),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

/** Housekeeping lines Slack keeps in history; they say nothing about the discussion. */
const SKIPPED_SUBTYPES = new Set(['channel_join', 'channel_leave', 'group_join', 'group_leave']);

export interface HistoryOptions {
  client: webApi.WebClient;
  tokens: TokenSource;
  /** Pages read per call (Slack's page holds at most `pageSize` messages). */
  maxPages?: number;
  pageSize?: number;
}

export function createHistory(options: HistoryOptions): ConversationHistory {
  const maxPages = options.maxPages ?? 2;
  const pageSize = options.pageSize ?? 100;

  /** A thread (replies) or the channel (history), until `limit` messages or `maxPages` pages. */
  async function read(workspace: WorkspaceRef, channel: ChannelRef, limit: number, threadTs?: string): Promise<SlackMessage[]> {
    const method = threadTs ? 'replies' : 'history';
    const messages: SlackMessage[] = [];
    try {
      const { token } = await options.tokens.forWorkspace(workspace);
      let cursor: string | undefined;
      for (let page = 0; page < maxPages && messages.length < limit; page += 1) {
        const args = { token, channel: channel.id, limit: Math.min(pageSize, limit - messages.length), ...(cursor ? { cursor } : {}) };
        const res = pageSchema.parse(
          threadTs
            ? await options.client.conversations.replies({ ...args, ts: threadTs })
            : await options.client.conversations.history(args),
        );
        messages.push(...res.messages);
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!res.has_more || !cursor) break;
      }
    } catch (err) {
      throw new QuorumError('HISTORY_UNAVAILABLE', `Slack conversations.${method} failed: ${slackError(err)}`, { cause: err });
    }
    return messages.slice(0, limit);
  }

  return {
    async thread(workspace, channel, threadId, limit) {
      // Oldest first from Slack (the root, then replies): a thread longer than what is read keeps its start.
      return toPlatform(await read(workspace, channel, limit, threadId));
    },
    async recent(workspace, channel, limit) {
      // Newest first from Slack: the pages read are the latest messages; the core wants oldest first.
      return toPlatform((await read(workspace, channel, limit)).reverse());
    },
  };
}

function toPlatform(messages: SlackMessage[]): PlatformMessage[] {
  return messages
    .filter((m) => !(m.subtype && SKIPPED_SUBTYPES.has(m.subtype)) && ((m.text ?? '') !== '' || m.files?.length))
    .map((m) => {
      const files = fileRefsOf(m.files, MAX_ENVELOPE_FILES);
      return {
        authorId: m.user ?? m.bot_id ?? 'unknown',
        authorIsBot: m.bot_id !== undefined || m.subtype === 'bot_message',
        // A message that only shares files says which.
        text: m.text || `(shared ${files.map((f) => f.name).join(', ')})`,
        at: new Date(Math.floor(Number(m.ts) * 1000)),
        ...(files.length ? { files } : {}),
      };
    });
}

/** Slack's error code (not_in_channel, missing_scope, …) or the failure's kind; never message content. */
export function slackError(err: unknown): string {
  const e = err as { data?: { error?: unknown }; code?: unknown };
  if (typeof e?.data?.error === 'string') return e.data.error;
  return typeof e?.code === 'string' ? e.code : 'unexpected';
}
