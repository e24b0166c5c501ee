/** Text a hostile model writes to ping everyone and disguise links, and a detector for what must never reach a platform. */

/** What must never reach a platform: a mass mention, a group mention, an `<at>` tag or a link that lies about its address. */
export function harmful(text: string): string[] {
  const found: string[] = [];
  if (/<!(channel|here|everyone|subteam)/i.test(text)) found.push('slack special mention');
  if (/@(channel|here|everyone|all|team)\b/i.test(text)) found.push('@-mention word');
  if (/<\/?at\b/i.test(text)) found.push('teams <at>');
  if (/\[[^\]\n]*good\.example\.com[^\]\n]*\]\(\s*<?https?:\/\/evil/i.test(text)) found.push('disguised markdown link');
  if (/<https?:\/\/evil[^|>\n]*\|[^>\n]*good\.example\.com/i.test(text)) found.push('disguised slack link');
  if (/<a\s[^>]*href=["']?https?:\/\/evil[^>]*>[^<]*good\.example\.com/i.test(text)) found.push('disguised html link');
  return found;
}

export const HOSTILE =
  'Heads up <!channel> and <!here> and <!everyone>; ping <!subteam^S0ACME|@engineering> and <!subteam^S0OPS> and @here and @channel. ' +
  'Log in at [https://good.example.com/login](https://evil.example.net/phish) or <https://evil.example.net/x|https://good.example.com> ' +
  'or <a href="https://evil.example.net/a">good.example.com</a> or [good.example.com](https://evil.example.net/b). Hi <at>Bo</at>!';
