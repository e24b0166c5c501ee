/**
 * The one place access decisions are made: a pure function of who, what, where and the few
 * workspace facts that matter. Every Deny carries a reason that is explained to the user in one
 * sentence and audited. Callers gather the facts (membership, settings, tool rules); this file
 * never does I/O, so it can be tested exhaustively and benchmarked in isolation.
 */
import { atLeast, roleRank, type Role } from '../identity.js';
import { connectedToolDenial, type ConnectedToolFacts } from './connected-rules.js';

export interface Subject {
  principalId: string;
  role: Role;
  /** The workspace the subject was resolved in; a resource of another workspace is never reachable. */
  workspaceId?: string;
}

/** The tools the agent can use (issue 8); admins allow or deny each per channel. */
export const TOOL_NAMES = ['search_history', 'summarize_thread', 'remember', 'recall', 'workspace_status'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Commands that change nothing and anyone may run. */
export const OPEN_COMMANDS = ['help', 'status', 'forget_me', 'usage_me', 'model_show', 'instructions_show', 'connections', 'settings'] as const;
/** Commands that only admins (and owners) may run. */
export const ADMIN_COMMANDS = ['role', 'agent', 'guests', 'content', 'tools', 'connect', 'disconnect', 'connections_refresh', 'connections_secret', 'connections_results', 'limit', 'budget', 'usage', 'audit', 'feedback', 'retention', 'knowledge', 'forget_user', 'model', 'instructions', 'audit_export'] as const;
export type CommandName = (typeof OPEN_COMMANDS)[number] | (typeof ADMIN_COMMANDS)[number];

export type Action =
  /** Ask the agent something in a channel or DM. */
  | { kind: 'talk' }
  /** Use a conversation's stored history as context. */
  | { kind: 'read_history' }
  | { kind: 'use_tool'; tool: ToolName }
  /** A connected (MCP) tool, `connection.tool`, with the rules and connection facts that govern it. */
  | { kind: 'use_connected_tool'; tool: string; facts: ConnectedToolFacts }
  | { kind: 'command'; command: CommandName }
  /** `role @user X|clear`: `to` is the role the target would end up with. */
  | { kind: 'set_role'; to: Role }
  /** `forget @user` (or `forget me`): erase a person's data. */
  | { kind: 'erase' }
  | { kind: 'read_audit' };

export type ActionKind = Action['kind'];

export interface ChannelResource {
  kind: 'channel';
  workspaceId?: string;
  channelKind: 'dm' | 'group' | 'channel';
  agentEnabled: boolean;
  guestsEnabled: boolean;
  /** As the platform reports it; null when the platform could not be asked. */
  isMember: boolean | null;
  /** The channel's rule for a tool (`/agent tools`); undefined when no rule was set. */
  toolRule?: boolean;
}

export interface ConversationResource {
  kind: 'conversation';
  workspaceId?: string;
  conversationKind: 'dm' | 'group' | 'channel';
  /** For a DM, the one principal who may read it. */
  ownerPrincipalId: string | null;
  /** Whether the subject is a member of the conversation's channel; null when unknown. */
  isMember: boolean | null;
}

/** The workspace itself: its settings, its audit log. */
export interface WorkspaceResource {
  kind: 'workspace';
  workspaceId?: string;
}

/** Another person, as the target of `role` or `forget`. */
export interface PrincipalResource {
  kind: 'principal';
  workspaceId?: string;
  principalId: string;
  /** The target's role now (after grants). */
  role: Role;
  /** The platform says the target is from another organization: no grant changes that. */
  external: boolean;
  /** Set from QUORUM_ADMINS by the operator: chat cannot lower it. */
  operatorAdmin: boolean;
  /** The platform says the target is a guest (Slack restricted, Teams guest): never made admin or owner. */
  guest?: boolean;
}

export type Resource = ChannelResource | ConversationResource | WorkspaceResource | PrincipalResource;
export type ResourceKind = Resource['kind'];

/** Workspace-wide facts a few decisions need. */
export interface DecisionContext {
  /** How many owners and admins (effective roles, operator admins included) the workspace has. */
  owners?: number;
  admins?: number;
}

export type DenyReason =
  | 'agent_off_here'
  | 'guests_off'
  | 'not_a_member'
  | 'membership_unknown'
  | 'not_yours'
  | 'other_workspace'
  | 'tool_off_here'
  | 'tool_needs_dm'
  | 'tool_role'
  | 'tool_results_private'
  | 'admins_only'
  | 'above_own_role'
  | 'same_rank'
  | 'guest_not_privileged'
  | 'last_privileged'
  | 'external_stays_external'
  | 'operator_admin'
  | 'not_applicable';

export type Decision = { allow: true } | { allow: false; reason: DenyReason };

const allow: Decision = { allow: true };
const deny = (reason: DenyReason): Decision => ({ allow: false, reason });

/** Tools that only a DM audience may see the output of (personal notes). */
const DM_ONLY_TOOLS: ReadonlySet<ToolName> = new Set(['recall', 'remember']);
/** Least role for a tool when no channel rule says otherwise. */
const TOOL_FLOOR: Record<ToolName, Role> = {
  search_history: 'guest',
  summarize_thread: 'external',
  remember: 'guest',
  recall: 'guest',
  workspace_status: 'member',
};

export function decide(subject: Subject, action: Action, resource: Resource, context: DecisionContext = {}): Decision {
  if (subject.workspaceId !== undefined && resource.workspaceId !== undefined && subject.workspaceId !== resource.workspaceId)
    return deny('other_workspace');
  switch (action.kind) {
    case 'talk':
      return resource.kind === 'channel' ? talk(subject, resource) : deny('not_applicable');
    case 'read_history':
      return resource.kind === 'conversation' ? readHistory(subject, resource) : deny('not_applicable');
    case 'use_tool':
      return resource.kind === 'channel' ? useTool(subject, action.tool, resource) : deny('not_applicable');
    case 'use_connected_tool': {
      if (resource.kind !== 'channel') return deny('not_applicable');
      const base = talk(subject, resource);
      if (!base.allow) return base;
      const denial = connectedToolDenial(subject.role, action.tool, resource.channelKind, action.facts);
      return denial ? deny(denial) : allow;
    }
    case 'command':
      if (resource.kind !== 'workspace') return deny('not_applicable');
      if ((OPEN_COMMANDS as readonly string[]).includes(action.command)) return allow;
      return atLeast(subject.role, 'admin') ? allow : deny('admins_only');
    case 'read_audit':
      if (resource.kind !== 'workspace') return deny('not_applicable');
      return atLeast(subject.role, 'admin') ? allow : deny('admins_only');
    case 'set_role':
      return resource.kind === 'principal' ? setRole(subject, action.to, resource, context) : deny('not_applicable');
    case 'erase':
      if (resource.kind !== 'principal') return deny('not_applicable');
      if (resource.principalId === subject.principalId) return allow;
      if (!atLeast(subject.role, 'admin')) return deny('admins_only');
      return outranks(subject, resource) ?? allow;
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
}

function talk(subject: Subject, channel: ChannelResource): Decision {
  if (channel.isMember === null) return deny('membership_unknown');
  if (!channel.isMember) return deny('not_a_member');
  if (!channel.agentEnabled) return deny('agent_off_here');
  if (!atLeast(subject.role, 'member') && !channel.guestsEnabled) return deny('guests_off');
  return allow;
}

function readHistory(subject: Subject, conversation: ConversationResource): Decision {
  if (conversation.conversationKind === 'dm')
    // Nobody else reads a DM, admins included.
    return conversation.ownerPrincipalId === subject.principalId ? allow : deny('not_yours');
  if (conversation.isMember === null) return deny('membership_unknown');
  return conversation.isMember ? allow : deny('not_a_member');
}

function useTool(subject: Subject, tool: ToolName, channel: ChannelResource): Decision {
  const base = talk(subject, channel);
  if (!base.allow) return base;
  // Personal notes only in their owner's DM, whatever a channel rule says (the audience rule).
  if (DM_ONLY_TOOLS.has(tool) && channel.channelKind !== 'dm') return deny('tool_needs_dm');
  if (channel.toolRule === false) return deny('tool_off_here');
  // An explicit allow opens a tool to guests, never to externals beyond their floor.
  const floor = channel.toolRule === true && subject.role !== 'external' ? 'guest' : TOOL_FLOOR[tool];
  return atLeast(subject.role, floor) ? allow : deny('tool_role');
}

/**
 * Nobody acts on someone of their own rank or higher, themselves excepted: an admin cannot
 * demote or erase another admin, an owner another owner (the platform, or they themselves, can).
 */
function outranks(subject: Subject, target: PrincipalResource): Decision | null {
  if (target.principalId === subject.principalId) return null;
  if (roleRank(target.role) > roleRank(subject.role)) return deny('above_own_role');
  if (roleRank(target.role) === roleRank(subject.role)) return deny('same_rank');
  return null;
}

function setRole(subject: Subject, to: Role, target: PrincipalResource, context: DecisionContext): Decision {
  if (!atLeast(subject.role, 'admin')) return deny('admins_only');
  if (target.external) return deny('external_stays_external');
  if (to === 'external') return deny('external_stays_external');
  const ranked = outranks(subject, target);
  if (ranked) return ranked;
  // Nobody raises anyone above their own role.
  if (roleRank(to) > roleRank(subject.role)) return deny('above_own_role');
  if (target.guest && atLeast(to, 'admin')) return deny('guest_not_privileged');
  if (target.operatorAdmin && roleRank(to) < roleRank('admin')) return deny('operator_admin');
  const owners = context.owners ?? 0;
  const admins = context.admins ?? 0;
  if (target.role === 'owner' && to !== 'owner' && owners <= 1) return deny('last_privileged');
  if (atLeast(target.role, 'admin') && !atLeast(to, 'admin') && owners + admins <= 1) return deny('last_privileged');
  return allow;
}

/** One sentence per reason; none reveals what exists beyond the requester's own reach. */
export const denyExplanation: Record<DenyReason, string> = {
  agent_off_here: 'The agent is switched off here by a workspace admin.',
  guests_off: 'The agent is not available to guests in this workspace.',
  not_a_member: 'You need to be a member of this channel to use the agent here.',
  membership_unknown: 'I could not confirm your access right now, so I did not answer. Please try again in a minute.',
  not_yours: 'That conversation is not available to you.',
  other_workspace: 'That is not available in this workspace.',
  tool_off_here: 'That tool is switched off here by a workspace admin.',
  tool_needs_dm: 'That tool works only in your direct messages with the agent.',
  tool_role: 'That tool is not available to your role.',
  tool_results_private: 'That tool works with your own account: its results stay in your direct messages with the agent.',
  admins_only: 'Only workspace admins can do that.',
  above_own_role: 'You cannot give a role above your own, or act on someone whose role is above yours.',
  same_rank: 'You cannot change or erase someone whose role is the same as yours.',
  guest_not_privileged: 'Guests cannot be made admins or owners.',
  last_privileged: 'That would leave the workspace without an owner or admin.',
  external_stays_external: 'People from other organizations keep external access; their role cannot be changed.',
  operator_admin: 'That admin is set by the operator of this Quorum installation and cannot be changed from chat.',
  not_applicable: 'That is not available here.',
};
