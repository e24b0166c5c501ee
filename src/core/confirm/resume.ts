/**
 * The resumed turn's first step: the confirmed call runs exactly once (confirmed → running is one
 * conditional UPDATE; a re-run after a crash finds `done` and its stored result, or `running` and
 * says it cannot know), as the requester and through the same checks as any call (decide() at call
 * time, validated input, audited with who confirmed). Its result joins the rebuilt prompt as the
 * answer to the call, tied to the call's id.
 */
import { TOOL_NAMES, type ToolName } from '../agent/permissions.js';
import { runTool, type ToolRunDeps } from '../agent/tool-round.js';
import type { AgentTurn } from '../agent/orchestrator.js';
import { builtinTools, type ToolContext } from '../agent/tools.js';
import type { ConfirmationStore, PendingConfirmation, PromptMessage, ToolSpec } from '../ports.js';

export const INTERRUPTED =
  'Not run again: an earlier attempt started this confirmed call and was interrupted, so Quorum cannot tell whether it finished. Check before asking again.';

export interface Resumed {
  /** The call and its result, to follow the prompt the turn rebuilt. */
  messages: PromptMessage[];
  /** The tool named in those messages (providers want the tools of the calls a prompt holds). */
  tools: Record<string, ToolSpec>;
}

export async function runConfirmed(
  deps: ToolRunDeps & { confirm?: { confirmations: ConfirmationStore } | undefined },
  turn: AgentTurn,
  ctx: ToolContext,
  c: PendingConfirmation,
): Promise<Resumed> {
  const store = deps.confirm?.confirmations;
  if (!store) throw new Error('a resumed turn without a confirmation store');
  const call = { id: `confirmed-${c.id}`, toolName: c.tool, input: c.input };
  let result: string;
  if (await store.claimRun(turn.scope, c.id)) {
    const name = c.tool as ToolName;
    result = await runTool(deps, turn, ctx, (TOOL_NAMES as readonly string[]).includes(name) ? [name] : [], 'confirmed', call, {
      confirmation: c.id,
      decidedBy: c.decidedByUserId,
    });
    await store.finishRun(turn.scope, c.id, result);
  } else {
    const now = await store.find(turn.scope, c.id);
    result = now?.state === 'done' && now.result !== null ? now.result : INTERRUPTED;
  }
  const builtin = (TOOL_NAMES as readonly string[]).includes(c.tool) ? builtinTools[c.tool as ToolName] : null;
  return {
    messages: [
      { role: 'assistant', content: '', toolCalls: [call] },
      { role: 'tool', toolCallId: call.id, toolName: c.tool, content: result },
    ],
    tools: builtin ? { [c.tool]: { description: builtin.description, inputSchema: builtin.inputSchema } } : {},
  };
}
