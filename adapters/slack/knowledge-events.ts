/**
 * Slack events that keep the knowledge index true: new messages (and the files they carry),
 * edits (`message_changed`), deletions (`message_deleted`, a thread root turned tombstone),
 * `file_deleted`, `file_change`, and the bot joining a channel (its backfill). Runs before the
 * ack: a write that failed is retried by Slack. Nothing here starts a turn or calls a model.
 */
import { z } from 'zod';
import type { ChannelRef, WorkspaceRef } from '../../src/core/envelope.js';
import type { KnowledgeIntake } from '../../src/core/knowledge/indexer.js';
import type { KnowledgePlace } from '../../src/core/ports.js';
import { channelKindOf, eventBodySchema, workspaceOf } from './events.js';
import { slackMessageSchema, sourceMessageOf } from './knowledge.js';

const messageEvent = slackMessageSchema.extend({
  type: z.literal('message'),
  channel: z.string().min(1),
  channel_type: z.string().optional(),
  message: slackMessageSchema.optional(),
  deleted_ts: z.string().optional(),
});

/** Subtypes that are a person's message (the rest are housekeeping, or handled below). */
const INDEXED_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message']);

function placeOf(channel: ChannelRef, author: string | undefined): KnowledgePlace | null {
  if (channel.kind !== 'dm') return { channel, dmOwnerUserId: null };
  // A DM's audience is its owner: the person (not the bot) who writes in it.
  return author ? { channel, dmOwnerUserId: author } : null;
}

/** Applies one `message` event to the index; ignores what it cannot read (app_mention among them: it is not for the index). */
export async function observeMessage(knowledge: KnowledgeIntake, body: unknown, event: unknown): Promise<void> {
  const parsedBody = eventBodySchema.safeParse(body);
  const parsed = messageEvent.safeParse(event);
  const workspace = parsedBody.success ? workspaceOf(parsedBody.data)?.ref : undefined;
  if (!parsed.success || !workspace) return;
  const e = parsed.data;
  const channel: ChannelRef = { id: e.channel, kind: channelKindOf(e.channel, e.channel_type) };
  if (e.subtype === 'message_deleted') {
    if (e.deleted_ts) await knowledge.messageDeleted(workspace, e.channel, e.deleted_ts);
    return;
  }
  if (e.subtype === 'message_changed') {
    if (!e.message) return;
    const edited = sourceMessageOf(e.message);
    const place = placeOf(channel, e.message.user);
    // A thread root deleted under its replies becomes a tombstone: gone from the index too.
    if (!edited || e.message.subtype === 'tombstone' || !place) await knowledge.messageDeleted(workspace, e.channel, e.message.ts);
    else await knowledge.message(workspace, place, edited);
    return;
  }
  if (!INDEXED_SUBTYPES.has(e.subtype)) return;
  const message = sourceMessageOf(e);
  const place = placeOf(channel, e.user);
  if (message && place) await knowledge.message(workspace, place, message);
}

const fileEvent = z.object({ file_id: z.string().min(1).optional(), file: z.object({ id: z.string().min(1) }).optional() });

export async function observeFile(knowledge: KnowledgeIntake, workspace: WorkspaceRef | undefined, event: unknown, change: 'deleted' | 'changed'): Promise<void> {
  const parsed = fileEvent.safeParse(event);
  const id = parsed.success ? (parsed.data.file_id ?? parsed.data.file?.id) : undefined;
  if (!id || !workspace) return;
  if (change === 'deleted') await knowledge.fileDeleted(workspace, id);
  else await knowledge.fileChanged(workspace, { id, name: id });
}

/** What a channel event does to the index: archived channels are withdrawn, deleted ones dropped. */
export type ChannelChange = (k: KnowledgeIntake, ws: WorkspaceRef, channel: string) => Promise<void>;
export const archived =
  (value: boolean): ChannelChange =>
  (k, ws, channel) =>
    k.channelArchived(ws, channel, value);
export const deleted: ChannelChange = (k, ws, channel) => k.channelDeleted(ws, channel);
