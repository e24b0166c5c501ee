/**
 * The one check a tool passes before it runs: who asks, which tool, in which channel.
 *
 * The access branch adds `{ kind: 'use_tool', tool }` to decide() with exactly these rules
 * (TOOL_FLOOR, DM-only personal notes, the channel's `/agent tools` rule). Until the branches
 * merge, this function asks decide() for the base `talk` decision and applies the tool rules
 * here; at merge it becomes `decide(subject, { kind: 'use_tool', tool }, { ...channel, toolRule })`
 * and nothing else changes for its callers.
 */
import { atLeast, type Role } from '../identity.js';
import { decide, denyExplanation, type ChannelResource, type Decision, type Subject } from '../access/policy.js';

export const TOOL_NAMES = ['search_history', 'summarize_thread', 'remember', 'recall', 'workspace_status'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Personal notes: only their owner's DM may see them (the audience rule). */
const DM_ONLY_TOOLS: ReadonlySet<ToolName> = new Set(['recall', 'remember']);
/** Least role for a tool when no channel rule says otherwise. */
const TOOL_FLOOR: Record<ToolName, Role> = {
  search_history: 'guest',
  summarize_thread: 'external',
  remember: 'guest',
  recall: 'guest',
  workspace_status: 'member',
};

export type ToolDenyReason = 'tool_off_here' | 'tool_needs_dm' | 'tool_role';
export type ToolDecision = Decision | { allow: false; reason: ToolDenyReason };

export const toolDenyExplanation: Record<ToolDenyReason, string> = {
  tool_off_here: 'That tool is switched off here by a workspace admin.',
  tool_needs_dm: 'That tool works only in your direct messages with the agent.',
  tool_role: 'That tool is not available to your role.',
};

export function explainToolDenial(reason: ToolDecision & { allow: false }): string {
  return reason.reason in toolDenyExplanation
    ? toolDenyExplanation[reason.reason as ToolDenyReason]
    : denyExplanation[reason.reason as keyof typeof denyExplanation];
}

/** `toolRule`: the channel's admin rule for this tool; undefined when none was set. */
export function toolAllowed(
  subject: Subject,
  tool: ToolName,
  channel: ChannelResource & { toolRule?: boolean | undefined },
): ToolDecision {
  const base = decide(subject, { kind: 'talk' }, channel);
  if (!base.allow) return base;
  if (DM_ONLY_TOOLS.has(tool) && channel.channelKind !== 'dm') return { allow: false, reason: 'tool_needs_dm' };
  if (channel.toolRule === false) return { allow: false, reason: 'tool_off_here' };
  // An explicit allow opens a tool to guests, never to externals beyond their floor.
  const floor = channel.toolRule === true && subject.role !== 'external' ? 'guest' : TOOL_FLOOR[tool];
  return atLeast(subject.role, floor) ? { allow: true } : { allow: false, reason: 'tool_role' };
}
