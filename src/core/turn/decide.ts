/**
 * The second stage: may the requester talk to the agent here, and what may the prompt hold.
 * Denials are audited; the stored history becomes context only where the requester may read it.
 */
import { decide, type ChannelResource, type Decision } from '../access/policy.js';
import type { ContextRecorder } from '../context-report.js';
import type { Conversation, PromptMessage } from '../ports.js';
import { audienceFor, buildPrompt, type Audience, type ContextItem, type Visibility } from '../prompt.js';
import type { CoreDeps } from './deps.js';
import type { OpenedTurn } from './resolve.js';

export interface Decided {
  decision: Decision;
  /** The facts the decision used; the agent's tools are decided against the same channel. */
  channel: ChannelResource;
  audience: Audience;
}

const subjectOf = (turn: OpenedTurn) => ({ principalId: turn.principal.id, role: turn.role, workspaceId: turn.scope.workspaceId });

/** Whether the requester may talk to the agent in this channel (a denial is audited). */
export async function decideTalk(deps: CoreDeps, turn: OpenedTurn): Promise<Decided> {
  const channel: ChannelResource = {
    kind: 'channel',
    workspaceId: turn.scope.workspaceId,
    channelKind: turn.envelope.channel.kind,
    agentEnabled: turn.conversation.agentEnabled,
    guestsEnabled: turn.settings.guestsEnabled,
    isMember: turn.isMember,
  };
  const decision = decide(subjectOf(turn), { kind: 'talk' }, channel);
  if (!decision.allow) await auditDenial(deps, turn, 'talk', decision.reason);
  const audience = audienceFor(turn.envelope.channel.kind, turn.envelope.channel.id, turn.principal.id);
  return { decision, channel, audience };
}

/**
 * The prompt under the audience rule: the stored history is context only if the requester may
 * read it (a DM only its owner). `readable` says so for what else the conversation holds (its files).
 */
export async function promptFor(
  deps: CoreDeps,
  turn: OpenedTurn,
  audience: Audience,
  inspect: ContextRecorder | null,
  /** A channel asked about (turn/about.ts): its content, the requester's membership already checked. */
  about?: { items: ContextItem[]; channelId: string },
): Promise<{ messages: PromptMessage[]; readable: boolean }> {
  const { conversation, scope, stored } = turn;
  const readable = decide(subjectOf(turn), { kind: 'read_history' }, {
    kind: 'conversation',
    workspaceId: scope.workspaceId,
    conversationKind: conversation.kind,
    ownerPrincipalId: conversation.ownerPrincipalId,
    isMember: turn.isMember,
  });
  if (!readable.allow) await auditDenial(deps, turn, 'read_history', readable.reason);
  // What was read with the conversation counts only now that the requester may read it.
  const history = readable.allow ? stored : [];
  const visibility = visibilityOf(conversation);
  const context: ContextItem[] = [...(about?.items ?? []), ...history.map((message) => ({ visibility, message }))];
  const requesterMaySeeChannel = (id: string) => id === about?.channelId;
  const messages = buildPrompt({ audience, context, text: turn.envelope.text, requesterMaySeeChannel });
  inspect?.context(context, turn.envelope.text, readable.allow ? undefined : { count: stored.length, reason: readable.reason });
  return { messages, readable: readable.allow };
}

function auditDenial(deps: CoreDeps, turn: OpenedTurn, action: 'talk' | 'read_history', reason: string): Promise<void> {
  return deps.audit.append(turn.scope, {
    action: 'denial',
    outcome: 'denied',
    actorPrincipalId: turn.principal.id,
    channelExternalId: turn.envelope.channel.id,
    channelKind: turn.envelope.channel.kind,
    detail: { reason, action },
  });
}

export function visibilityOf(conversation: Conversation): Visibility {
  if (conversation.kind === 'dm') {
    if (!conversation.ownerPrincipalId) throw new Error('a DM conversation without an owner');
    return { kind: 'dm', ownerPrincipalId: conversation.ownerPrincipalId };
  }
  return { kind: conversation.kind, channelExternalId: conversation.channelExternalId };
}
