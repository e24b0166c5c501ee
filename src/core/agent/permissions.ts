/**
 * The one check a tool passes before it runs: who asks, which tool, in which channel. The rules
 * themselves (role floors, DM-only personal notes, the channel's `/agent tools` rule) live in
 * decide(), so that no other code makes access decisions.
 */
import { decide, denyExplanation, type ChannelResource, type Decision, type Subject, type ToolName } from '../access/policy.js';

export { TOOL_NAMES, type ToolName } from '../access/policy.js';

export type ToolDecision = Decision;

export function explainToolDenial(decision: Decision & { allow: false }): string {
  return denyExplanation[decision.reason];
}

/** `toolRule`: the channel's admin rule for this tool; undefined when none was set. */
export function toolAllowed(subject: Subject, tool: ToolName, channel: ChannelResource & { toolRule?: boolean | undefined }): Decision {
  const { toolRule, ...rest } = channel;
  return decide(subject, { kind: 'use_tool', tool }, toolRule === undefined ? rest : { ...rest, toolRule });
}
