/**
 * Slack as a knowledge source: channel history page by page for backfills
 * (conversations.history, conversations.replies), and permalinks for citations, built from the
 * workspace's URL (auth.test, asked once per workspace) rather than one chat.getPermalink call
 * per message. Backfill calls are paced per workspace and method below Slack's Tier 3 limit
 * (`rpm`), and a 429 waits its Retry-After (the client, rate-limits.ts). Text is never logged.
 */
import type { webApi } from '@slack/bolt';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { ChannelRef, WorkspaceRef } from '../../src/core/envelope.js';
import type { KnowledgeSource, SharedFile, SourceMessage } from '../../src/core/ports.js';
import type { TokenSource } from './tokens.js';

export const fileSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  title: z.string().nullish(),
  mimetype: z.string().nullish(),
  permalink: z.string().nullish(),
});

export const slackMessageSchema = z.object({
  type: z.string().optional(),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
  reply_count: z.number().optional(),
  files: z.array(fileSchema).optional(),
});
type SlackMessage = z.infer<typeof slackMessageSchema>;

const pageSchema = z.object({
  messages: z.array(slackMessageSchema).default([]),
  has_more: z.boolean().optional(),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

/** Messages that say nothing about the discussion (joins, leaves, topic changes) and bots' own posts. */
const SKIPPED_SUBTYPES = new Set(['channel_join', 'channel_leave', 'group_join', 'group_leave', 'channel_topic', 'channel_purpose', 'channel_name', 'bot_message']);

/** A Slack message as a knowledge source; null for what is not indexed (bots, housekeeping, empty). */
export function sourceMessageOf(m: SlackMessage): SourceMessage | null {
  if (m.bot_id || (m.subtype && SKIPPED_SUBTYPES.has(m.subtype))) return null;
  const files: SharedFile[] = (m.files ?? []).map((f) => ({
    id: f.id,
    name: f.name ?? f.title ?? f.id,
    ...(f.mimetype ? { mimetype: f.mimetype } : {}),
    ...(f.permalink ? { permalink: f.permalink } : {}),
  }));
  if (!(m.text ?? '').trim() && files.length === 0) return null;
  return {
    id: m.ts,
    threadId: m.thread_ts ?? null,
    authorId: m.user ?? null,
    text: m.text ?? '',
    at: new Date(Math.floor(Number(m.ts) * 1000)),
    files,
    hasReplies: (m.reply_count ?? 0) > 0 || (m.thread_ts !== undefined && m.thread_ts === m.ts),
  };
}

export interface SlackKnowledgeOptions {
  client: webApi.WebClient;
  tokens: TokenSource;
  pageSize: number;
  /** Calls per minute per workspace and method (Tier 3 allows about 50). */
  rpm: number;
}

export function createKnowledgeSource(options: SlackKnowledgeOptions): KnowledgeSource {
  const interval = 60_000 / options.rpm;
  // workspace + method → when its next call may go; bounded like every cache.
  const nextSlot = new LRUCache<string, number>({ max: 10_000 });
  const urls = new LRUCache<string, string>({ max: 10_000, ttl: 24 * 3_600_000 });

  async function paced(workspace: WorkspaceRef, method: string): Promise<void> {
    const key = `${workspace.externalId}:${method}`;
    const now = Date.now();
    const at = Math.max(now, nextSlot.get(key) ?? 0);
    nextSlot.set(key, at + interval);
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }

  async function page(workspace: WorkspaceRef, channel: ChannelRef, cursor: string | null, threadId?: string) {
    const method = threadId ? 'replies' : 'history';
    await paced(workspace, method);
    const { token } = await options.tokens.forWorkspace(workspace);
    const args = { token, channel: channel.id, limit: options.pageSize, ...(cursor ? { cursor } : {}) };
    const res = pageSchema.parse(
      threadId ? await options.client.conversations.replies({ ...args, ts: threadId }) : await options.client.conversations.history(args),
    );
    const next = res.has_more ? res.response_metadata?.next_cursor || null : null;
    return { messages: res.messages.map(sourceMessageOf).filter((m): m is SourceMessage => m !== null), next };
  }

  return {
    historyPage: (workspace, channel, cursor) => page(workspace, channel, cursor),
    repliesPage: (workspace, channel, threadId, cursor) => page(workspace, channel, cursor, threadId),
    async permalink(workspace, channel, message) {
      let url = urls.get(workspace.externalId);
      if (!url) {
        const { token } = await options.tokens.forWorkspace(workspace);
        const found = z.object({ url: z.string().url() }).safeParse(await options.client.auth.test({ token }));
        if (!found.success) return null;
        url = found.data.url.endsWith('/') ? found.data.url : `${found.data.url}/`;
        urls.set(workspace.externalId, url);
      }
      return slackPermalink(url, channel.id, message.id, message.threadId);
    },
  };
}

/** Slack's permalink form: `…/archives/C123/p1767250060000200`, with the thread for a reply. */
export function slackPermalink(workspaceUrl: string, channelId: string, ts: string, threadTs: string | null): string {
  const base = `${workspaceUrl}archives/${channelId}/p${ts.replace('.', '')}`;
  return threadTs && threadTs !== ts ? `${base}?thread_ts=${threadTs}&cid=${channelId}` : base;
}
