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
import type { PendingConfirmation, PromptMessage, ToolSpec } from '../ports.js';
import type { ConfirmDeps } from './park.js';

export const INTERRUPTED =
  'Not run again: an earlier attempt started this confirmed call and was interrupted, so Quorum cannot tell whether it finished. Check before asking again.';

export interface Resumed {
  /** The call and its result, to follow the prompt the turn rebuilt. */
  messages: PromptMessage[];
  /** The tool named in those messages (providers want the tools of the calls a prompt holds). */
  tools: Record<string, ToolSpec>;
}

export async function runConfirmed(
  deps: ToolRunDeps & { confirm?: Pick<ConfirmDeps, 'confirmations' | 'runConnected'> | undefined },
  turn: AgentTurn,
  ctx: ToolContext,
  c: PendingConfirmation,
): Promise<Resumed> {
  const store = deps.confirm?.confirmations;
  if (!store) throw new Error('a resumed turn without a confirmation store');
  const call = { id: `confirmed-${c.id}`, toolName: c.tool, input: c.input };
  let result: string;
  const builtin = (TOOL_NAMES as readonly string[]).includes(c.tool) ? builtinTools[c.tool as ToolName] : null;
  let spec: ToolSpec | undefined = builtin ? { description: builtin.description, inputSchema: builtin.inputSchema } : undefined;
  if (await store.claimRun(turn.scope, c.id)) {
    if (builtin) {
      result = await runTool(deps, turn, ctx, [builtin.name], 'confirmed', call, { confirmation: c.id, decidedBy: c.decidedByUserId });
    } else if (deps.confirm?.runConnected) {
      const ran = await deps.confirm.runConnected(turn, c);
      result = ran.text;
      spec = ran.spec;
    } else {
      result = `${c.tool.slice(0, 100)}: no such tool is available.`;
    }
    await store.finishRun(turn.scope, c.id, result);
  } else {
    const now = await store.find(turn.scope, c.id);
    result = now?.state === 'done' && now.result !== null ? now.result : INTERRUPTED;
  }
  return {
    messages: [
      { role: 'assistant', content: '', toolCalls: [call] },
      { role: 'tool', toolCallId: call.id, toolName: c.tool, content: result },
    ],
    tools: spec ? { [c.tool]: spec } : {},
  };
}
