/**
 * One round of tool calls a model asked for: capped (per response and per turn), each one run
 * as the requester (offered to this step, permitted at call time, validated, audited), and every
 * call answered by a `tool` message naming its id, so the next prompt pairs each result with
 * its call and never presents a tool's output as the user's words.
 */
import { parkIfNeeded, type ConfirmDeps } from '../confirm/park.js';
import type { AgentStore, AuditLog, Logger, PromptMessage, ToolCall } from '../ports.js';
import type { AgentTurn } from './orchestrator.js';
import { explainToolDenial, TOOL_NAMES, toolAllowed, type ToolName } from './permissions.js';
import { builtinTools, type ToolContext } from './tools.js';

/** A tool call with the id its result will name (the provider's, or one made here for a call that came without). */
export type IdentifiedCall = ToolCall & { id: string };

export function identified(calls: readonly ToolCall[], prefix: string): IdentifiedCall[] {
  return calls.map((c, i) => ({ ...c, id: c.id ?? `${prefix}-${i}` }));
}

/**
 * Tool calls counted per turn, shared by every step. A response past `perResponse` or a turn past
 * `perTurn` has its extra calls refused (each still gets a result saying why) and the reply says so.
 */
export class ToolCallBudget {
  used = 0;
  /** Calls refused for a limit, in this turn. */
  skipped = 0;

  constructor(
    readonly perResponse: number,
    readonly perTurn: number,
  ) {}

  /** Splits one response's calls into those that may run and those refused, counting both. */
  take<T>(calls: readonly T[]): { run: T[]; refused: T[] } {
    const room = Math.max(0, Math.min(this.perResponse, this.perTurn - this.used));
    const run = calls.slice(0, room);
    this.used += run.length;
    this.skipped += calls.length - run.length;
    return { run, refused: calls.slice(run.length) };
  }

  /** What the requester is told when calls were refused; '' when none were. */
  note(): string {
    if (this.skipped === 0) return '';
    return (
      `\n\n(Quorum did not run ${this.skipped} of the tool calls the model asked for: ` +
      `at most ${this.perResponse} per step and ${this.perTurn} per request.)`
    );
  }

  limitResult(): string {
    return `Not run: the model asked for more tool calls than Quorum allows (${this.perResponse} per step, ${this.perTurn} per request).`;
  }
}

/** The assistant message that made the calls, then one `tool` message per call, in the same order. */
export function callAndResults(text: string, calls: IdentifiedCall[], results: Map<string, string>): PromptMessage[] {
  return [
    { role: 'assistant', content: text, toolCalls: calls },
    ...calls.map((c): PromptMessage => ({ role: 'tool', toolCallId: c.id, toolName: c.toolName, content: results.get(c.id) ?? 'Not run.' })),
  ];
}

export interface ToolRunDeps {
  audit: AuditLog;
  store: AgentStore;
  log: Logger;
  /** Actions wait for their requester's click (src/core/confirm); absent: every allowed call runs at once. */
  confirm?: ConfirmDeps | undefined;
}

/** A call its requester already confirmed (the resumed turn): it runs now, and the audit names who confirmed. */
export interface ConfirmedBy {
  confirmation: string;
  decidedBy: string | null;
}

type Audit = (outcome: 'ok' | 'denied' | 'error', detail: Record<string, unknown>) => Promise<void>;

/** The audit of one call: arguments stored as their SHA-256 unless the workspace keeps content (channels only). */
export function auditCall(deps: Pick<ToolRunDeps, 'audit'>, turn: AgentTurn, call: ToolCall, step: string): Audit {
  return async (outcome, detail) => {
    await deps.audit.append(turn.scope, {
      action: 'tool_call',
      outcome,
      actorPrincipalId: turn.principal.id,
      channelExternalId: turn.envelope.channel.id,
      channelKind: turn.envelope.channel.kind,
      content: JSON.stringify(call.input ?? null),
      detail: { tool: call.toolName.slice(0, 100), specialist: step, ...detail },
    });
  };
}

/**
 * Runs one tool call as the requester: a tool not offered to this step is refused, then permission
 * at call time, validated input, audited. Answers the text of its result.
 */
export async function runTool(
  deps: ToolRunDeps,
  turn: AgentTurn,
  ctx: ToolContext,
  offered: readonly ToolName[],
  step: string,
  call: ToolCall,
  confirmed?: ConfirmedBy,
): Promise<string> {
  const audit = auditCall(deps, turn, call, step);
  const name = call.toolName as ToolName;
  if (!(TOOL_NAMES as readonly string[]).includes(name) || !offered.includes(name)) {
    await audit('denied', { reason: 'unknown_tool' });
    return `${call.toolName.slice(0, 100)}: no such tool is available.`;
  }
  const toolRule = await deps.store.toolRule(turn.scope, turn.envelope.channel.id, name);
  const decision = toolAllowed({ principalId: turn.principal.id, role: turn.principal.role }, name, { ...turn.channel, toolRule });
  if (!decision.allow) {
    await audit('denied', { reason: decision.reason });
    return `${name} is unavailable: ${explainToolDenial(decision)}`;
  }
  const tool = builtinTools[name];
  const input = tool.inputSchema.safeParse(call.input ?? {});
  if (!input.success) {
    await audit('error', { reason: 'invalid_input' });
    return `${name}: the input was not valid.`;
  }
  // Built-in tools count as read-only: only an admin's `confirm always` puts one behind a click.
  const parked = confirmed ? null : await parkIfNeeded(deps.confirm, turn, { tool: name, input: input.data, readOnly: true });
  if (parked) {
    if (parked.parked) await audit('ok', { stage: 'awaiting_confirmation', confirmation: parked.parked.id });
    return parked.result;
  }
  try {
    const text = await tool.run(ctx, input.data);
    await audit('ok', confirmed ? { ...confirmed } : {});
    return text;
  } catch (err) {
    deps.log.warn({ event: 'agent.tool_failed', tool: name, err: (err as Error).message }, 'tool failed');
    await audit('error', { reason: 'failed' });
    return `${name}: failed.`;
  }
}

/** Audits the calls a limit refused, once per response (not once per call: a flood stays one line). */
export async function auditRefused(deps: Pick<ToolRunDeps, 'audit'>, turn: AgentTurn, step: string, refused: readonly ToolCall[]): Promise<void> {
  if (refused.length === 0) return;
  await deps.audit.append(turn.scope, {
    action: 'tool_call',
    outcome: 'denied',
    actorPrincipalId: turn.principal.id,
    channelExternalId: turn.envelope.channel.id,
    channelKind: turn.envelope.channel.kind,
    detail: { specialist: step, reason: 'tool_call_limit', refused: refused.length },
  });
}
