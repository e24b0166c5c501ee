/**
 * Slack as a knowledge source: channel history page by page for backfills
 * (conversations.history, conversations.replies), and permalinks for citations, built from the
 * workspace's URL (auth.test, asked once per workspace) rather than one chat.getPermalink call
 * per message. Backfill calls are paced per workspace and method below Slack's Tier 3 limit
 * (`rpm`), and a 429 waits its Retry-After, its retry paced like any call (createPacer). Text is never logged.
 */
import { webApi } from '@slack/bolt';
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
  /** A client that hands a 429 back at once (no retry of its own: the retry is paced here). */
  client: webApi.WebClient;
  tokens: TokenSource;
  pageSize: number;
  /** Calls per minute per workspace and method (Tier 3 allows about 50). */
  rpm: number;
  /** Times one call is tried again after a 429 (each retry paced like any call). */
  rateLimitRetries?: number;
  /** The clock the pacer waits on (tests give a virtual one). */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

const realClock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

/**
 * Paces calls per workspace and method: each call, a retry after a 429 included, takes the next
 * slot `interval` after the previous one, and a 429's Retry-After pushes the next slot out, so
 * that what Slack sees stays within its per-method limit.
 */
export function createPacer(rpm: number, retries: number, clock = realClock) {
  const interval = 60_000 / rpm;
  // workspace + method → when its next call may go; bounded like every cache.
  const nextSlot = new LRUCache<string, number>({ max: 10_000 });
  async function slot(key: string): Promise<void> {
    const now = clock.now();
    const at = Math.max(now, nextSlot.get(key) ?? 0);
    nextSlot.set(key, at + interval);
    if (at > now) await clock.sleep(at - now);
  }
  return async function paced<T>(key: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await slot(key);
      try {
        return await call();
      } catch (err) {
        const limited = err as Partial<webApi.WebAPIRateLimitedError>;
        if (limited.code !== webApi.ErrorCode.RateLimitedError || attempt >= retries) throw err;
        const until = clock.now() + (limited.retryAfter ?? 1) * 1000;
        nextSlot.set(key, Math.max(nextSlot.get(key) ?? 0, until));
      }
    }
  };
}

export function createKnowledgeSource(options: SlackKnowledgeOptions): KnowledgeSource {
  const paced = createPacer(options.rpm, options.rateLimitRetries ?? 5, options.clock);
  const urls = new LRUCache<string, string>({ max: 10_000, ttl: 24 * 3_600_000 });

  async function page(workspace: WorkspaceRef, channel: ChannelRef, cursor: string | null, threadId?: string) {
    const method = threadId ? 'replies' : 'history';
    const { token } = await options.tokens.forWorkspace(workspace);
    const args = { token, channel: channel.id, limit: options.pageSize, ...(cursor ? { cursor } : {}) };
    const raw = await paced(`${workspace.externalId}:${method}`, () =>
      threadId ? options.client.conversations.replies({ ...args, ts: threadId }) : options.client.conversations.history(args),
    );
    const res = pageSchema.parse(raw);
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
