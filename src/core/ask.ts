/**
 * "Ask Quorum about this": a message action (Slack message shortcut `ask:message`, Teams message
 * extension action with the same command id) opens a small dialog for the question; its
 * submission becomes a private turn (the app's DM in Slack, the 1:1 chat in Teams) whose
 * envelope names the chosen message as what it is `about`. The turn checks that the asker is a
 * member of that message's channel before anything reaches the model (turn/about.ts).
 */
import { z } from 'zod';
import { channelRefSchema, type EnvelopeInput } from './envelope.js';
import type { Intake } from './intake.js';
import type { Interaction, InteractionAnswer, InteractionHandler } from './interactions.js';
import type { CoreDeps } from './turn/deps.js';
import { portsFor } from './turn/deps.js';

export const ASK_PREFIX = 'ask';
/** The message action's id: the Slack shortcut's callback_id and the Teams command id. */
export const ASK_MESSAGE_ACTION = `${ASK_PREFIX}:message`;
const ASK_QUESTION = `${ASK_PREFIX}:question`;
/** The chosen message's text travels with the dialog only up to this (Slack keeps 3,000 characters of a modal's metadata); longer ones are read again through the history port. */
const MAX_CARRIED_TEXT = 1_500;
const MAX_QUESTION = 3_000;

export const ASK_TEXT = {
  noMessage: 'Choose a message to ask about (the message menu → Ask Quorum about this).',
  noPrivatePlace: 'I can only answer this privately in our 1:1 chat, and we have none yet: open a chat with Quorum, say hello, then try again.',
  empty: 'Type a question.',
} as const;

/** What the dialog carries back: the chosen message's place (checked again in the turn, never trusted beyond that). */
const aboutValueSchema = z.object({
  c: channelRefSchema,
  m: z.string().min(1).max(256),
  t: z.string().min(1).max(256).optional(),
  a: z.string().min(1).max(256).optional(),
  x: z.string().max(MAX_CARRIED_TEXT).optional(),
});

export interface AskDeps {
  core: CoreDeps;
  intake: Intake;
}

export function createAskHandler(deps: AskDeps): InteractionHandler {
  return {
    prefix: ASK_PREFIX,
    async handle(interaction) {
      if (interaction.actionId === ASK_MESSAGE_ACTION) return openDialog(interaction);
      if (interaction.actionId === ASK_QUESTION && interaction.kind === 'submit') return ask(deps, interaction);
      return { kind: 'notice', text: ASK_TEXT.noMessage };
    },
  };
}

function openDialog(interaction: Interaction): InteractionAnswer {
  const { channel, message } = interaction;
  if (!channel || !message) return { kind: 'notice', text: ASK_TEXT.noMessage };
  // Measured as it will travel (JSON inside JSON): quotes and line breaks grow when escaped twice.
  const carried = JSON.stringify(JSON.stringify(message.text)).length <= MAX_CARRIED_TEXT ? { x: message.text } : {};
  const value = JSON.stringify({ c: channel, m: message.id, ...(message.threadId ? { t: message.threadId } : {}), ...(message.authorId ? { a: message.authorId } : {}), ...carried });
  const preview = message.text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return {
    kind: 'dialog',
    dialog: {
      actionId: ASK_QUESTION,
      title: 'Ask Quorum',
      submitLabel: 'Ask',
      intro: `About: “${preview}${message.text.length > 200 ? '…' : ''}”. The answer is private to you.`,
      fields: [{ name: 'question', label: 'Your question', kind: 'multiline', optional: false, maxLength: MAX_QUESTION }],
      value,
    },
  };
}

async function ask(deps: AskDeps, interaction: Interaction): Promise<InteractionAnswer> {
  const question = (interaction.fields.question ?? '').trim();
  if (!question) return { kind: 'invalid', errors: { question: ASK_TEXT.empty } };
  if (question.length > MAX_QUESTION) return { kind: 'invalid', errors: { question: `At most ${MAX_QUESTION} characters, please.` } };
  let about: z.infer<typeof aboutValueSchema>;
  try {
    about = aboutValueSchema.parse(JSON.parse(interaction.value));
  } catch {
    return { kind: 'notice', text: ASK_TEXT.noMessage };
  }
  const place = await portsFor(deps.core, interaction.workspace.platform).privateChannel?.(interaction.workspace, interaction.user.id);
  if (!place) return { kind: 'notice', text: ASK_TEXT.noPrivatePlace };
  const envelope: EnvelopeInput = {
    kind: 'direct',
    idempotencyKey: `ask:${interaction.idempotencyKey}`.slice(0, 256),
    workspace: interaction.workspace,
    user: interaction.user,
    channel: place.channel,
    messageId: interaction.idempotencyKey,
    text: question,
    receivedAt: interaction.receivedAt,
    replyRoute: place.replyRoute,
    about: { channel: about.c, messageId: about.m, ...(about.t ? { threadId: about.t } : {}), ...(about.a ? { authorId: about.a } : {}), ...(about.x !== undefined ? { text: about.x } : {}) },
  };
  const result = await deps.intake.submit(envelope);
  if (result.status === 'invalid') throw new Error(`the question could not be queued: ${result.problems.join(', ').slice(0, 200)}`);
  return { kind: 'none' };
}
