/** The console page's shell: pick a demo user and a place, talk, see the answer and why the model saw what it saw. */
import type { Demo } from './demo.js';

/** Idempotency keys of direct messages from Quorum (budget alerts), not answers: shown in that user's DM only. */
export const NOTIFY_KEY_PREFIX = 'notify:';

/** Scripts and styles from this server only: nothing inline, nothing from elsewhere. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const LOCK =
  '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true"><path fill="currentColor" d="M5 7V5a3 3 0 0 1 6 0v2h.5A1.5 1.5 0 0 1 13 8.5v5A1.5 1.5 0 0 1 11.5 15h-7A1.5 1.5 0 0 1 3 13.5v-5A1.5 1.5 0 0 1 4.5 7H5Zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2Z"/></svg>';
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const initials = (name: string) => escape(name.trim().charAt(0).toUpperCase() || '?');

export function consolePage(demo: Demo): string {
  const users = demo.users
    .map(
      (u, i) =>
        `<button type="button" class="person" data-user="${escape(u.id)}" aria-pressed="${i === 0}">` +
        `<span class="avatar" data-tone="${i % 6}">${initials(u.name)}</span>` +
        `<span class="who">${escape(u.name.replace(/\s*\(.*\)$/, ''))}</span><span class="role">${escape(u.role)}</span></button>`,
    )
    .join('');
  const places = [
    `<button type="button" class="place" data-place="dm" aria-pressed="true"><span class="glyph">@</span>Direct message</button>`,
    ...demo.channels.map(
      (c) =>
        `<button type="button" class="place" data-place="${escape(c.id)}" aria-pressed="false"><span class="glyph">#</span>${escape(c.name.replace(/^#/, ''))}<span class="lock" title="Not a member" hidden>${LOCK}</span></button>`,
    ),
  ].join('');
  // Read by the script; `<` escaped so that no name can close the element.
  const data = JSON.stringify({
    users: demo.users,
    channels: demo.channels,
    notifyPrefix: NOTIFY_KEY_PREFIX,
  }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quorum console</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
<script type="module" src="/console/assets/console.js"></script>
</head>
<body>
<script type="application/json" id="demo-data">${data}</script>
<div class="layout">
<aside class="sidebar">
  <div class="brand"><span class="logo">Q</span><div><strong>Quorum console</strong><small>${escape(demo.workspace.name)} · local demo</small></div></div>
  <h2>Talk as</h2><div class="people" id="users">${users}</div>
  <h2>Where</h2><nav class="places" id="places">${places}</nav>
  <p class="tips">Try <code>/agent help</code>, <code>/agent status</code>, or ask in a channel and open <em>Why did it see this?</em> under the answer.</p>
</aside>
<main class="main">
  <header class="place-header"><div><h1 id="place-title">Direct message</h1><p id="place-audience"></p></div><span id="connection" class="connection" data-state="connecting">connecting…</span></header>
  <div id="log" class="log" aria-live="polite"><p class="empty">Loading…</p></div>
  <form id="composer" class="composer">
    <div id="thread-banner" class="thread-banner" hidden><span>Replying in thread</span><q id="thread-root"></q><button type="button" id="thread-close" aria-label="Leave the thread">×</button></div>
    <div class="compose-row"><textarea id="text" rows="1" placeholder="Message Quorum" aria-label="Message" required></textarea><button type="submit" id="send">Send</button></div>
    <small class="hint"><kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line · Markdown works</small>
  </form>
</main>
</div>
</body></html>`;
}
