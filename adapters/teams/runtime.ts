/** What the Teams ports share: the CloudAdapter and the stored references. */
import { LRUCache } from 'lru-cache';
import { TurnContext, type CloudAdapter, type ConversationReference } from 'botbuilder';
import { z } from 'zod';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import type { ConversationRefStore, Logger } from '../../src/core/ports.js';
import { conversationKindOf, type TeamsActivity } from './activity.js';

/** The stored form of a conversation: botbuilder's reference plus what membership needs. */
export const storedConversationSchema = z.object({
  reference: z.record(z.string(), z.unknown()),
  kind: z.enum(['personal', 'groupChat', 'channel']),
  teamId: z.string().optional(),
});
export type StoredConversation = z.infer<typeof storedConversationSchema>;

export const keys = {
  /** team id for channels, chat id otherwise */
  conversation: (conversationKey: string) => `conv:${conversationKey}`,
  /** channel id → its team */
  channel: (channelId: string) => `chan:${channelId}`,
  /** aadObjectId → a conversation to look the user up in */
  user: (aadObjectId: string) => `user:${aadObjectId}`,
  /** aadObjectId → the user's personal chat with the bot */
  personal: (aadObjectId: string) => `dm:${aadObjectId}`,
  install: (conversationKey: string) => `install:${conversationKey}`,
  /** a team (its General channel's conversation id) → its Microsoft 365 group id, for Graph */
  team: (teamId: string) => `team:${teamId}`,
};

export interface TeamsRuntime {
  adapter: CloudAdapter;
  appId: string;
  refs: ConversationRefStore;
  log: Logger;
  /** Runs `fn` in a proactive turn on the conversation (the connector client carries the bot's token). */
  inConversation<T>(reference: Record<string, unknown>, fn: (context: TurnContext) => Promise<T>): Promise<T>;
  loadConversation(workspace: WorkspaceRef, conversationKey: string): Promise<StoredConversation | null>;
  /** Saves a reference unless the same one was saved recently (keeps intake to one write). */
  remember(workspace: WorkspaceRef, key: string, data: Record<string, unknown>): Promise<void>;
  /** Forgets the recently-saved marks (after references were removed). */
  forget(workspace: WorkspaceRef, key: string): void;
}

export function createRuntime(adapter: CloudAdapter, appId: string, refs: ConversationRefStore, log: Logger): TeamsRuntime {
  const saved = new LRUCache<string, string>({ max: 20_000, ttl: 10 * 60_000 });
  const loaded = new LRUCache<string, StoredConversation>({ max: 5_000, ttl: 60_000 });
  return {
    adapter,
    appId,
    refs,
    log,
    async inConversation(reference, fn) {
      let result: Awaited<ReturnType<typeof fn>> | undefined;
      let ran = false;
      await adapter.continueConversationAsync(appId, reference as Partial<ConversationReference>, async (context) => {
        result = await fn(context);
        ran = true;
      });
      if (!ran) throw new Error('proactive turn did not run');
      return result as Awaited<ReturnType<typeof fn>>;
    },
    async loadConversation(workspace, conversationKey) {
      const cacheKey = `${workspace.externalId}|${conversationKey}`;
      const hit = loaded.get(cacheKey);
      if (hit) return hit;
      const data = await refs.load(workspace, keys.conversation(conversationKey));
      const parsed = storedConversationSchema.safeParse(data);
      if (!parsed.success) return null;
      loaded.set(cacheKey, parsed.data);
      return parsed.data;
    },
    async remember(workspace, key, data) {
      const cacheKey = `${workspace.externalId}|${key}`;
      const fingerprint = JSON.stringify(data);
      if (saved.get(cacheKey) === fingerprint) return;
      await refs.save(workspace, key, data);
      saved.set(cacheKey, fingerprint);
    },
    forget(workspace, key) {
      saved.delete(`${workspace.externalId}|${key}`);
      loaded.delete(`${workspace.externalId}|${key.replace(/^conv:/, '')}`);
    },
  };
}

/** The reference botbuilder needs to post into the activity's conversation later (reply-chain suffix dropped). */
export function storedConversationOf(activity: TeamsActivity, conversationKey: string): StoredConversation {
  const reference = TurnContext.getConversationReference(activity as never) as Record<string, unknown>;
  const kind = conversationKindOf(activity);
  const conversation = { ...(reference.conversation as Record<string, unknown>), id: conversationKey };
  // Only routing: no message text or activity id is kept.
  const { activityId: _activityId, locale: _locale, ...rest } = reference;
  return {
    reference: { ...rest, conversation },
    kind,
    ...(kind === 'channel' && activity.channelData?.team?.id ? { teamId: activity.channelData.team.id } : {}),
  };
}
