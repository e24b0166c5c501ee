/**
 * The core's buttons and dialogs as Adaptive Cards. A button is an Action.Submit whose data
 * carries `{ quorumAction, value }` and asks Teams for a task module (`msteams.type: task/fetch`),
 * so that a click arrives as an invoke Quorum answers in the same request (a dialog opens, or a
 * short message shows) wherever the card is, channels included. A dialog is a card in a task
 * module whose Action.Submit brings its inputs back with the same two keys.
 */
import type { Dialog, ReplyAction } from '../../src/core/interactions.js';

export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
const SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';

/** The keys Quorum puts in a card action's data; everything else in a submission is a form field. */
export const ACTION_KEY = 'quorumAction';
export const VALUE_KEY = 'value';

export interface Attachment {
  contentType: string;
  content: Record<string, unknown>;
}

function card(body: object[], actions: object[]): Record<string, unknown> {
  return { type: 'AdaptiveCard', $schema: SCHEMA, version: '1.5', body, actions };
}

/** Buttons under a message: a card with no body of its own (the text stays the message's text). */
export function actionsAttachment(actions: readonly ReplyAction[]): Attachment {
  return {
    contentType: ADAPTIVE_CARD,
    content: card(
      [],
      // A link opens in the browser (Action.OpenUrl) and comes back to nothing.
      actions.map((a) =>
        a.url
          ? { type: 'Action.OpenUrl', title: a.label, url: a.url }
          : {
              type: 'Action.Submit',
              title: a.label,
              ...(a.style === 'danger' ? { style: 'destructive' } : a.style === 'primary' ? { style: 'positive' } : {}),
              data: { msteams: { type: 'task/fetch' }, [ACTION_KEY]: a.actionId, [VALUE_KEY]: a.value },
            },
      ),
    ),
  };
}

/** A text and its buttons as one card (an Action.Execute refresh replaces the whole card). */
export function textCard(text: string, actions: readonly ReplyAction[] = []): Record<string, unknown> {
  const buttons = actionsAttachment(actions).content.actions as object[];
  return card([{ type: 'TextBlock', text, wrap: true }], buttons);
}

/** A dialog as a task module card. */
export function dialogCard(dialog: Dialog): Record<string, unknown> {
  const inputs = dialog.fields.map((f) =>
    f.kind === 'select'
      ? {
          type: 'Input.ChoiceSet',
          id: f.name,
          label: f.label,
          isRequired: !f.optional,
          choices: (f.options ?? []).map((o) => ({ title: o.label, value: o.value })),
          ...(f.initial ? { value: f.initial } : {}),
        }
      : {
          type: 'Input.Text',
          id: f.name,
          label: f.label,
          isRequired: !f.optional,
          isMultiline: f.kind === 'multiline',
          ...(f.maxLength ? { maxLength: f.maxLength } : {}),
          ...(f.initial ? { value: f.initial } : {}),
        },
  );
  return card(
    [...(dialog.intro ? [{ type: 'TextBlock', text: dialog.intro, wrap: true }] : []), ...inputs],
    [{ type: 'Action.Submit', title: dialog.submitLabel, data: { [ACTION_KEY]: dialog.actionId, [VALUE_KEY]: dialog.value } }],
  );
}

/** The task module answer that opens a dialog. */
export function taskContinue(dialog: Dialog): Record<string, unknown> {
  return { task: { type: 'continue', value: { title: dialog.title, card: { contentType: ADAPTIVE_CARD, content: dialogCard(dialog) } } } };
}

/** The task module answer that shows a short message (and closes the form). */
export function taskMessage(text: string): Record<string, unknown> {
  return { task: { type: 'message', value: text } };
}
