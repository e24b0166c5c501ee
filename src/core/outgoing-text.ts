/**
 * The one step every text Quorum sends passes through, on every platform and path (answers,
 * updates, streams, a long answer's parts, notices): what a model (or anything it quotes) wrote
 * can neither ping many people nor disguise where a link goes.
 *
 * - Mass mentions: Slack `<!channel>`, `<!here>`, `<!everyone>`, user groups `<!subteam^ID|@name>`
 *   become plain words; `@channel`, `@here`, `@everyone`, `@all`, `@team` get an invisible word
 *   joiner after the `@` so no platform reads them as a mention; Teams `<at>` tags become an
 *   invisible joiner (the name stays).
 * - Disguised links: a link whose text names another address than it goes to (Slack
 *   `<https://a|https://b>`, Markdown `[https://b](https://a)`, an HTML anchor) becomes its real
 *   address. Links whose text is words, or the same address, stay.
 *
 * Every rule matches within one line, so text cut where `stableLength` says can be neutralized a
 * piece at a time (streams) with the same result as all at once.
 */

const WORD_JOINER = '\u2060';
// No word boundary after the word: whether one follows may not be known yet in a stream (an
// invisible joiner in `@heresy` harms nobody).
const MASS_WORDS = /@(?=channel|here|everyone|all|team)/gi;
const SLACK_SPECIAL = /<!(channel|here|everyone|subteam\^[^>|\n]*)(?:\|([^>\n]*))?>/gi;
const TEAMS_AT = /<\/?at(?:\s[^>\n]*)?>/gi;
const SLACK_LINK = /<((?:https?|mailto):[^|>\s]+)\|([^>\n]*)>/gi;
const MARKDOWN_LINK = /!?\[([^\]\n]*)\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"\n]*")?\s*\)/g;
const HTML_LINK = /<a\s[^>\n]*?href\s*=\s*["']?([^"'\s>]+)["']?[^>\n]*>([^<\n]*)<\/a>/gi;
/** Something in a link's text that reads as an address: a URL, or a bare domain name. */
const ADDRESS_IN_TEXT = /(?:[a-z][a-z0-9+.-]*:\/\/[^\s<>()]+|(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:\/[^\s<>()]*)?)/gi;

function hostOf(address: string): string | null {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:/i.test(address) ? address : `https://${address}`);
    return (url.hostname || url.href).toLowerCase().replace(/^www\./, '');
  } catch {
    return null;
  }
}

/** Whether a link's visible text names an address other than the one it goes to. */
export function namesAnotherAddress(text: string, href: string): boolean {
  const target = hostOf(href);
  for (const found of text.match(ADDRESS_IN_TEXT) ?? []) {
    const named = hostOf(found.replace(/[.,;:!?]+$/, ''));
    if (named !== null && named !== target) return true;
  }
  return false;
}

/** The text with mass mentions and disguised links made harmless (see the file comment). Idempotent. */
export function neutralizeText(text: string): string {
  return text
    .replace(SLACK_LINK, (whole, href: string, label: string) => (namesAnotherAddress(label, href) ? href : whole))
    .replace(MARKDOWN_LINK, (whole, label: string, href: string) => (namesAnotherAddress(label, href) ? href : whole))
    .replace(HTML_LINK, (whole, href: string, label: string) => (namesAnotherAddress(label, href) ? href : whole))
    .replace(SLACK_SPECIAL, (_whole, what: string, label: string | undefined) =>
      label ? label : what.toLowerCase().startsWith('subteam') ? '@group' : `@${what.toLowerCase()}`,
    )
    // A joiner, not nothing: removing a tag must not join `@` and `here` into a mention.
    .replace(TEAMS_AT, WORD_JOINER)
    .replace(MASS_WORDS, `@${WORD_JOINER}`);
}

/**
 * How much of a text still being written can be neutralized now: up to the start of anything on
 * its last line that more text could still turn into a mention or a link (an open `<`, a `[` whose
 * link is not complete, a trailing `@word`). The rest waits for more text, or for the end.
 */
export function stableLength(text: string): number {
  const lineStart = text.lastIndexOf('\n') + 1;
  const line = text.slice(lineStart);
  let hold = line.length;
  const open = line.lastIndexOf('<');
  if (open !== -1 && !line.includes('>', open)) hold = Math.min(hold, open);
  for (let i = line.indexOf('['); i !== -1 && i < hold; i = line.indexOf('[', i + 1)) {
    const rest = line.slice(i);
    const close = rest.indexOf(']');
    // A `]` followed by anything but `(` ends the chance of a link; `](…)` complete is a whole link.
    const undecided = close === -1 || close === rest.length - 1 || (rest[close + 1] === '(' && !rest.includes(')', close));
    if (undecided) hold = Math.min(hold, i > 0 && line[i - 1] === '!' ? i - 1 : i);
  }
  const trailing = /@\w*$/.exec(line.slice(0, hold));
  if (trailing) hold = trailing.index;
  return lineStart + hold;
}

/** Whether a neutralized text shows nothing (platforms refuse or hide an empty message). */
export function isBlank(text: string): boolean {
  return text.replaceAll(WORD_JOINER, '').trim() === '';
}
