/**
 * One accepted delivery in, one reply out: resolve who and where, decide, build the prompt
 * under the audience rule, call the model through the gate, record, reply. Runs in a worker,
 * after the platform has been acked.
 */
import { decide, denyExplanation, type ChannelResource } from './access/policy.js';
import { NO_TEXT_ANSWER, runAgentTurn, type AgentLimits } from './agent/orchestrator.js';
import { openAnswerStream } from './answer-stream.js';
import { replyMemory } from './reply-memory.js';
import { runCommand } from './commands/index.js';
import type { LimitDefaults } from './commands/format.js';
import { conversationKeyOf } from './conversation-key.js';
import type { Envelope, Platform } from './envelope.js';
import { QuorumError, isQuorumError } from './errors.js';
import type { Principal, Scope, UserFacts } from './identity.js';
import type { AdminStore } from './admin.js';
import { roleOf, type BootstrapAdmin } from './access/roles.js';
import type {
  AgentStore,
  AuditLog,
  Conversation,
  Logger,
  ModelGate,
  ModelOutcome,
  OutgoingReply,
  PlatformPorts,
  DeliveryAttempt,
  ReplyTarget,
  TurnStore,
} from './ports.js';
import { audienceFor, buildPrompt, type ContextItem, type Visibility } from './prompt.js';
import { recordContext } from './context-report.js';

/** What a request waiting behind its workspace's own queue (the limiter's or the inbox's) tells its sender. */
export const queuedNotice = (position: number): string => `Busy right now: you are number ${position} in the queue.`;

export interface CoreDeps {
  turns: TurnStore;
  audit: AuditLog;
  model: ModelGate;
  /** The model name shown in `status`. */
  modelName: string;
  /** The limits a workspace without its own settings gets, shown in `status`. */
  limitDefaults?: LimitDefaults;
  platforms: Partial<Record<Platform, PlatformPorts>>;
  log: Logger;
  /** How many earlier messages of the conversation the prompt may hold. */
  historyLimit?: number;
  /** Multi-step turns with tools (src/core/agent); without it every turn is one model call. */
  agent?: { store: AgentStore; limits?: Partial<AgentLimits> };
  /** Settings, grants, tool rules and erasure for `/agent` commands (src/db/admin-store.ts). */
  admin?: AdminStore;
  /** QUORUM_ADMINS: admins by the operator's word, whatever the platform says. */
  bootstrapAdmins?: readonly BootstrapAdmin[];
}

export interface TurnResult {
  /** The platform's id of the posted reply; null when nothing was posted (a deleted user). */
  platformMessageId: string | null;
}

const STATUS_WORKING = 'Working on it…';
const NOT_ACTIVE = 'Your account is not active in this workspace, so I did not run that.';

export function portsFor(deps: CoreDeps, platform: Platform): PlatformPorts {
  const ports = deps.platforms[platform];
  if (!ports) throw new QuorumError('NO_PLATFORM', `no adapter is running for ${platform}`);
  return ports;
}

export function replyTargetOf(envelope: Envelope): ReplyTarget {
  const { workspace, user, channel, threadId, messageId, idempotencyKey, replyRoute } = envelope;
  return { workspace, user, channel, threadId, messageId, idempotencyKey, replyRoute };
}

/** The workspace, and what the platform says about the author. */
async function requesterFacts(deps: CoreDeps, envelope: Envelope): Promise<{ scope: Scope; facts: UserFacts }> {
  const ports = portsFor(deps, envelope.workspace.platform);
  const scope = await deps.turns.resolveWorkspace(envelope.workspace);
  const facts = await ports.directory.lookup(envelope.workspace, envelope.user);
  return { scope, facts };
}

/** Resolves the workspace and the author, with the platform's facts about them. */
export async function resolveRequester(
  deps: CoreDeps,
  envelope: Envelope,
): Promise<{ scope: Scope; principal: Principal; deleted: boolean }> {
  const { scope, facts } = await requesterFacts(deps, envelope);
  const principal = await deps.turns.resolvePrincipal(scope, envelope.user, facts);
  return { scope, principal, deleted: facts.deleted };
}

/**
 * Answers an `/agent` command at once (Slack wants the answer inside its 3 s ack). The same
 * command arriving through the inbox is answered by runTurn instead.
 */
export async function answerCommand(deps: CoreDeps, envelope: Envelope): Promise<string> {
  const { scope, facts } = await requesterFacts(deps, envelope);
  // Someone the platform does not know (user_not_found) or deactivated runs nothing, and gets no role.
  if (facts.deleted) {
    ignoreDeleted(deps, scope);
    return NOT_ACTIVE;
  }
  const principal = await deps.turns.resolvePrincipal(scope, envelope.user, facts);
  return runCommand(deps, { scope, principal, role: roleOf(principal, envelope.workspace, deps.bootstrapAdmins), envelope });
}

/**
 * `attempt` comes from the inbox row: a re-run (after a crash) finds the answer and the status
 * message an earlier attempt recorded, and replaces that message instead of posting a second one.
 */
export async function runTurn(deps: CoreDeps, envelope: Envelope, attempt?: DeliveryAttempt): Promise<TurnResult> {
  const ports = portsFor(deps, envelope.workspace.platform);
  const target: ReplyTarget = { ...replyTargetOf(envelope), statusMessageId: attempt?.statusMessageId ?? null };
  const memory = replyMemory(target, attempt);
  // Progress updates run in order; the first one's status message is stored before anything else is posted.
  let progressChain: Promise<void> = Promise.resolve();
  const progress = (status: string) => {
    progressChain = progressChain.then(() =>
      bestEffort(deps, async () => {
        const shown = await ports.replies.progress?.(target, status);
        if (shown) await memory.remember(shown.statusMessageId, 'status');
      }),
    );
  };
  const post = async (reply: OutgoingReply) => {
    await progressChain;
    return { platformMessageId: (await ports.replies.post(target, reply)).platformMessageId };
  };

  if (envelope.kind === 'command') {
    const { scope, facts } = await requesterFacts(deps, envelope);
    if (facts.deleted) return ignoreDeleted(deps, scope);
    const principal = await deps.turns.resolvePrincipal(scope, envelope.user, facts);
    const answer = await runCommand(deps, { scope, principal, role: roleOf(principal, envelope.workspace, deps.bootstrapAdmins), envelope });
    return post({ kind: 'notice', text: answer, private: true });
  }

  const { scope, facts } = await requesterFacts(deps, envelope);
  if (facts.deleted) return ignoreDeleted(deps, scope);
  const historyLimit = deps.historyLimit ?? 20;
  // Independent reads run together: the store's is one round trip, membership asks the platform.
  const [{ principal, conversation, settings, history: stored }, isMember, recorded] = await Promise.all([
    deps.turns.openTurn(scope, {
      user: envelope.user,
      facts,
      channel: envelope.channel,
      ...conversationKeyOf(envelope),
      historyLimit,
    }),
    envelope.channel.kind === 'dm' ? Promise.resolve(true) : membershipOrNull(deps, ports, envelope),
    // Only a re-run can find an answer already recorded (the inbox takes each delivery once).
    attempt?.number === 1 ? Promise.resolve(null) : deps.turns.findAnswer(scope, envelope.idempotencyKey),
  ]);
  const role = roleOf(principal, envelope.workspace, deps.bootstrapAdmins);
  const subject = { principalId: principal.id, role, workspaceId: scope.workspaceId };
  const channelResource: ChannelResource = {
    kind: 'channel',
    workspaceId: scope.workspaceId,
    channelKind: envelope.channel.kind,
    agentEnabled: conversation.agentEnabled,
    guestsEnabled: settings.guestsEnabled,
    isMember,
  };
  const decision = decide(subject, { kind: 'talk' }, channelResource);
  const audience = audienceFor(envelope.channel.kind, envelope.channel.id, principal.id);
  // Only where the adapter asks (the console's inspector): what the model was given, and why not the rest.
  const inspect = recordContext(ports, target, audience, historyLimit);
  const auditDenial = (action: 'talk' | 'read_history', reason: string) =>
    deps.audit.append(scope, {
      action: 'denial',
      outcome: 'denied',
      actorPrincipalId: principal.id,
      channelExternalId: envelope.channel.id,
      channelKind: envelope.channel.kind,
      detail: { reason, action },
    });
  if (!decision.allow) {
    await auditDenial('talk', decision.reason);
    inspect?.send('denied', decision.reason);
    return post({ kind: 'error', text: denyExplanation[decision.reason], private: true });
  }

  // A re-run of a delivery whose answer was recorded (a crash before the reply was posted) posts that answer.
  if (recorded !== null) return post({ kind: 'answer', text: recorded });

  // The stored history is context only if the requester may read it (a DM only its owner).
  const readable = decide(subject, { kind: 'read_history' }, {
    kind: 'conversation',
    workspaceId: scope.workspaceId,
    conversationKind: conversation.kind,
    ownerPrincipalId: conversation.ownerPrincipalId,
    isMember,
  });
  if (!readable.allow) await auditDenial('read_history', readable.reason);
  // What was read with the conversation counts only now that the requester may read it.
  const history = readable.allow ? stored : [];
  const visibility = visibilityOf(conversation);
  const context: ContextItem[] = history.map((message) => ({ visibility, message }));
  const messages = buildPrompt({ audience, context, text: envelope.text });
  inspect?.context(context, envelope.text, readable.allow ? undefined : { count: stored.length, reason: readable.reason });

  const onQueued = (position: number) => progress(queuedNotice(position));
  // The answer streams where the platform can; errors and refusals are always posted.
  // The streamed message becomes the one a re-run replaces (the status message above it goes).
  const answer = openAnswerStream(ports.replies, target, deps.log, (messageId) => memory.remember(messageId, 'stream'));
  let outcome: ModelOutcome;
  try {
    outcome = deps.agent
      ? await runAgentTurn(
          { model: deps.model, audit: inspect?.watch(deps.audit) ?? deps.audit, turns: deps.turns, store: deps.agent.store, log: deps.log, limitDefaults: deps.limitDefaults, ...(deps.agent.limits ? { limits: deps.agent.limits } : {}) },
          {
            scope,
            principal: { id: principal.id, role },
            envelope,
            conversationId: conversation.id,
            channel: channelResource,
            settings,
            messages,
            progress,
            onQueued,
            ...(attempt?.signal ? { signal: attempt.signal } : {}),
            isMember: (id, kind) => memberOf(ports, envelope, id, kind),
            history: ports.history,
            ...(answer ? { answer } : {}),
          },
        )
      : (progress(STATUS_WORKING),
        await deps.model.generate({
          scope,
          principalId: principal.id,
          messages,
          onQueued,
          settings,
          ...(attempt?.signal ? { signal: attempt.signal } : {}),
          ...(answer ? { onTextDelta: answer.onTextDelta } : {}),
        }));

    if (outcome.kind === 'refused') {
      await answer?.discard();
      inspect?.send('refused');
      await deps.audit.append(scope, {
        action: 'model_call',
        outcome: 'refused',
        actorPrincipalId: principal.id,
        channelExternalId: envelope.channel.id,
        channelKind: envelope.channel.kind,
        model: outcome.model ?? null,
        latencyMs: outcome.latencyMs,
        detail: { reason: outcome.reason },
      });
      return post({ kind: 'error', text: outcome.message });
    }
    // A model that sent only tool calls (or nothing) never leaves the user with an empty message.
    if (!outcome.text.trim()) outcome = { ...outcome, text: NO_TEXT_ANSWER };

    await deps.turns.recordTurn(scope, {
      conversationId: conversation.id,
      principalId: principal.id,
      idempotencyKey: envelope.idempotencyKey,
      channelExternalId: envelope.channel.id,
      channelKind: envelope.channel.kind,
      userText: envelope.text,
      answerText: outcome.text,
      model: outcome.model,
      usage: outcome.usage,
      latencyMs: outcome.latencyMs,
    });
  } catch (err) {
    // Nothing half-shown stays behind a turn that failed (it is retried or dead-lettered).
    await answer?.discard();
    throw err;
  }
  inspect?.send('answered');
  // The stream ends with the recorded text; where nothing streamed (or it broke) the answer is posted.
  return (await answer?.finish(outcome.text)) ?? post({ kind: 'answer', text: outcome.text });
}

function visibilityOf(conversation: Conversation): Visibility {
  if (conversation.kind === 'dm') {
    if (!conversation.ownerPrincipalId) throw new Error('a DM conversation without an owner');
    return { kind: 'dm', ownerPrincipalId: conversation.ownerPrincipalId };
  }
  return { kind: conversation.kind, channelExternalId: conversation.channelExternalId };
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

/** For tools that look at other channels: a platform that cannot be asked counts as "not a member". */
async function memberOf(ports: PlatformPorts, envelope: Envelope, channelId: string, kind: Envelope['channel']['kind']): Promise<boolean> {
  try {
    return await ports.membership.isMember(envelope.workspace, { id: channelId, kind }, envelope.user.id);
  } catch {
    return false;
  }
}

function ignoreDeleted(deps: CoreDeps, scope: Scope): TurnResult {
  deps.log.warn({ event: 'turn.deleted_user', workspace: scope.workspaceId }, 'message from a deactivated user ignored');
  return { platformMessageId: null };
}

async function bestEffort(deps: CoreDeps, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    deps.log.debug({ event: 'reply.progress_failed', err: (err as Error).message }, 'progress update failed');
  }
}

