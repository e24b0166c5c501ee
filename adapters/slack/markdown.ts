/**
 * Markdown as Slack gets it: neutralized (src/core/outgoing-text.ts), never empty, and posted as
 * a `markdown` block, which Slack renders itself, tables included (`markdown_text` shows a table
 * as raw pipes), so nothing is converted to mrkdwn by hand.
 */
import type { ReplyAction } from '../../src/core/interactions.js';
import { isBlank, neutralizeText } from '../../src/core/outgoing-text.js';

/** A markdown block holds at most 12,000 characters. */
export const MAX_MARKDOWN_BLOCK_CHARS = 12_000;

/** Slack refuses a message without text (`no_text`): a reply that is empty once neutralized says so instead. */
export const EMPTY_TEXT = '_(no text)_';

/** The text as Slack will get it: neutralized, never empty. Markdown stays Markdown. */
export function outgoing(text: string): string {
  const safe = neutralizeText(text);
  return isBlank(safe) ? EMPTY_TEXT : safe;
}

/**
 * A message's content: the Markdown in a `markdown` block, and the same text as `text`, which
 * Slack uses for notifications and screen readers (and reads mentions from: it is neutralized too).
 */
export function markdownMessage(text: string): { text: string; blocks: [{ type: 'markdown'; text: string }] } {
  const safe = outgoing(text);
  return { text: safe, blocks: [{ type: 'markdown', text: safe }] };
}

/** Whether the text holds a Markdown table (a row, then a `---` separator row). */
export function hasTable(markdown: string): boolean {
  return /^[^\n]*\|[^\n]*\n\s*\|?\s*:?-{3,}:?\s*\|/m.test(markdown);
}

/** A Block Kit button (plain-text label; the value travels back in the click). */
interface SlackButton {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string; emoji: true };
  value: string;
  style?: 'primary' | 'danger';
  /** A link button: Slack opens it in the browser (and still reports the click). */
  url?: string;
}

/** The core's ReplyActions as one Block Kit `actions` block (Slack: at most 25 elements). */
export function actionsBlock(actions: readonly ReplyAction[]): { type: 'actions'; elements: SlackButton[] } {
  return {
    type: 'actions',
    elements: actions.slice(0, 25).map((a) => ({
      type: 'button',
      action_id: a.actionId,
      text: { type: 'plain_text', text: a.label, emoji: true },
      value: a.value,
      ...(a.style ? { style: a.style } : {}),
      ...(a.url ? { url: a.url } : {}),
    })),
  };
}

/** markdownMessage with the actions under the text (none: the same as markdownMessage). */
export function messageWithActions(text: string, actions: readonly ReplyAction[] | undefined): { text: string; blocks: object[] } {
  const content = markdownMessage(text);
  return actions?.length ? { text: content.text, blocks: [...content.blocks, actionsBlock(actions)] } : content;
}
