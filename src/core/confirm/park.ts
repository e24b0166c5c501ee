/**
 * Parking a turn: when the model asks for a call that needs confirmation, the call is stored
 * (with the turn's envelope, so any instance can resume it after a restart) instead of run, the
 * model is told it waits, and the turn ends with the confirmation message in place of an answer.
 */
import type { Envelope } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { Role } from '../identity.js';
import type { ConfirmationStore, ConfirmRules, OutgoingReply, PendingConfirmation, ToolSpec } from '../ports.js';
import { needsConfirmation } from './rules.js';

export interface ConfirmDeps {
  confirmations: ConfirmationStore;
  rules: ConfirmRules;
  /** CONFIRM_TTL_MS. */
  ttlMs: number;
  /**
   * Runs a confirmed connected (MCP) call in the resumed turn: the `mcp` seam, wired where the
   * catalog is (find the tool, then `callConnectedTool` with the requester as who confirmed).
   * Answers the model's text and the tool's spec; absent: only built-in calls can be resumed.
   */
  runConnected?: (turn: ResumedTurn, c: PendingConfirmation) => Promise<{ text: string; spec?: ToolSpec }>;
}

/** The turn a confirmed call resumes in, as the connected-call runner needs it. */
export type ResumedTurn = ParkableTurn & { principal: { id: string; role: Role }; signal?: AbortSignal | undefined };

/** One per turn: the first call that needs a click parks the turn; the rest of the turn stops at the next step. */
export class Parking {
  parked: PendingConfirmation | null = null;
  /**
   * Private notes to the requester beside the reply (the link prompt of a per-user tool they have
   * not linked: `linkPrompt`), posted once the turn's reply is out, each once per turn.
   */
  readonly asides = new Map<string, OutgoingReply>();
}

export interface ParkableTurn {
  scope: Scope;
  principal: { id: string };
  envelope: Envelope;
  parking?: Parking | undefined;
}

/** What the model reads for a call that waits (or that was not run because another waits). */
export const waitingResult = (tool: string) =>
  `${tool}: not run yet. It waits for the requester to confirm it; the conversation continues once they click Confirm.`;
const otherWaiting = (tool: string) => `${tool}: not run. Another action of this request waits for the requester's confirmation; ask again afterwards.`;

/** What a connected call's check answers (structurally the `mcp` seam's ToolConfirmation). */
export type ConfirmationCheck = { run: true; confirmedByPrincipalId: null } | { run: false; result: string };

/**
 * The `mcp` seam's ToolConfirmation for one turn: asked before every connected call; parks an
 * action (not read-only, or `confirm always`) on this turn instead of running it.
 */
export function confirmationFor(deps: ConfirmDeps | undefined, turn: ParkableTurn) {
  return {
    async check(request: { tool: { name: string; readOnly: boolean }; input: Record<string, unknown> }): Promise<ConfirmationCheck> {
      const parked = await parkIfNeeded(deps, turn, { tool: request.tool.name, input: request.input, readOnly: request.tool.readOnly });
      return parked ? { run: false, result: parked.result } : { run: true, confirmedByPrincipalId: null };
    },
  };
}

/**
 * null: run the call now. Otherwise the text the model gets in place of the result; the turn is
 * then parked on `turn.parking` (the first call that needs a click wins).
 */
export async function parkIfNeeded(
  deps: ConfirmDeps | undefined,
  turn: ParkableTurn,
  call: { tool: string; input: unknown; readOnly: boolean },
): Promise<{ result: string; parked: PendingConfirmation | null } | null> {
  if (!deps || !turn.parking) return null;
  const mode = await deps.rules.modeFor(turn.scope, turn.envelope.channel.id, call.tool);
  if (!needsConfirmation({ readOnly: call.readOnly, mode })) return null;
  if (turn.parking.parked) return { result: otherWaiting(call.tool), parked: null };
  const parked = await deps.confirmations.park(turn.scope, {
    sourceKey: turn.envelope.idempotencyKey,
    requesterPrincipalId: turn.principal.id,
    requesterUserId: turn.envelope.user.id,
    channelExternalId: turn.envelope.channel.id,
    tool: call.tool,
    input: call.input,
    envelope: turn.envelope,
    ttlMs: deps.ttlMs,
  });
  turn.parking.parked = parked;
  return { result: waitingResult(call.tool), parked };
}
