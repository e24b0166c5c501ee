/**
 * The one place access decisions are made: a pure function of who, what and where.
 * Every Deny carries a reason that is explained to the user in one sentence and audited.
 */
import { atLeast, type Role } from '../identity.js';

export interface Subject {
  principalId: string;
  role: Role;
}

export type Action = { kind: 'talk' };

export interface ChannelResource {
  kind: 'channel';
  channelKind: 'dm' | 'group' | 'channel';
  agentEnabled: boolean;
  guestsEnabled: boolean;
  /** As the platform reports it; null when the platform could not be asked. */
  isMember: boolean | null;
}

export type Resource = ChannelResource;

export type DenyReason = 'agent_off_here' | 'guests_off' | 'not_a_member' | 'membership_unknown';

export type Decision = { allow: true } | { allow: false; reason: DenyReason };

const allow: Decision = { allow: true };
const deny = (reason: DenyReason): Decision => ({ allow: false, reason });

export function decide(subject: Subject, action: Action, resource: Resource): Decision {
  switch (action.kind) {
    case 'talk':
      if (resource.isMember === null) return deny('membership_unknown');
      if (!resource.isMember) return deny('not_a_member');
      if (!resource.agentEnabled) return deny('agent_off_here');
      if (!atLeast(subject.role, 'member') && !resource.guestsEnabled) return deny('guests_off');
      return allow;
    default: {
      const unreachable: never = action.kind;
      return unreachable;
    }
  }
}

/** One sentence per reason; none reveals what exists beyond the requester's own reach. */
export const denyExplanation: Record<DenyReason, string> = {
  agent_off_here: 'The agent is switched off here by a workspace admin.',
  guests_off: 'The agent is not available to guests in this workspace.',
  not_a_member: 'You need to be a member of this channel to use the agent here.',
  membership_unknown: 'I could not confirm your access right now, so I did not answer. Please try again in a minute.',
};
