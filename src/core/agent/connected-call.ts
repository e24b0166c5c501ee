/**
 * Connected (MCP) tools in a turn: which are offered (the catalog, narrowed by decide() on the
 * requester and this conversation), and the governed call, checked again at call time: a tool
 * that was not offered, or is no longer allowed, is refused and audited; one that changes
 * something runs only once confirmed; every call is audited with its connection, tool, a SHA-256
 * of its arguments, who asked, who confirmed, its outcome and duration. A read-only call's audit
 * is written while the model reads its result; the turn waits for it before answering
 * (pending-audits.ts). Actions and denials are audited before their result is used.
 */
import { decide, denyExplanation, type ChannelResource } from '../access/policy.js';
import type { Envelope } from '../envelope.js';
import type { Role, Scope } from '../identity.js';
import { linkPrompt } from '../confirm/credentials.js';
import { confirmationFor, type ConfirmDeps, type ParkableTurn, type Parking } from '../confirm/park.js';
import type { PendingAudits } from './pending-audits.js';
import type { AuditLog, PendingConfirmation, ConnectedTool, ConnectedToolRule, ConnectedTools, Logger, ToolCall, ToolConfirmation } from '../ports.js';

export interface ConnectedDeps {
  tools: ConnectedTools;
  /** Absent until the confirmation feature is wired: then actions are refused, never run unconfirmed. */
  confirmation?: ToolConfirmation | undefined;
}

/** The part of a turn a connected call needs (an AgentTurn, or a parked call resumed after a click). */
export interface ConnectedCallTurn {
  scope: Scope;
  principal: { id: string; role: Role };
  envelope: Pick<Envelope, 'workspace' | 'channel'>;
  channel: ChannelResource;
  signal?: AbortSignal | undefined;
  /** Where private notes beside the reply are collected (the link prompt of an unlinked account). */
  parking?: Parking | undefined;
  /** Where a read-only call's audit write waits for the turn; absent: every call is audited before it returns. */
  audits?: PendingAudits | undefined;
}

export interface ConnectedCallDeps extends ConnectedDeps {
  audit: AuditLog;
  log: Logger;
}

function allowedBy(turn: ConnectedCallTurn, tool: ConnectedTool, rules: readonly ConnectedToolRule[]) {
  return decide(
    { principalId: turn.principal.id, role: turn.principal.role, workspaceId: turn.scope.workspaceId },
    { kind: 'use_connected_tool', tool: tool.name, facts: { rules, auth: tool.auth, resultsShared: tool.resultsShared } },
    turn.channel,
  );
}

/** The connected tools this requester may use in this conversation now. */
export async function offeredConnected(deps: ConnectedDeps, turn: ConnectedCallTurn): Promise<ConnectedTool[]> {
  const [catalog, rules] = await Promise.all([
    deps.tools.catalog(turn.scope, turn.envelope.workspace, turn.principal.id),
    deps.tools.rules(turn.scope, turn.envelope.workspace, turn.envelope.channel.id),
  ]);
  return catalog.filter((t) => allowedBy(turn, t, rules).allow);
}

function auditOf(deps: Pick<ConnectedCallDeps, 'audit'>, turn: ConnectedCallTurn, tool: { name: string; connection?: string }, input: unknown, step: string) {
  return (outcome: 'ok' | 'denied' | 'error', detail: Record<string, unknown>) =>
    deps.audit.append(turn.scope, {
      action: 'tool_call',
      outcome,
      actorPrincipalId: turn.principal.id,
      channelExternalId: turn.envelope.channel.id,
      channelKind: turn.envelope.channel.kind,
      // Stored as its SHA-256 (kept in clear only where a channel's workspace opted in).
      content: JSON.stringify(input ?? null),
      detail: { tool: tool.name.slice(0, 200), connection: tool.connection ?? null, specialist: step, ...detail },
    });
}

/**
 * Runs one connected call that is allowed to run now (read-only, or confirmed by `confirmedBy`):
 * decided again on the rules in force (cached, forgotten on every change), called through the
 * governed port, audited. Answers the model's text.
 */
export async function callConnectedTool(
  deps: ConnectedCallDeps,
  turn: ConnectedCallTurn,
  tool: ConnectedTool,
  input: Record<string, unknown>,
  options: { step: string; confirmedByPrincipalId: string | null },
): Promise<string> {
  const audit = auditOf(deps, turn, tool, input, options.step);
  const rules = await deps.tools.rules(turn.scope, turn.envelope.workspace, turn.envelope.channel.id);
  const decision = allowedBy(turn, tool, rules);
  if (!decision.allow) {
    await audit('denied', { reason: decision.reason });
    return `${tool.name} is unavailable: ${denyExplanation[decision.reason]}`;
  }
  const started = Date.now();
  const result = await deps.tools.call({ scope: turn.scope, workspace: turn.envelope.workspace, tool, input, requesterPrincipalId: turn.principal.id, signal: turn.signal });
  const durationMs = Date.now() - started;
  const confirmedBy = options.confirmedByPrincipalId;
  // Read-only and unconfirmed: the result goes to the model now, its audit entry commits meanwhile.
  const deferred = turn.audits && tool.readOnly && confirmedBy === null ? turn.audits : null;
  if (result.ok) {
    const write = audit('ok', { durationMs, confirmedBy, truncated: result.truncated });
    if (deferred) deferred.add(write);
    else await write;
    return result.text;
  }
  if (deferred && result.reason !== 'unlinked') deferred.add(audit('error', { durationMs, confirmedBy, reason: result.reason }));
  else await audit(result.reason === 'unlinked' ? 'denied' : 'error', { durationMs, confirmedBy, reason: result.reason });
  // Not linked yet: the requester alone gets a way to link it, beside the reply (never in the channel).
  if (result.reason === 'unlinked' && tool.auth === 'per-user') turn.parking?.asides.set(tool.connection, linkPrompt(tool.connection, result.signInUrl));
  return result.message;
}

/** One call the model asked for: refused unless offered, confirmed when it changes something, then run. */
export async function runConnectedCall(deps: ConnectedCallDeps, turn: ConnectedCallTurn, offered: readonly ConnectedTool[], step: string, call: ToolCall): Promise<string> {
  const tool = offered.find((t) => t.name === call.toolName);
  if (!tool) {
    await auditOf(deps, turn, { name: call.toolName }, call.input, step)('denied', { reason: 'not_offered' });
    return `${call.toolName.slice(0, 100)}: no such tool is available.`;
  }
  const input = call.input ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    await auditOf(deps, turn, tool, input, step)('error', { reason: 'invalid_input' });
    return `${tool.name}: the input was not valid.`;
  }
  const args = input as Record<string, unknown>;
  if (deps.confirmation) {
    const check = await deps.confirmation.check({
      scope: turn.scope,
      workspace: turn.envelope.workspace,
      requesterPrincipalId: turn.principal.id,
      channelExternalId: turn.envelope.channel.id,
      tool,
      input: args,
    });
    if (!check.run) return check.result;
    return callConnectedTool(deps, turn, tool, args, { step, confirmedByPrincipalId: check.confirmedByPrincipalId });
  }
  if (!tool.readOnly) {
    await auditOf(deps, turn, tool, args, step)('denied', { reason: 'needs_confirmation' });
    return `${tool.name} was not run: it changes something, and confirming actions is not available in this installation yet.`;
  }
  return callConnectedTool(deps, turn, tool, args, { step, confirmedByPrincipalId: null });
}

/**
 * The confirm feature's two hooks for one turn: the check before every connected call (an action
 * parks the turn instead of running), and the runner of a call confirmed by a click when the turn
 * resumes (the tool looked up again under the rules in force now, run once, the requester as who
 * confirmed: only they may click).
 */
export function withConfirmHooks<D extends { connected?: ConnectedDeps | undefined; confirm?: ConfirmDeps | undefined; audit: AuditLog; log: Logger }>(
  deps: D,
  turn: ConnectedCallTurn & ParkableTurn,
): D {
  if (!deps.connected) return deps;
  const callDeps: ConnectedCallDeps = { tools: deps.connected.tools, confirmation: confirmationFor(deps.confirm, turn), audit: deps.audit, log: deps.log };
  const runConnected = async (_resumed: unknown, c: PendingConfirmation) => {
    const tool = (await offeredConnected(callDeps, turn)).find((t) => t.name === c.tool);
    if (!tool) return { text: `${c.tool.slice(0, 100)}: this tool is no longer available here.` };
    const input = (c.input !== null && typeof c.input === 'object' ? c.input : {}) as Record<string, unknown>;
    const text = await callConnectedTool(callDeps, turn, tool, input, { step: 'confirmed', confirmedByPrincipalId: turn.principal.id });
    return { text, spec: { description: tool.description, inputSchema: tool.inputSchema } };
  };
  return { ...deps, connected: { tools: callDeps.tools, confirmation: callDeps.confirmation }, confirm: deps.confirm ? { ...deps.confirm, runConnected } : undefined };
}
