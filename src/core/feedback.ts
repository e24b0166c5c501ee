/**
 * 👍 / 👎 under every answer, on every platform: `feedback:up` / `feedback:down` buttons whose
 * value is the delivery the answer was recorded under; a 👎 then offers an optional reason
 * (`feedback:reason` dialog). Stored once per person and answer (a second click changes nothing
 * and says so), audited, counted.
 *
 * Who may give it: anyone who can see the answer, not only the person who asked. An answer in a
 * channel is read by all of its members, and whether it helped them is worth as much; Slack and
 * Teams only deliver clicks from people who see the message, and membership is checked again here
 * (fail closed). A DM's answer is its owner's alone.
 */
import type { Envelope } from './envelope.js';
import { isQuorumError } from './errors.js';
import type { Interaction, InteractionAnswer, InteractionHandler, ReplyAction } from './interactions.js';
import type { AnswerRef, FeedbackStore, Rating } from './ports.js';
import { resolveRequester } from './turn/resolve.js';
import type { CoreDeps } from './turn/deps.js';
import { portsFor } from './turn/deps.js';

export const FEEDBACK_PREFIX = 'feedback';
const MAX_REASON_CHARS = 1_000;

export const FEEDBACK_TEXT = {
  thanks: 'Thanks for the feedback.',
  already: 'You already rated this answer; your first rating stands.',
  gone: 'That answer is no longer stored, so your feedback could not be kept.',
  cannotSee: 'You can only rate answers in conversations you are a member of.',
  unknown: 'I could not confirm that you can see that answer right now. Please try again in a minute.',
  inactive: 'Your account is not active in this workspace.',
} as const;

/** The buttons under an answer: the value names the delivery the answer was recorded under. */
export function answerActions(envelope: Pick<Envelope, 'idempotencyKey'>): ReplyAction[] {
  return [
    { actionId: `${FEEDBACK_PREFIX}:up`, label: '👍', value: envelope.idempotencyKey },
    { actionId: `${FEEDBACK_PREFIX}:down`, label: '👎', value: envelope.idempotencyKey },
  ];
}

export interface FeedbackDeps {
  core: CoreDeps;
  store: FeedbackStore;
  /** Told of each rating stored (the /metrics counter). */
  counted?: (rating: Rating) => void;
}

export function createFeedbackHandler(deps: FeedbackDeps): InteractionHandler {
  return {
    prefix: FEEDBACK_PREFIX,
    async handle(interaction) {
      const verb = interaction.actionId.slice(FEEDBACK_PREFIX.length + 1);
      if (verb === 'up' || verb === 'down') return rate(deps, interaction, verb);
      if (verb === 'reason' && interaction.kind === 'submit') return reason(deps, interaction);
      return { kind: 'notice', text: 'That button is not known.' };
    },
  };
}

type Found = { ok: true; scope: Awaited<ReturnType<typeof resolveRequester>>['scope']; principalId: string; answer: AnswerRef } | { ok: false; answer: InteractionAnswer };

/** The clicker (as the platform says), the answer, and whether they can see it. */
async function find(deps: FeedbackDeps, interaction: Interaction): Promise<Found> {
  const { core } = deps;
  const who = await resolveRequester(core, { workspace: interaction.workspace, user: interaction.user } as Envelope);
  if (who.deleted) return { ok: false, answer: { kind: 'notice', text: FEEDBACK_TEXT.inactive } };
  const answer = await deps.store.answer(who.scope, interaction.value);
  if (!answer) return { ok: false, answer: { kind: 'notice', text: FEEDBACK_TEXT.gone } };
  const sees = await canSee(core, interaction, answer, who.principal.id);
  if (sees !== true) {
    await core.audit.append(who.scope, {
      action: 'denial',
      outcome: 'denied',
      actorPrincipalId: who.principal.id,
      channelExternalId: answer.channelExternalId,
      channelKind: answer.conversationKind,
      detail: { action: 'feedback', reason: sees === null ? 'membership_unknown' : 'not_a_member' },
    });
    return { ok: false, answer: { kind: 'notice', text: sees === null ? FEEDBACK_TEXT.unknown : FEEDBACK_TEXT.cannotSee } };
  }
  return { ok: true, scope: who.scope, principalId: who.principal.id, answer };
}

/** true: sees it; false: does not; null: the platform could not say (refused). */
async function canSee(core: CoreDeps, interaction: Interaction, answer: AnswerRef, principalId: string): Promise<boolean | null> {
  if (answer.conversationKind === 'dm') return answer.ownerPrincipalId === principalId;
  try {
    const ports = portsFor(core, interaction.workspace.platform);
    return await ports.membership.isMember(interaction.workspace, { id: answer.channelExternalId, kind: answer.conversationKind }, interaction.user.id);
  } catch (err) {
    if (!isQuorumError(err, 'MEMBERSHIP_UNAVAILABLE')) throw err;
    return null;
  }
}

async function rate(deps: FeedbackDeps, interaction: Interaction, rating: Rating): Promise<InteractionAnswer> {
  const found = await find(deps, interaction);
  if (!found.ok) return found.answer;
  const { scope, principalId, answer } = found;
  const outcome = await deps.store.give(scope, { messageId: answer.messageId, principalId, rating });
  if (outcome === 'already') return { kind: 'notice', text: FEEDBACK_TEXT.already };
  await deps.core.audit.append(scope, {
    action: 'feedback',
    outcome: 'ok',
    actorPrincipalId: principalId,
    channelExternalId: answer.channelExternalId,
    channelKind: answer.conversationKind,
    detail: { rating, answer: answer.messageId },
  });
  deps.counted?.(rating);
  if (rating === 'up') return { kind: 'notice', text: FEEDBACK_TEXT.thanks };
  return {
    kind: 'dialog',
    dialog: {
      actionId: `${FEEDBACK_PREFIX}:reason`,
      title: 'What went wrong?',
      submitLabel: 'Send',
      intro: 'Thanks: your 👎 is counted. If you like, say what was wrong; the admins of this workspace can read it (/agent feedback).',
      fields: [{ name: 'reason', label: 'Reason (optional)', kind: 'multiline', optional: true, maxLength: MAX_REASON_CHARS }],
      value: interaction.value,
    },
  };
}

async function reason(deps: FeedbackDeps, interaction: Interaction): Promise<InteractionAnswer> {
  const text = (interaction.fields.reason ?? '').trim();
  if (!text) return { kind: 'none' };
  if (text.length > MAX_REASON_CHARS) return { kind: 'invalid', errors: { reason: `At most ${MAX_REASON_CHARS} characters, please.` } };
  const found = await find(deps, interaction);
  if (!found.ok) return found.answer;
  const { scope, principalId, answer } = found;
  const added = await deps.store.addReason(scope, { messageId: answer.messageId, principalId, reason: text });
  if (!added) return { kind: 'notice', text: FEEDBACK_TEXT.already };
  await deps.core.audit.append(scope, {
    action: 'feedback',
    outcome: 'ok',
    actorPrincipalId: principalId,
    channelExternalId: answer.channelExternalId,
    channelKind: answer.conversationKind,
    // The reason is content: kept as its hash (in clear only where the workspace keeps channel content).
    content: text,
    detail: { rating: 'down', answer: answer.messageId, reason: true },
  });
  return { kind: 'none' };
}
