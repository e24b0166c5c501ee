/**
 * Slack payloads → Envelopes. Pure functions over the verified body: identity comes from the
 * payload Slack signed, never from message text.
 */
import { z } from 'zod';
import { MAX_ENVELOPE_FILES, type ChannelKind, type EnvelopeInput, type WorkspaceRef } from '../../src/core/envelope.js';
import { fileRefsOf, slackFileSchema } from './file-refs.js';

/** The fields of an Events API body this adapter reads (Bolt has verified the signature). */
export const eventBodySchema = z.object({
  event_id: z.string().min(1),
  team_id: z.string().nullish(),
  enterprise_id: z.string().nullish(),
  context_team_id: z.string().nullish(),
  context_enterprise_id: z.string().nullish(),
  authorizations: z
    .array(z.object({ team_id: z.string().nullish(), enterprise_id: z.string().nullish(), is_enterprise_install: z.boolean().optional() }))
    .optional(),
});
export type EventBody = z.infer<typeof eventBodySchema>;

export const messageEventSchema = z.object({
  type: z.enum(['app_mention', 'message']),
  subtype: z.string().optional(),
  user: z.string().optional(),
  user_team: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().default(''),
  ts: z.string(),
  thread_ts: z.string().optional(),
  channel: z.string(),
  channel_type: z.string().optional(),
  /** Files shared with the message (a mention with attachments, a DM's file_share). */
  // Files Slack described in a way we cannot read do not cost the question its answer.
  files: z.array(slackFileSchema).optional().catch(undefined),
});
export type MessageEvent = z.infer<typeof messageEventSchema>;

/** What the ReplySink needs to answer later; never a token. */
export interface SlackReplyRoute extends Record<string, unknown> {
  teamId: string | null;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
  /** Thread to answer in when the core has no threadId (a DM thread). */
  threadTs?: string;
  responseUrl?: string;
}

/** The workspace an event belongs to: its team, or the enterprise for org-level events without one. */
export function workspaceOf(body: EventBody): { ref: WorkspaceRef; route: SlackReplyRoute } | null {
  const teamId = body.team_id ?? body.context_team_id ?? null;
  const enterpriseId = body.enterprise_id ?? body.context_enterprise_id ?? body.authorizations?.[0]?.enterprise_id ?? null;
  const isEnterpriseInstall = body.authorizations?.[0]?.is_enterprise_install ?? false;
  const externalId = teamId ?? enterpriseId;
  if (!externalId) return null;
  return {
    ref: { platform: 'slack', externalId, ...(enterpriseId ? { enterpriseId } : {}) },
    route: { teamId, enterpriseId, isEnterpriseInstall },
  };
}

/** Slack channel id prefixes: D = DM, G = group DM (or a legacy private channel), C = channel. */
export function channelKindOf(channelId: string, channelType?: string): ChannelKind {
  if (channelType === 'im' || channelId.startsWith('D')) return 'dm';
  if (channelType === 'mpim' || (channelType === undefined && channelId.startsWith('G'))) return 'group';
  return 'channel';
}

/** Why an event gets no Envelope (kept for debug logs). */
export type Skip = { skip: string };

/**
 * Maps a mention or a message to an Envelope, or says why it is skipped. Mentions reply in the
 * thread; DMs are private; group DMs answer only when the bot is mentioned.
 */
export function messageEnvelope(body: EventBody, event: MessageEvent, botUserId: string | undefined): EnvelopeInput | Skip {
  const where = workspaceOf(body);
  if (!where) return { skip: 'no workspace' };
  if (!event.user || event.bot_id) return { skip: 'bot or system message' };
  if (botUserId && event.user === botUserId) return { skip: 'own message' };
  // A message that shares files is a message like any other (its subtype says only that).
  if (event.subtype && event.subtype !== 'file_share') return { skip: `subtype ${event.subtype}` };

  let kind: EnvelopeInput['kind'];
  let channelKind: ChannelKind;
  // A group DM that mentions the bot arrives twice (message.mpim and app_mention, two event_ids):
  // both are keyed by the message itself so that only one reply is posted.
  let idempotencyKey = body.event_id;
  if (event.type === 'app_mention') {
    kind = 'mention';
    channelKind = channelKindOf(event.channel, event.channel_type);
    if (channelKind === 'group') idempotencyKey = `msg:${where.ref.externalId}:${event.channel}:${event.ts}`;
  } else if (event.channel_type === 'im') {
    kind = 'direct';
    channelKind = 'dm';
  } else if (event.channel_type === 'mpim') {
    if (!botUserId || !event.text.includes(`<@${botUserId}>`)) return { skip: 'group DM without a mention' };
    kind = 'mention';
    channelKind = 'group';
    idempotencyKey = `msg:${where.ref.externalId}:${event.channel}:${event.ts}`;
  } else {
    return { skip: `message in ${event.channel_type ?? 'unknown'} (answered through app_mention)` };
  }

  const homeTeam = event.user_team;
  const route: SlackReplyRoute = { ...where.route, ...(channelKind === 'dm' && event.thread_ts ? { threadTs: event.thread_ts } : {}) };
  return {
    kind,
    idempotencyKey,
    workspace: where.ref,
    user: { id: event.user, ...(homeTeam ? { homeWorkspaceId: homeTeam } : {}) },
    channel: { id: event.channel, kind: channelKind },
    ...(channelKind === 'dm' ? {} : { threadId: event.thread_ts ?? event.ts }),
    messageId: event.ts,
    text: stripBotMention(event.text, botUserId),
    receivedAt: new Date(),
    replyRoute: route,
    files: fileRefsOf(event.files, MAX_ENVELOPE_FILES),
  };
}

/** `<@UBOT> do this` → `do this`: the mention addresses the bot, it is not part of the question. */
export function stripBotMention(text: string, botUserId: string | undefined): string {
  if (!botUserId) return text.trim();
  return text.split(`<@${botUserId}>`).join(' ').replace(/\s+/g, ' ').trim() || text.trim();
}

export const slashCommandSchema = z.object({
  command: z.string(),
  text: z.string().default(''),
  team_id: z.string().min(1),
  enterprise_id: z.string().optional(),
  is_enterprise_install: z.union([z.boolean(), z.string()]).optional(),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().min(1),
  channel_name: z.string().optional(),
  trigger_id: z.string().min(1),
  response_url: z.string().optional(),
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

/** `/agent …` → a command Envelope. The text reaches the core's grammar as typed (with `<@U…|name>` escapes). */
export function commandEnvelope(command: SlashCommand): EnvelopeInput {
  const enterpriseId = command.enterprise_id || undefined;
  const channelKind: ChannelKind =
    command.channel_name === 'directmessage' || command.channel_id.startsWith('D')
      ? 'dm'
      : command.channel_name?.startsWith('mpdm-')
        ? 'group'
        : 'channel';
  return {
    kind: 'command',
    idempotencyKey: command.trigger_id,
    workspace: { platform: 'slack', externalId: command.team_id, ...(enterpriseId ? { enterpriseId } : {}) },
    user: { id: command.user_id, ...(command.user_name ? { displayName: command.user_name } : {}) },
    channel: { id: command.channel_id, kind: channelKind, ...(command.channel_name ? { name: command.channel_name } : {}) },
    messageId: command.trigger_id,
    text: `/agent ${command.text}`.trim(),
    receivedAt: new Date(),
    replyRoute: {
      teamId: command.team_id,
      enterpriseId: enterpriseId ?? null,
      isEnterpriseInstall: command.is_enterprise_install === true || command.is_enterprise_install === 'true',
      mentions: parseSlackMentions(command.text),
    } satisfies SlackReplyRoute & { mentions: SlackMention[] },
  };
}

export interface SlackMention {
  kind: 'user' | 'channel';
  id: string;
  name?: string;
}

/** Slack escapes mentions in command text as `<@U123|name>` (users) and `<#C123|name>` (channels). */
export function parseSlackMentions(text: string): SlackMention[] {
  const found: SlackMention[] = [];
  for (const m of text.matchAll(/<([@#])([UWC][A-Z0-9]{1,30})(?:\|([^>]{0,100}))?>/g)) {
    found.push({ kind: m[1] === '@' ? 'user' : 'channel', id: m[2]!, ...(m[3] ? { name: m[3] } : {}) });
  }
  return found;
}
