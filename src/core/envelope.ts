/**
 * The one shape every platform's input takes on its way into the core. Adapters build it from
 * a verified platform payload; identity comes from there, never from message text.
 */
import { z } from 'zod';

export const platformSchema = z.enum(['slack', 'teams', 'console']);
export type Platform = z.infer<typeof platformSchema>;

const id = z.string().min(1).max(256);

/** A workspace as the platform names it: Slack team id (or enterprise id for org installs), Teams tenant id. */
export const workspaceRefSchema = z.object({
  platform: platformSchema,
  externalId: id,
  enterpriseId: id.optional(),
});
export type WorkspaceRef = z.infer<typeof workspaceRefSchema>;

/** The author of a message. `homeWorkspaceId` differs from the workspace for Slack Connect users and Teams guests. */
export const userRefSchema = z.object({
  id,
  homeWorkspaceId: id.optional(),
  displayName: z.string().max(256).optional(),
});
export type UserRef = z.infer<typeof userRefSchema>;

/** dm: one user and the bot; group: a group DM or group chat; channel: a channel or team channel. */
export const channelKindSchema = z.enum(['dm', 'group', 'channel']);
export type ChannelKind = z.infer<typeof channelKindSchema>;

export const channelRefSchema = z.object({
  id,
  kind: channelKindSchema,
  name: z.string().max(256).optional(),
});
export type ChannelRef = z.infer<typeof channelRefSchema>;

/**
 * A file the message carries, as the platform named it. `source` is what the adapter needs to
 * fetch it again (a Slack file id's team, a Teams download URL): opaque to the core, never a token.
 */
export const fileRefSchema = z.object({
  id,
  name: z.string().max(512),
  mimetype: z.string().max(256),
  /** Bytes, when the platform said. */
  size: z.number().int().nonnegative().optional(),
  source: z.record(z.string(), z.unknown()).default({}),
  /**
   * What the adapter needs only while this delivery runs (a short-lived download link): kept in
   * the inbox row, never stored with the conversation's messages.
   */
  transient: z.record(z.string(), z.unknown()).optional(),
});
export type FileRef = z.infer<typeof fileRefSchema>;

/** More than this many files on one message are not carried (Slack allows 10 per message). */
export const MAX_ENVELOPE_FILES = 20;

export const envelopeKindSchema = z.enum(['mention', 'direct', 'command', 'unsupported']);
export type EnvelopeKind = z.infer<typeof envelopeKindSchema>;

/**
 * A channel the requester asks ABOUT from a private place (Slack's assistant panel context, "Ask
 * Quorum about this"): the answer goes to `channel` (private), while the requester must be a
 * member of `about.channel`, and its content is context under the audience rule like any channel's.
 */
export const aboutSchema = z.object({
  channel: channelRefSchema,
  /** The chosen message (Slack ts, Teams message id). */
  messageId: id.optional(),
  /** Its thread, when it is in one. */
  threadId: id.optional(),
  /** The chosen message's text as the platform delivered it in the verified payload (absent: read through the history port). */
  text: z.string().max(40_000).optional(),
  /** Its author's platform user id. */
  authorId: id.optional(),
});
export type About = z.infer<typeof aboutSchema>;

export const envelopeSchema = z.object({
  kind: envelopeKindSchema,
  /** The platform's own delivery id (Slack event_id or trigger_id, Teams activity id): retries share it. */
  idempotencyKey: id,
  workspace: workspaceRefSchema,
  user: userRefSchema,
  channel: channelRefSchema,
  /** The thread the message belongs to (Slack thread_ts or ts, Teams reply-chain root); absent in DMs. */
  threadId: id.optional(),
  messageId: id,
  text: z.string().max(40_000),
  receivedAt: z.coerce.date(),
  /** The files the message carries (none for most). */
  files: z.array(fileRefSchema).max(MAX_ENVELOPE_FILES).default([]),
  /** Whatever the adapter needs to answer later (response_url, service URL); opaque to the core. */
  replyRoute: z.record(z.string(), z.unknown()).default({}),
  about: aboutSchema.optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeInput = z.input<typeof envelopeSchema>;
