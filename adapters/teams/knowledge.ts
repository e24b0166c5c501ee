/**
 * Teams activities that keep the knowledge index true. With resource-specific consent
 * (ChannelMessage.Read.Group in the manifest) the bot receives every channel message, mentioned
 * or not: each is indexed (and only mentions are answered). Edits (`messageUpdate`) replace a
 * message's chunks; deletions (`messageDelete`, or a soft delete) remove them. Citations are
 * Teams deep links to the message. Files shared in a channel (SharePoint addresses) are queued
 * for the background reader, which reads them through Microsoft Graph (graph-files.ts); a chat's
 * files are not (a 1:1 file's link is short-lived, a group chat's is someone's own OneDrive).
 * Runs before the activity is acknowledged.
 */
import type { WorkspaceRef } from '../../src/core/envelope.js';
import type { KnowledgeIntake } from '../../src/core/knowledge/indexer.js';
import type { KnowledgePlace, SharedFile } from '../../src/core/ports.js';
import { baseConversationId, channelRefOf, conversationKeyOf, conversationKindOf, rootFromConversation, tenantOf, type TeamsActivity } from './activity.js';
import { fileRefsOfActivity } from './files.js';

/** Teams sends message text as HTML: the words are what is indexed. */
function plainText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

/** The documented deep link to a channel message (or a chat message). */
export function teamsDeepLink(activity: TeamsActivity, messageId: string, root: string | null): string {
  const channel = channelRefOf(activity);
  const params = new URLSearchParams({ tenantId: tenantOf(activity) ?? '' });
  const team = activity.channelData?.team as { aadGroupId?: string } | undefined;
  if (team?.aadGroupId) params.set('groupId', team.aadGroupId);
  if (root && root !== messageId) params.set('parentMessageId', root);
  const where = conversationKindOf(activity) === 'channel' ? channel.id : baseConversationId(activity.conversation?.id ?? '');
  return `https://teams.microsoft.com/l/message/${encodeURIComponent(where)}/${encodeURIComponent(messageId)}?${params.toString()}`;
}

function placeOf(activity: TeamsActivity): KnowledgePlace | null {
  const channel = channelRefOf(activity);
  if (channel.kind !== 'dm') return { channel, dmOwnerUserId: null };
  const owner = activity.from?.aadObjectId;
  return owner ? { channel, dmOwnerUserId: owner } : null;
}

/** The most files of one message queued for reading (as for a turn's own files). */
const MAX_FILES_PER_MESSAGE = 10;

/** A channel message's files by address, with where they live (read later through Graph). */
function sharedFilesOf(activity: TeamsActivity, permalink: string): SharedFile[] {
  if (conversationKindOf(activity) !== 'channel') return [];
  return fileRefsOfActivity(activity.attachments, conversationKeyOf(activity), MAX_FILES_PER_MESSAGE)
    .filter((ref) => (ref.source as { via?: string }).via === 'url')
    .map((ref) => ({ id: ref.id, name: ref.name, ...(ref.mimetype ? { mimetype: ref.mimetype } : {}), permalink, source: ref.source as Record<string, unknown> }));
}

/** Applies a message, messageUpdate or messageDelete activity to the index. */
export async function observeActivity(knowledge: KnowledgeIntake, workspace: WorkspaceRef, activity: TeamsActivity): Promise<void> {
  const id = activity.id;
  if (!id || activity.from?.id === activity.recipient?.id) return;
  const channel = channelRefOf(activity);
  const softDeleted = activity.type === 'messageUpdate' && activity.channelData?.eventType === 'softDeleteMessage';
  if (activity.type === 'messageDelete' || softDeleted) {
    await knowledge.messageDeleted(workspace, channel.id, id);
    return;
  }
  if (activity.type !== 'message' && activity.type !== 'messageUpdate') return;
  const place = placeOf(activity);
  if (!place) return;
  const text = plainText(activity.text ?? '');
  const root = rootFromConversation(activity.conversation?.id ?? '') ?? activity.replyToId ?? null;
  const permalink = teamsDeepLink(activity, id, root);
  const files = sharedFilesOf(activity, permalink);
  if (!text && files.length === 0) return;
  await knowledge.message(workspace, place, {
    id,
    threadId: root && root !== id ? root : null,
    authorId: activity.from?.aadObjectId ?? activity.from?.id ?? null,
    text,
    at: activity.timestamp ? new Date(activity.timestamp) : new Date(),
    files,
    permalink,
  });
}
