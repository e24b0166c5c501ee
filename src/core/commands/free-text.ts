/** Commands whose argument is free text (`/agent instructions …`): the rest of the line, case and spacing kept. */

/** The text after `/agent WORD`, trimmed. */
export function restAfterWord(text: string): string {
  return text.trim().replace(/^\/agent(?=\s|$)/i, '').trim().replace(/^\S+/, '').trim();
}

// A channel as Slack (`<#C123|name>`, `<#C123>`) or Teams and the console (`#id`) write it.
const CHANNEL = /^(?:<#([^\s|<>]+)(?:\|[^<>]*)?>|#([^\s|<>@#]+))(?=\s|$)/;
/** Well past any cap a command applies, so that the cap's own message can name the length. */
const MAX_TEXT = 100_000;

function channelAt(rest: string): { channel: string; after: string } | null {
  const m = CHANNEL.exec(rest);
  const id = m?.[1] ?? m?.[2];
  return m && id && id.length <= 256 ? { channel: id, after: rest.slice(m[0].length).trim() } : null;
}

/**
 * `/agent instructions` arguments: nothing (show), `clear [#channel]`, or `[#channel] TEXT`;
 * undefined for anything else (a channel without text).
 */
export function instructionsArgs(rest: string): { channel: string | null; text: string | null } | null | undefined {
  if (rest === '') return null;
  const clear = /^clear(?=\s|$)/i.exec(rest);
  if (clear) {
    const after = rest.slice(clear[0].length).trim();
    if (after === '') return { channel: null, text: null };
    const named = channelAt(after);
    // `clear` followed by other words is instructions that begin with "clear".
    if (named && named.after === '') return { channel: named.channel, text: null };
  }
  const named = channelAt(rest);
  if (named) return named.after === '' || named.after.length > MAX_TEXT ? undefined : { channel: named.channel, text: named.after };
  return rest.length > MAX_TEXT ? undefined : { channel: null, text: rest };
}
