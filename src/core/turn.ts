/**
 * One accepted delivery in, one reply out, in stages that read in order: resolve who and where
 * (turn/resolve.ts), decide (turn/decide.ts), answer through the agent (turn/answer.ts), deliver
 * (turn/delivery.ts, the one owner of what the user sees and what a re-run must find). Runs in a
 * worker, after the platform has been acked.
 */
import { denyExplanation } from './access/policy.js';
import { roleOf } from './access/roles.js';
import { runCommand, type CommandAnswer } from './commands/index.js';
import { recordContext } from './context-report.js';
import type { Envelope } from './envelope.js';
import type { Scope } from './identity.js';
import type { DeliveryAttempt, PendingConfirmation, PlatformPorts } from './ports.js';
import { aboutContext } from './turn/about.js';
import { answerActions } from './feedback.js';
import { answerTurn } from './turn/answer.js';
import { decideTalk, promptFor, visibilityOf } from './turn/decide.js';
import { filesOfTurn, NO_FILES, platformThreadFiles, readFiles, withFiles, type ReadFiles } from './turn/files.js';
import { portsFor, type CoreDeps, type TurnResult } from './turn/deps.js';
import { openDelivery, type Delivery } from './turn/delivery.js';
import { ignoreDeleted, openTurn, requesterFacts, type OpenedTurn } from './turn/resolve.js';
import type { Audience } from './prompt.js';
import { modelAcceptsImages, turnModels } from './models.js';

export { portsFor, type CoreDeps, type TurnResult } from './turn/deps.js';
export { replyTargetOf } from './turn/delivery.js';
export { resolveRequester } from './turn/resolve.js';
export { queuedNotice } from './turn/answer.js';

const NOT_ACTIVE = 'Your account is not active in this workspace, so I did not run that.';

/**
 * Answers an `/agent` command at once (Slack wants the answer inside its 3 s ack). The same
 * command arriving through the inbox is answered by runTurn instead.
 */
export async function answerCommand(deps: CoreDeps, envelope: Envelope): Promise<CommandAnswer> {
  const { scope, facts } = await requesterFacts(deps, envelope);
  // Someone the platform does not know (user_not_found) or deactivated runs nothing, and gets no role.
  if (facts.deleted) {
    ignoreDeleted(deps, scope);
    return { text: NOT_ACTIVE };
  }
  const principal = await deps.turns.resolvePrincipal(scope, envelope.user, facts);
  return runCommand(deps, { scope, principal, role: roleOf(principal, envelope.workspace, deps.bootstrapAdmins), envelope });
}

/**
 * `attempt` comes from the inbox row: a re-run (after a crash) finds the answer and the messages
 * an earlier attempt recorded, and replaces them instead of posting them again.
 */
export async function runTurn(deps: CoreDeps, envelope: Envelope, attempt?: DeliveryAttempt): Promise<TurnResult> {
  const ports = portsFor(deps, envelope.workspace.platform);
  const delivery = openDelivery(ports.replies, envelope, attempt, deps.log);
  if (envelope.kind === 'command') return commandTurn(deps, envelope, delivery);

  // Resolve.
  const requester = await requesterFacts(deps, envelope);
  if (requester.facts.deleted) return ignoreDeleted(deps, requester.scope);
  const turn = await openTurn(deps, ports, envelope, requester, attempt);

  // Decide.
  const { decision, channel, audience } = await decideTalk(deps, turn);
  // Only where the adapter asks (the console's inspector): what the model was given, and why not the rest.
  const inspect = recordContext(ports, delivery.target, audience, turn.historyLimit);
  if (!decision.allow) {
    inspect?.send('denied', decision.reason);
    return delivery.post({ kind: 'error', text: denyExplanation[decision.reason], private: true });
  }
  // A re-run of a delivery whose answer was recorded (a crash before the reply was posted) posts that answer.
  if (turn.recorded !== null) return delivery.post({ kind: 'answer', text: turn.recorded, actions: answerActions(envelope) });
  const resume = envelope.resumes ? await resumable(deps, turn.scope, envelope) : undefined;
  if (resume === null) return delivery.post({ kind: 'error', text: NOT_RESUMABLE, private: true });
  // Asked about a channel from a private place: only with the requester's membership there, checked now.
  const about = envelope.about ? await aboutContext(deps, ports, turn, envelope.about) : null;
  if (about && !about.allow) {
    inspect?.send('denied', 'not_a_member');
    return delivery.post({ kind: 'error', text: about.text, private: true });
  }
  // The admins' model and instructions for this channel (else the workspace's).
  const profile = (await deps.profiles?.profile(turn.scope, envelope.channel.id)) ?? null;
  const { messages, readable } = await promptFor(deps, turn, audience, inspect, about ?? undefined, profile);
  const models = deps.models ? turnModels(deps.models, profile) : undefined;
  // Pictures go only to a model that sees (the channel's choice, else the operator's guess).
  const fileDeps = deps.files && models ? { ...deps.files, acceptsImages: modelAcceptsImages(models) } : deps.files;
  const files = await turnFiles(fileDeps, ports, delivery, filesWhere(turn, audience, readable), deps.log);

  // Answer, and deliver.
  const answering = { turn, channel, messages: withFiles(messages, files), files, inspect, signal: attempt?.signal, resume, ...(models ? { models } : {}) };
  return answerTurn(deps, ports, answering, delivery);
}

const NOT_RESUMABLE = 'That confirmed request cannot be resumed any more, so nothing was run. Please ask again.';

/** The confirmation a resumed delivery names, only if it is this requester's and was confirmed; null otherwise. */
async function resumable(deps: CoreDeps, scope: Scope, envelope: Envelope): Promise<PendingConfirmation | null> {
  const store = deps.agent.confirm?.confirmations;
  const found = store && envelope.resumes ? await store.find(scope, envelope.resumes) : null;
  if (!found || found.requesterUserId !== envelope.user.id || !['confirmed', 'running', 'done'].includes(found.state)) return null;
  return found;
}

async function commandTurn(deps: CoreDeps, envelope: Envelope, delivery: Delivery): Promise<TurnResult> {
  const { scope, facts } = await requesterFacts(deps, envelope);
  if (facts.deleted) return ignoreDeleted(deps, scope);
  const principal = await deps.turns.resolvePrincipal(scope, envelope.user, facts);
  const answer = await runCommand(deps, { scope, principal, role: roleOf(principal, envelope.workspace, deps.bootstrapAdmins), envelope });
  return delivery.post({ kind: 'notice', text: answer.text, private: true, ...(answer.actions ? { actions: answer.actions } : {}) });
}

/**
 * The message's files, else the conversation's latest (where its history may be read), else the
 * latest shared in the platform's thread when the question speaks of a file; read as quoted data.
 */
async function turnFiles(fileDeps: CoreDeps['files'], ports: PlatformPorts, delivery: Delivery, where: ReturnType<typeof filesWhere>, log: CoreDeps['log']): Promise<ReadFiles> {
  let refs = filesOfTurn(where);
  if (refs.length === 0) refs = await platformThreadFiles(ports, where);
  if (refs.length === 0) return NO_FILES;
  delivery.progress('Reading the files…');
  const files = await readFiles(fileDeps, ports, where, refs);
  // Counts only: file names can be as private as the message.
  log.info({ event: 'turn.files', read: files.readCount, images: files.images.length, skipped: files.skipped.length }, 'files read into a turn');
  return files;
}

function filesWhere(turn: OpenedTurn, audience: Audience, readable: boolean) {
  return { envelope: turn.envelope, stored: turn.stored, audience, history: { visibility: visibilityOf(turn.conversation), readable } };
}
