/**
 * Teams activities at the wire: the zod shape Quorum relies on, and the mapping of a message
 * activity to an Envelope. Pure functions, no SDK: botbuilder only carries the activity here.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isCommandText } from '../../src/core/commands/index.js';
import { MAX_ENVELOPE_FILES, type ChannelRef, type EnvelopeInput, type WorkspaceRef } from '../../src/core/envelope.js';
import { fileRefsOfActivity } from './files.js';

const account = z.object({ id: z.string().min(1), name: z.string().optional(), aadObjectId: z.string().min(1).optional() }).loose();

/** The fields of an activity Quorum reads; everything else passes through untouched. */
export const activitySchema = z
  .object({
    type: z.string().min(1),
    id: z.string().min(1).optional(),
    channelId: z.string().optional(),
    serviceUrl: z.string().optional(),
    text: z.string().optional(),
    timestamp: z.string().optional(),
    replyToId: z.string().optional(),
    action: z.string().optional(),
    from: account.optional(),
    recipient: account.optional(),
    conversation: z
      .object({ id: z.string().min(1), conversationType: z.string().optional(), tenantId: z.string().optional(), name: z.string().optional() })
      .loose()
      .optional(),
    entities: z.array(z.object({ type: z.string() }).loose()).optional(),
    /** Files, pictures, the message's own HTML copy, cards: files.ts picks the files. */
    attachments: z.unknown().optional(),
    membersAdded: z.array(account).optional(),
    membersRemoved: z.array(account).optional(),
    channelData: z
      .object({
        tenant: z.object({ id: z.string() }).loose().optional(),
        team: z.object({ id: z.string(), name: z.string().optional(), aadGroupId: z.string().optional() }).loose().optional(),
        channel: z.object({ id: z.string(), name: z.string().optional(), membershipType: z.string().optional() }).loose().optional(),
        eventType: z.string().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type TeamsActivity = z.infer<typeof activitySchema>;

/** The tenant the activity belongs to: conversation.tenantId, else channelData.tenant.id. */
export function tenantOf(activity: TeamsActivity): string | undefined {
  return activity.conversation?.tenantId ?? activity.channelData?.tenant?.id;
}

export function workspaceOf(tenantId: string): WorkspaceRef {
  return { platform: 'teams', externalId: tenantId };
}

/** A channel's conversation id carries `;messageid=<root>` for the reply chain; the base names the channel. */
export function baseConversationId(conversationId: string): string {
  const at = conversationId.indexOf(';messageid=');
  return at === -1 ? conversationId : conversationId.slice(0, at);
}

export function rootFromConversation(conversationId: string): string | undefined {
  const match = /;messageid=([^;]+)/.exec(conversationId);
  return match?.[1];
}

/**
 * Private and shared channels have their own member lists that the Bot Connector does not
 * serve (Microsoft Graph does): Quorum treats them as closed.
 */
export function isClosedChannel(activity: TeamsActivity): boolean {
  const type = activity.channelData?.channel?.membershipType?.toLowerCase();
  return type === 'private' || type === 'shared';
}

/**
 * Removes the `<at>…</at>` of mentions of the bot, then trims. In an `/agent` command, mentions of
 * people become `@<id>` (their AAD object id when Teams gives it): the form the grammar reads.
 */
export function stripBotMention(activity: TeamsActivity): string {
  const botId = activity.recipient?.id;
  const mentions = (activity.entities ?? []).flatMap((entity) => {
    const { mentioned, text } = entity as { mentioned?: { id?: string; aadObjectId?: string }; text?: unknown };
    return entity.type === 'mention' && typeof text === 'string' && text && mentioned?.id
      ? [{ text, id: mentioned.aadObjectId ?? mentioned.id, isBot: mentioned.id === botId }]
      : [];
  });
  let text = activity.text ?? '';
  for (const m of mentions) if (m.isBot) text = text.split(m.text).join(' ');
  text = text.replace(/\u00a0|&nbsp;/g, ' ').replace(/[ \t]+/g, ' ').trim();
  if (isCommandText(text)) for (const m of mentions) if (!m.isBot) text = text.split(m.text).join(`@${m.id}`);
  return text;
}

function mentionsBot(activity: TeamsActivity): boolean {
  const botId = activity.recipient?.id;
  return (activity.entities ?? []).some(
    (e) => e.type === 'mention' && (e as { mentioned?: { id?: string } }).mentioned?.id === botId,
  );
}

export type ConversationKind = 'personal' | 'groupChat' | 'channel';

/** Teams are installed as a whole: a channel's reference is stored under its team. */
export function conversationKeyOf(activity: TeamsActivity): string {
  const base = baseConversationId(activity.conversation?.id ?? '');
  return conversationKindOf(activity) === 'channel' ? (activity.channelData?.team?.id ?? base) : base;
}

export function conversationKindOf(activity: TeamsActivity): ConversationKind {
  const type = activity.conversation?.conversationType;
  if (type === 'channel') return 'channel';
  if (type === 'groupChat') return 'groupChat';
  return 'personal';
}

export function channelRefOf(activity: TeamsActivity): ChannelRef {
  const conversationId = activity.conversation?.id ?? '';
  switch (conversationKindOf(activity)) {
    case 'channel': {
      const channel = activity.channelData?.channel;
      return { id: channel?.id ?? baseConversationId(conversationId), kind: 'channel', ...(channel?.name ? { name: channel.name } : {}) };
    }
    case 'groupChat':
      return { id: conversationId, kind: 'group', ...(activity.conversation?.name ? { name: activity.conversation.name } : {}) };
    default:
      return { id: conversationId, kind: 'dm' };
  }
}

/**
 * Teams activity ids are per conversation (channel posts use millisecond timestamps), so two
 * tenants can send the same id: the key adds a short hash of tenant and conversation. Retries
 * of one delivery carry the same id and conversation, hence the same key.
 */
export function idempotencyKeyOf(tenantId: string, activity: TeamsActivity): string {
  const where = createHash('sha256').update(`${tenantId}\n${baseConversationId(activity.conversation?.id ?? '')}`).digest('base64url');
  return `${activity.id}@${where.slice(0, 22)}`;
}

/** What ReplySink needs to find the conversation and the reply chain again (stored in the inbox row). */
export interface TeamsReplyRoute {
  [key: string]: unknown;
  /** The stored reference's key: the team id for channels, else the chat id. */
  conversationKey: string;
  /** Conversation id to post into: in channels it carries `;messageid=<root>`. */
  conversationId: string;
  /** The activity to reply to (the reply-chain root in channels). */
  replyToId: string;
  kind: ConversationKind;
}

/** A channel activity's reply-chain root: from the conversation id, else what it replies to, else itself. */
function rootOf(activity: TeamsActivity): string | undefined {
  const conversationId = activity.conversation?.id ?? '';
  return conversationKindOf(activity) === 'channel' ? (rootFromConversation(conversationId) ?? activity.replyToId ?? activity.id ?? '') : undefined;
}

/** Where a reply to this activity goes (its conversation and reply chain). */
export function routeOf(activity: TeamsActivity): TeamsReplyRoute {
  const kind = conversationKindOf(activity);
  const conversationId = activity.conversation?.id ?? '';
  const root = rootOf(activity);
  return {
    conversationKey: conversationKeyOf(activity),
    conversationId: kind === 'channel' ? `${baseConversationId(conversationId)};messageid=${root}` : conversationId,
    replyToId: root ?? activity.id ?? '',
    kind,
  };
}

/** Maps a verified message activity to the core's envelope input. */
export function envelopeOf(activity: TeamsActivity, tenantId: string, receivedAt: Date): EnvelopeInput {
  const kind = conversationKindOf(activity);
  const channel = channelRefOf(activity);
  const text = stripBotMention(activity);
  const conversationId = activity.conversation?.id ?? '';
  const messageId = activity.id ?? '';
  const root = rootOf(activity);
  // Without RSC permissions bots only get mentions in channels and group chats; anything else is not for Quorum.
  const addressed = kind === 'personal' || mentionsBot(activity);
  const route = routeOf(activity);
  const files = fileRefsOfActivity(activity.attachments, route.conversationKey, MAX_ENVELOPE_FILES);
  return {
    // A file sent without a word is a question about the file.
    kind: !addressed || (text === '' && files.length === 0) ? 'unsupported' : isCommandText(text) ? 'command' : kind === 'personal' ? 'direct' : 'mention',
    idempotencyKey: idempotencyKeyOf(tenantId, activity),
    workspace: workspaceOf(tenantId),
    user: {
      id: activity.from?.aadObjectId ?? activity.from?.id ?? '',
      ...(activity.from?.name ? { displayName: activity.from.name.slice(0, 256) } : {}),
    },
    channel,
    // A group chat has no threads: the chat is the conversation, so its history carries over.
    // A closed (private/shared) channel keeps each requester's history apart: only their own context.
    ...(kind === 'channel'
      ? { threadId: isClosedChannel(activity) ? `${root}~${activity.from?.aadObjectId ?? activity.from?.id}` : root }
      : kind === 'groupChat'
        ? { threadId: conversationId }
        : {}),
    messageId,
    text: text.slice(0, 40_000),
    receivedAt,
    replyRoute: route,
    files,
  };
}
