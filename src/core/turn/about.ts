/**
 * A turn asked from a private place ABOUT a channel (envelope.about: "Ask Quorum about this", the
 * Slack assistant panel's context). The requester must be a member of that channel now, as for
 * any channel they read (else refused and audited, nothing sent to the model); the chosen message
 * (or the thread, or the channel's latest messages) then becomes context under the audience rule:
 * the channel's content, readable by the requester, answered privately.
 */
import { decide } from '../access/policy.js';
import type { About } from '../envelope.js';
import { isQuorumError } from '../errors.js';
import type { PlatformMessage, PlatformPorts, StoredMessage } from '../ports.js';
import type { ContextItem } from '../prompt.js';
import type { CoreDeps } from './deps.js';
import type { OpenedTurn } from './resolve.js';

/** How many messages of the thread or channel the context may hold when no message text came with the request. */
const ABOUT_MESSAGES = 20;

export const ABOUT_REFUSED = 'I can only answer about messages in channels you are a member of, so I did not look at that one.';
export const ABOUT_UNKNOWN = 'I could not confirm that you can see that channel right now, so I did not answer. Please try again in a minute.';

export type AboutContext = { allow: true; items: ContextItem[]; channelId: string } | { allow: false; text: string };

export async function aboutContext(deps: CoreDeps, ports: PlatformPorts, turn: OpenedTurn, about: About): Promise<AboutContext> {
  const isMember = await membership(deps, ports, turn, about);
  const decision = decide({ principalId: turn.principal.id, role: turn.role, workspaceId: turn.scope.workspaceId }, { kind: 'read_history' }, {
    kind: 'conversation',
    workspaceId: turn.scope.workspaceId,
    conversationKind: about.channel.kind,
    // Someone's DM is never asked about (the platform offers no shortcut there for anyone else either).
    ownerPrincipalId: null,
    isMember,
  });
  if (!decision.allow) {
    await deps.audit.append(turn.scope, {
      action: 'denial',
      outcome: 'denied',
      actorPrincipalId: turn.principal.id,
      channelExternalId: about.channel.id,
      channelKind: about.channel.kind,
      detail: { reason: decision.reason, action: 'read_about' },
    });
    return { allow: false, text: decision.reason === 'membership_unknown' ? ABOUT_UNKNOWN : ABOUT_REFUSED };
  }
  const messages = await readAbout(deps, ports, turn, about);
  const visibility = { kind: about.channel.kind === 'group' ? ('group' as const) : ('channel' as const), channelExternalId: about.channel.id };
  const items = messages.map((content, i) => ({
    visibility,
    message: { id: `about:${i}`, conversationId: turn.conversation.id, principalId: null, role: 'user', content, createdAt: turn.envelope.receivedAt } satisfies StoredMessage,
  }));
  return { allow: true, items, channelId: about.channel.id };
}

async function membership(deps: CoreDeps, ports: PlatformPorts, turn: OpenedTurn, about: About): Promise<boolean | null> {
  if (about.channel.kind === 'dm') return false;
  try {
    return await ports.membership.isMember(turn.envelope.workspace, about.channel, turn.envelope.user.id);
  } catch (err) {
    if (!isQuorumError(err, 'MEMBERSHIP_UNAVAILABLE')) throw err;
    deps.log.warn({ event: 'membership.unavailable', platform: turn.envelope.workspace.platform }, 'membership check failed (about)');
    return null;
  }
}

/** The chosen message as the verified payload carried it, else the thread or the channel through the history port. */
async function readAbout(deps: CoreDeps, ports: PlatformPorts, turn: OpenedTurn, about: About): Promise<string[]> {
  const where = about.channel.name ? `#${about.channel.name}` : 'the channel';
  if (about.text !== undefined) return [`The message asked about, in ${where}${about.authorId ? ` by <@${about.authorId}>` : ''}:\n${about.text}`];
  if (!ports.history) return [];
  const root = about.threadId ?? about.messageId;
  let messages: PlatformMessage[] = [];
  try {
    messages = root
      ? await ports.history.thread(turn.envelope.workspace, about.channel, root, ABOUT_MESSAGES)
      : await ports.history.recent(turn.envelope.workspace, about.channel, ABOUT_MESSAGES);
  } catch (err) {
    if (!isQuorumError(err, 'HISTORY_UNAVAILABLE')) throw err;
    deps.log.warn({ event: 'about.history_unavailable', platform: turn.envelope.workspace.platform }, 'the channel asked about could not be read');
    return [];
  }
  return messages.map((m) => `Message in ${where} by ${m.authorIsBot ? 'a bot' : `<@${m.authorId}>`}:\n${m.text}`);
}
