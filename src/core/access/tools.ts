/**
 * The permission check a tool runs at call time (issue 8): gathers the facts (membership, the
 * channel's switch and tool rule, the guests setting), asks decide(), audits a Deny. Tools call
 * this instead of deciding themselves, so that decide() stays the one place access is decided.
 */
import type { Decision, ToolName } from './policy.js';
import { decide, denyExplanation } from './policy.js';
import type { Envelope } from '../envelope.js';
import { isQuorumError } from '../errors.js';
import type { Principal, Role, Scope } from '../identity.js';
import type { CoreDeps } from '../turn.js';

export interface ToolCheck {
  decision: Decision;
  /** For a Deny: one sentence for the user or the model ("the tool is unavailable"). */
  explanation: string | null;
}

export async function checkTool(
  deps: CoreDeps,
  ctx: { scope: Scope; principal: Principal; role: Role; envelope: Envelope },
  tool: ToolName,
): Promise<ToolCheck> {
  const { scope, principal, role, envelope } = ctx;
  const [settings, channel, isMember] = await Promise.all([
    deps.turns.settings(scope),
    deps.admin?.channelState(scope, envelope.channel.id) ?? Promise.resolve({ agentEnabled: true, tools: {} as Record<string, boolean> }),
    envelope.channel.kind === 'dm' ? Promise.resolve(true) : membership(deps, envelope),
  ]);
  const decision = decide(
    { principalId: principal.id, role, workspaceId: scope.workspaceId },
    { kind: 'use_tool', tool },
    {
      kind: 'channel',
      workspaceId: scope.workspaceId,
      channelKind: envelope.channel.kind,
      agentEnabled: channel.agentEnabled,
      guestsEnabled: settings.guestsEnabled,
      isMember,
      ...(tool in channel.tools ? { toolRule: channel.tools[tool] } : {}),
    },
  );
  if (decision.allow) return { decision, explanation: null };
  await deps.audit.append(scope, {
    action: 'denial',
    outcome: 'denied',
    actorPrincipalId: principal.id,
    channelExternalId: envelope.channel.id,
    channelKind: envelope.channel.kind,
    detail: { action: 'use_tool', tool, reason: decision.reason },
  });
  return { decision, explanation: denyExplanation[decision.reason] };
}

async function membership(deps: CoreDeps, envelope: Envelope): Promise<boolean | null> {
  const ports = deps.platforms[envelope.workspace.platform];
  if (!ports) return null;
  try {
    return await ports.membership.isMember(envelope.workspace, envelope.channel, envelope.user.id);
  } catch (err) {
    if (!isQuorumError(err, 'MEMBERSHIP_UNAVAILABLE')) throw err;
    return null;
  }
}
