/**
 * Teams activities that keep the knowledge index true. With resource-specific consent
 * (ChannelMessage.Read.Group in the manifest) the bot receives every channel message, mentioned
 * or not: each is indexed (and only mentions are answered). Edits (`messageUpdate`) replace a
 * message's chunks; deletions (`messageDelete`, or a soft delete) remove them. Citations are
 * Teams deep links to the message. Runs before the activity is acknowledged.
 */
import type { WorkspaceRef } from '../../src/core/envelope.js';
import type { KnowledgeIntake } from '../../src/core/knowledge/indexer.js';
import type { KnowledgePlace } from '../../src/core/ports.js';
import { baseConversationId, channelRefOf, conversationKindOf, rootFromConversation, tenantOf, type TeamsActivity } from './activity.js';

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
  const text = plainText(activity.text ?? '');
  if (!place || !text) return;
  const root = rootFromConversation(activity.conversation?.id ?? '') ?? activity.replyToId ?? null;
  await knowledge.message(workspace, place, {
    id,
    threadId: root && root !== id ? root : null,
    authorId: activity.from?.aadObjectId ?? activity.from?.id ?? null,
    text,
    at: activity.timestamp ? new Date(activity.timestamp) : new Date(),
    files: [],
    permalink: teamsDeepLink(activity, id, root),
  });
}
