/** Which stored conversation a message belongs to. */
import type { Envelope } from './envelope.js';

/**
 * A DM has one conversation per person, owned by them and keyed by their platform user id (a
 * principal is one user id in one workspace); a group or a channel has one per thread, keyed by
 * the thread (or the message that starts one).
 */
export function conversationKeyOf(envelope: Pick<Envelope, 'channel' | 'user' | 'threadId' | 'messageId'>): {
  threadKey: string;
  ownedByRequester: boolean;
} {
  if (envelope.channel.kind === 'dm') return { threadKey: `dm:${envelope.user.id}`, ownedByRequester: true };
  return { threadKey: envelope.threadId ?? envelope.messageId, ownedByRequester: false };
}
