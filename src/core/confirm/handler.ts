/**
 * The Confirm and Cancel buttons (`confirm:yes|no`, value = the confirmation id). Only the
 * requester decides; the decision is one conditional UPDATE, so a second click, a click on
 * another instance or a click after expiry changes nothing and is told why. On Confirm the turn
 * resumes through the inbox (any instance, also after a restart) under a key of its own.
 */
import type { EnvelopeInput } from '../envelope.js';
import type { Intake } from '../intake.js';
import type { InteractionAnswer, InteractionHandler } from '../interactions.js';
import type { AuditLog, ConfirmationStore, Logger, PendingConfirmation, TurnStore } from '../ports.js';
import { decidedText, GONE_TEXT } from './message.js';

export interface ConfirmHandlerDeps {
  turns: Pick<TurnStore, 'resolveWorkspace'>;
  confirmations: ConfirmationStore;
  intake: Intake;
  audit: AuditLog;
  log: Logger;
}

/** The resumed turn's delivery key: one per confirmation, so the inbox takes it once whoever enqueues it. */
export const resumeKey = (confirmationId: string) => `resume:${confirmationId}`;

export function resumeEnvelope(c: PendingConfirmation): EnvelopeInput {
  return { ...c.envelope, idempotencyKey: resumeKey(c.id), resumes: c.id, receivedAt: new Date() };
}

const notice = (text: string): InteractionAnswer => ({ kind: 'notice', text });

export function createConfirmHandler(deps: ConfirmHandlerDeps): InteractionHandler {
  const resume = async (c: PendingConfirmation) => {
    const submitted = await deps.intake.submit(resumeEnvelope(c));
    if (submitted.status === 'invalid') deps.log.error({ event: 'confirm.resume_invalid', problems: submitted.problems }, 'a confirmed turn could not be resumed');
  };

  return {
    prefix: 'confirm',
    async handle(interaction) {
      const verb = interaction.actionId.slice('confirm:'.length);
      if (verb !== 'yes' && verb !== 'no') return notice('That button is not one Quorum knows.');
      const scope = await deps.turns.resolveWorkspace(interaction.workspace);
      const found = await deps.confirmations.find(scope, interaction.value);
      // A notice, not an update: a value that names no confirmation must not replace the message it came with.
      if (!found) return notice(GONE_TEXT);
      // Past its time, whoever clicks: the message says so (its buttons go) and nothing runs.
      if (found.state === 'expired' || (found.state === 'pending' && found.expiresAt.getTime() <= Date.now())) {
        await deps.audit.append(scope, {
          action: 'denial',
          outcome: 'denied',
          channelExternalId: found.channelExternalId,
          detail: { reason: 'confirmation_expired', confirmation: found.id, tool: found.tool, clickedBy: interaction.user.id.slice(0, 100) },
        });
        return { kind: 'update', text: decidedText(found, 'expired') };
      }
      if (interaction.user.id !== found.requesterUserId) {
        await deps.audit.append(scope, {
          action: 'denial',
          outcome: 'denied',
          channelExternalId: found.channelExternalId,
          detail: { reason: 'not_requester', confirmation: found.id, tool: found.tool, clickedBy: interaction.user.id.slice(0, 100) },
        });
        return notice(`Only <@${found.requesterUserId}>, who asked for it, can confirm or cancel this. Nothing was changed.`);
      }
      const decision = verb === 'yes' ? 'confirmed' : 'cancelled';
      const decided = await deps.confirmations.decide(scope, found.id, decision, interaction.user.id);
      if (!decided) return alreadyDecided((await deps.confirmations.find(scope, found.id)) ?? found, verb, resume);
      await deps.audit.append(scope, {
        action: 'tool_call',
        outcome: 'ok',
        actorPrincipalId: decided.requesterPrincipalId,
        channelExternalId: decided.channelExternalId,
        channelKind: decided.envelope.channel.kind,
        content: JSON.stringify(decided.input ?? null),
        detail: { tool: decided.tool.slice(0, 100), stage: decision, confirmation: decided.id, decidedBy: interaction.user.id.slice(0, 100) },
      });
      if (decision === 'confirmed') await resume(decided);
      return { kind: 'update', text: decidedText(decided, decision) };
    },
  };
}

/** A click that found the row no longer pending: says why, and changes nothing. */
async function alreadyDecided(c: PendingConfirmation, verb: string, resume: (c: PendingConfirmation) => Promise<void>): Promise<InteractionAnswer> {
  if (c.state === 'pending' || c.state === 'expired') return { kind: 'update', text: decidedText(c, 'expired') };
  if (c.state === 'cancelled') return notice('This was already cancelled, so nothing was run. Ask again if you still want it.');
  // Confirmed before: the resume is enqueued again under the same key (a duplicate when it is there),
  // in case the first click's enqueue failed after the decision was stored.
  if (c.state === 'confirmed' && verb === 'yes') await resume(c);
  return notice('This was already confirmed; it runs once, so nothing more was done.');
}
