/**
 * The third stage: the agent answers (the orchestrator answers at once when it delegates
 * nothing), a refusal is audited and posted, an answer recorded; then the delivery shows it.
 */
import type { ChannelResource } from '../access/policy.js';
import { NO_TEXT_ANSWER, runAgentTurn, type AgentDeps } from '../agent/orchestrator.js';
import type { ContextRecorder } from '../context-report.js';
import type { Envelope } from '../envelope.js';
import type { ModelOutcome, PlatformPorts, PromptMessage } from '../ports.js';
import type { CoreDeps, TurnResult } from './deps.js';
import type { Delivery } from './delivery.js';
import { skippedNote, type ReadFiles } from './files.js';
import type { OpenedTurn } from './resolve.js';

/** What a request waiting behind its workspace's own queue (the limiter's or the inbox's) tells its sender. */
export const queuedNotice = (position: number): string => `Busy right now: you are number ${position} in the queue.`;

export interface Question {
  turn: OpenedTurn;
  channel: ChannelResource;
  messages: PromptMessage[];
  inspect: ContextRecorder | null;
  signal: AbortSignal | undefined;
  /** The turn's files as read (turn/files.ts): what was skipped is said under the answer. */
  files?: ReadFiles;
}

export async function answerTurn(deps: CoreDeps, ports: PlatformPorts, question: Question, delivery: Delivery): Promise<TurnResult> {
  const { turn, inspect } = question;
  // The answer streams where the platform can; errors and refusals are always posted.
  const answer = delivery.openAnswer();
  let outcome: ModelOutcome;
  try {
    outcome = await runAgentTurn(agentDeps(deps, inspect), {
      scope: turn.scope,
      principal: { id: turn.principal.id, role: turn.role },
      envelope: turn.envelope,
      conversationId: turn.conversation.id,
      channel: question.channel,
      settings: turn.settings,
      messages: question.messages,
      progress: (status) => delivery.progress(status),
      onQueued: (position) => delivery.progress(queuedNotice(position)),
      ...(question.signal ? { signal: question.signal } : {}),
      isMember: (id, kind) => memberOf(ports, turn.envelope, id, kind),
      history: ports.history,
      ...(answer ? { answer } : {}),
    });
    if (outcome.kind === 'refused') {
      await answer?.discard();
      inspect?.send('refused');
      await auditRefusal(deps, turn, outcome);
      return delivery.post({ kind: 'error', text: outcome.message });
    }
    // A model that sent only tool calls (or nothing) never leaves the user with an empty message.
    if (!outcome.text.trim()) outcome = { ...outcome, text: NO_TEXT_ANSWER };
    // Said by Quorum itself: whatever the model wrote, the reply names each file it did not read.
    if (question.files) outcome = { ...outcome, text: outcome.text + skippedNote(question.files) };
    await record(deps, turn, outcome);
  } catch (err) {
    // Nothing half-shown stays behind a turn that failed (it is retried or dead-lettered).
    await answer?.discard();
    throw err;
  }
  inspect?.send('answered');
  return delivery.finish(outcome.text);
}

function agentDeps(deps: CoreDeps, inspect: ContextRecorder | null): AgentDeps {
  const { model, turns, log, limitDefaults, agent } = deps;
  return {
    model,
    audit: inspect?.watch(deps.audit) ?? deps.audit,
    turns,
    store: agent.store,
    knowledge: agent.knowledge,
    log,
    limitDefaults,
    ...(agent.limits ? { limits: agent.limits } : {}),
  };
}

function auditRefusal(deps: CoreDeps, turn: OpenedTurn, outcome: Extract<ModelOutcome, { kind: 'refused' }>): Promise<void> {
  return deps.audit.append(turn.scope, {
    action: 'model_call',
    outcome: 'refused',
    actorPrincipalId: turn.principal.id,
    channelExternalId: turn.envelope.channel.id,
    channelKind: turn.envelope.channel.kind,
    model: outcome.model ?? null,
    latencyMs: outcome.latencyMs,
    detail: { reason: outcome.reason },
  });
}

function record(deps: CoreDeps, turn: OpenedTurn, outcome: Extract<ModelOutcome, { kind: 'answer' }>): Promise<void> {
  return deps.turns.recordTurn(turn.scope, {
    conversationId: turn.conversation.id,
    principalId: turn.principal.id,
    idempotencyKey: turn.envelope.idempotencyKey,
    channelExternalId: turn.envelope.channel.id,
    channelKind: turn.envelope.channel.kind,
    userText: turn.envelope.text,
    files: turn.envelope.files,
    answerText: outcome.text,
    model: outcome.model,
    usage: outcome.usage,
    latencyMs: outcome.latencyMs,
  });
}

/** For tools that look at other channels: a platform that cannot be asked counts as "not a member". */
async function memberOf(ports: PlatformPorts, envelope: Envelope, channelId: string, kind: Envelope['channel']['kind']): Promise<boolean> {
  try {
    return await ports.membership.isMember(envelope.workspace, { id: channelId, kind }, envelope.user.id);
  } catch {
    return false;
  }
}
