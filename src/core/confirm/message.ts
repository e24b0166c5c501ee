/** What the conversation shows for a parked call: the tool, its exact arguments, and the two buttons. */
import type { ReplyAction } from '../interactions.js';
import type { OutgoingReply, PendingConfirmation } from '../ports.js';

/** Slack's section limit is 3,000 characters: longer arguments are cut for display (the audit log keeps their hash). */
const MAX_SHOWN = 2_500;

export const CONFIRM_YES = 'confirm:yes';
export const CONFIRM_NO = 'confirm:no';

export function argumentsText(input: unknown): string {
  const json = JSON.stringify(input ?? {}, null, 2);
  return json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN)}\n… (cut for display: ${json.length} characters in all)` : json;
}

function minutes(ms: number): string {
  const m = Math.max(1, Math.round(ms / 60_000));
  return m === 1 ? '1 minute' : `${m} minutes`;
}

export function confirmationText(c: PendingConfirmation, now = Date.now()): string {
  return [
    `<@${c.requesterUserId}>, I need your confirmation before I run **${c.tool}** with these arguments:`,
    '```',
    argumentsText(c.input),
    '```',
    `Only <@${c.requesterUserId}> can confirm it. It expires in ${minutes(c.expiresAt.getTime() - now)}.`,
  ].join('\n');
}

export function confirmationActions(c: PendingConfirmation): ReplyAction[] {
  return [
    { actionId: CONFIRM_YES, label: 'Confirm', value: c.id, style: 'primary' },
    { actionId: CONFIRM_NO, label: 'Cancel', value: c.id, style: 'danger' },
  ];
}

export function confirmationReply(c: PendingConfirmation): OutgoingReply {
  return { kind: 'notice', text: confirmationText(c), actions: confirmationActions(c) };
}

/** The message once decided: the buttons go, the arguments stay so everyone sees what was decided. */
export function decidedText(c: PendingConfirmation, how: 'confirmed' | 'cancelled' | 'expired'): string {
  const what = `**${c.tool}** with:\n\`\`\`\n${argumentsText(c.input)}\n\`\`\``;
  if (how === 'confirmed') return `Confirmed by <@${c.decidedByUserId ?? c.requesterUserId}>: running ${what}`;
  if (how === 'cancelled') return `Cancelled by <@${c.decidedByUserId ?? c.requesterUserId}>: not run ${what}`;
  return `Expired: nobody confirmed it in time, so nothing was run and clicking it now changes nothing. ${what}\n${ASK_AGAIN}`;
}

const ASK_AGAIN = 'If you still want it, ask again: a new confirmation is posted, to be confirmed before it expires.';

/** A click naming no confirmation kept here (they are deleted a day after they expire). */
export const GONE_TEXT = `That confirmation is no longer kept (confirmations are removed a day after they expire), so nothing was run and this click changed nothing. ${ASK_AGAIN}`;
