/**
 * The first stage of a turn: who asks, where, and what the store and the platform know about it
 * (the conversation, the workspace's settings, its history, membership, an answer an earlier
 * attempt recorded). Independent reads run together.
 */
import { roleOf } from '../access/roles.js';
import { conversationKeyOf } from '../conversation-key.js';
import type { Envelope } from '../envelope.js';
import { isQuorumError } from '../errors.js';
import type { Principal, Role, Scope, UserFacts } from '../identity.js';
import type { Conversation, DeliveryAttempt, PlatformPorts, StoredMessage, WorkspaceSettings } from '../ports.js';
import { portsFor, type CoreDeps, type TurnResult } from './deps.js';

export interface Requester {
  scope: Scope;
  facts: UserFacts;
}

/** Everything the later stages decide and answer from. */
export interface OpenedTurn extends Requester {
  envelope: Envelope;
  principal: Principal;
  role: Role;
  conversation: Conversation;
  settings: WorkspaceSettings;
  /** The conversation's stored history, before anyone decided it may be read. */
  stored: StoredMessage[];
  /** null: the platform could not be asked (decide() denies). */
  isMember: boolean | null;
  /** The answer an earlier attempt recorded (a crash before the reply was posted); null when none. */
  recorded: string | null;
  historyLimit: number;
}

/** The workspace, and what the platform says about the author. */
export async function requesterFacts(deps: CoreDeps, envelope: Pick<Envelope, 'workspace' | 'user'>): Promise<Requester> {
  const ports = portsFor(deps, envelope.workspace.platform);
  const scope = await deps.turns.resolveWorkspace(envelope.workspace);
  const facts = await ports.directory.lookup(envelope.workspace, envelope.user);
  return { scope, facts };
}

/** Resolves the workspace and the author, with the platform's facts about them. */
export async function resolveRequester(
  deps: CoreDeps,
  envelope: Pick<Envelope, 'workspace' | 'user'>,
): Promise<{ scope: Scope; principal: Principal; deleted: boolean }> {
  const { scope, facts } = await requesterFacts(deps, envelope);
  const principal = await deps.turns.resolvePrincipal(scope, envelope.user, facts);
  return { scope, principal, deleted: facts.deleted };
}

/** Someone the platform does not know (user_not_found) or deactivated runs nothing, and gets no reply. */
export function ignoreDeleted(deps: CoreDeps, scope: Scope): TurnResult {
  deps.log.warn({ event: 'turn.deleted_user', workspace: scope.workspaceId }, 'message from a deactivated user ignored');
  return { platformMessageId: null };
}

/** Opens the turn in the store, with membership and (on a re-run) the recorded answer read alongside. */
export async function openTurn(
  deps: CoreDeps,
  ports: PlatformPorts,
  envelope: Envelope,
  { scope, facts }: Requester,
  attempt: DeliveryAttempt | undefined,
): Promise<OpenedTurn> {
  const historyLimit = deps.historyLimit ?? 20;
  // Independent reads run together: the store's is one round trip, membership asks the platform.
  const [{ principal, conversation, settings, history: stored }, isMember, recorded] = await Promise.all([
    deps.turns.openTurn(scope, { user: envelope.user, facts, channel: envelope.channel, ...conversationKeyOf(envelope), historyLimit }),
    envelope.channel.kind === 'dm' ? Promise.resolve(true) : membershipOrNull(deps, ports, envelope),
    // Only a re-run can find an answer already recorded (the inbox takes each delivery once).
    attempt?.number === 1 ? Promise.resolve(null) : deps.turns.findAnswer(scope, envelope.idempotencyKey),
  ]);
  const role = roleOf(principal, envelope.workspace, deps.bootstrapAdmins);
  return { scope, facts, envelope, principal, role, conversation, settings, stored, isMember, recorded, historyLimit };
}

/** Fail closed: a platform that cannot be asked yields `null`, which decide() denies. */
async function membershipOrNull(deps: CoreDeps, ports: PlatformPorts, envelope: Envelope): Promise<boolean | null> {
  try {
    return await ports.membership.isMember(envelope.workspace, envelope.channel, envelope.user.id);
  } catch (err) {
    if (!isQuorumError(err, 'MEMBERSHIP_UNAVAILABLE')) throw err;
    deps.log.warn({ event: 'membership.unavailable', platform: envelope.workspace.platform }, 'membership check failed');
    return null;
  }
}
