// How the console shows one entry (a message, Quorum's reply, its inspector). Markdown goes
// through marked and then DOMPurify: whatever a model or a user writes, no script runs.
import { Marked } from './marked.js';
import DOMPurify from './purify.js';

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// Raw HTML in a message is shown as the text it is, as chat apps do; DOMPurify stays as the last word.
const md = new Marked({ gfm: true, breaks: true, renderer: { html: ({ text }) => escapeHtml(text) } });
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/** Element helper: el('p', { class: 'x' }, 'text', child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export function markdown(text) {
  const body = el('div', { class: 'md' });
  body.innerHTML = DOMPurify.sanitize(md.parse(text, { async: false }), { FORBID_TAGS: ['style', 'form', 'input', 'button'] });
  return body;
}

/** Demo names carry the role in brackets; the page shows the role apart. */
const nameOf = (demo, id) => (demo.users.find((u) => u.id === id)?.name ?? id).replace(/\s*\(.*\)$/, '');
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function avatar(entry, demo) {
  if (entry.from === 'quorum') return el('span', { class: 'avatar quorum' }, 'Q');
  const index = demo.users.findIndex((u) => u.id === entry.user);
  const name = demo.users[index]?.name ?? entry.user;
  return el('span', { class: 'avatar', 'data-tone': String(Math.max(index, 0) % 6) }, name.charAt(0).toUpperCase());
}

function body(entry) {
  if (entry.state === 'working') {
    return el('div', { class: 'working', role: 'status' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), entry.status || 'Working on it…');
  }
  const content = markdown(entry.text);
  if (entry.state === 'streaming') {
    // The cursor sits at the end of the text, inside its last paragraph or list item.
    let end = content;
    while (end.lastElementChild && ['P', 'UL', 'OL', 'LI', 'BLOCKQUOTE'].includes(end.lastElementChild.tagName)) end = end.lastElementChild;
    end.append(el('span', { class: 'cursor', 'aria-hidden': 'true' }));
  }
  return content;
}

/**
 * One entry as an <article>. `view` holds the demo, the viewer, and which inspectors are open
 * (kept across re-renders while an answer streams).
 */
export function entryNode(entry, view) {
  const demo = view.demo;
  const author = entry.from === 'quorum' ? 'Quorum' : nameOf(demo, entry.user);
  const mine = entry.user === view.user;
  const badges = [
    entry.from === 'quorum' ? el('span', { class: 'badge app' }, 'APP') : null,
    entry.kind === 'notice' && entry.key.startsWith(demo.notifyPrefix) ? el('span', { class: 'badge notice' }, 'Notice') : null,
    entry.private ? el('span', { class: 'badge private' }, mine ? 'Only you can see this' : 'Private') : null,
    entry.from === 'quorum' && !mine && view.place !== 'dm' ? el('span', { class: 'meta' }, `answering ${nameOf(demo, entry.user)}`) : null,
  ];
  const node = el(
    'article',
    {
      class: `entry from-${entry.from} kind-${entry.kind} state-${entry.state}${entry.private ? ' private' : ''}`,
      'data-id': entry.id,
      'data-key': entry.key,
      'data-kind': entry.kind,
      'data-state': entry.state,
      'data-from': entry.from,
    },
    avatar(entry, demo),
    el('div', { class: 'bubble' }, el('header', {}, el('strong', {}, author), ...badges, el('time', { datetime: entry.at }, time(entry.at))), body(entry)),
  );
  if (entry.actions?.length) node.querySelector('.bubble').append(actionsNode(entry));
  if (entry.context) node.querySelector('.bubble').append(inspectorToggle(entry, view));
  return node;
}

/** A reply's buttons (Confirm/Cancel…): console.js sends a click to /console/api/interactions. */
function actionsNode(entry) {
  return el(
    'div',
    { class: 'actions' },
    ...entry.actions.map((a) =>
      // A link button (a sign-in): opened in a new tab, never posted back.
      a.url
        ? el('a', { class: `action ${a.style ?? ''}`, href: a.url, target: '_blank', rel: 'noopener noreferrer' }, a.label)
        : el('button', { type: 'button', class: `action ${a.style ?? ''}`, 'data-entry': entry.id, 'data-action-id': a.actionId, 'data-value': a.value ?? '' }, a.label),
    ),
  );
}

const RULES = { audience: 'Audience rule', membership: 'Membership', tool_rule: 'Tool rule', role: 'Role', access: 'Access', failed: 'Failed' };

function what(item) {
  switch (item.source) {
    case 'instructions':
      return 'Quorum’s instructions';
    case 'request':
      return 'Your message';
    case 'message':
      if (item.label === 'user') return 'Earlier message';
      if (item.label === 'assistant') return 'Quorum’s earlier answer';
      return item.label.charAt(0).toUpperCase() + item.label.slice(1);
    case 'note':
      return `Personal notes (${item.label})`;
    default:
      return `Tool result: ${item.label}`;
  }
}

function contextItem(item) {
  return el(
    'li',
    { class: `ctx ${item.given ? 'given' : 'left'}`, 'data-source': item.source, 'data-rule': item.rule },
    el('span', { class: 'mark', 'aria-hidden': 'true' }, item.given ? '✓' : '✕'),
    el(
      'div',
      {},
      el('div', { class: 'ctx-head' }, el('strong', {}, what(item)), item.at ? el('time', {}, time(item.at)) : null, item.rule ? el('span', { class: `rule rule-${item.rule}` }, RULES[item.rule] ?? item.rule) : null),
      item.text ? el('blockquote', {}, item.text) : null,
      item.reason ? el('p', { class: 'reason' }, item.reason) : null,
    ),
  );
}

function audienceLine(report, demo) {
  if (report.audience.kind === 'dm')
    return 'Only you read this answer (your DM): your own conversation with Quorum, your personal notes and channels you are a member of may be used.';
  const channel = demo.channels.find((c) => c.id === report.audience.channelExternalId);
  const name = channel ? channel.name : `#${report.audience.channelExternalId}`;
  const count = channel ? `${channel.members.length} members` : 'its members';
  return `Everyone in ${name} (${count}) reads this answer, so only what all of them may see is used: never your DMs or personal notes.`;
}

function inspector(report, demo) {
  const given = report.entries.filter((e) => e.given);
  const left = report.entries.filter((e) => !e.given);
  const gotNothing = report.outcome === 'denied';
  return el(
    'section',
    { class: 'inspector', 'aria-label': 'Why did it see this?' },
    gotNothing
      ? el('p', { class: 'verdict' }, 'Nothing reached the model: the request was refused before any context was read.')
      : el('p', { class: 'audience' }, audienceLine(report, demo)),
    given.length ? el('h4', {}, `Given to the model (${given.length})`) : null,
    given.length ? el('ul', { class: 'ctx-list' }, given.map(contextItem)) : null,
    el('h4', {}, `Left out (${left.length})`),
    left.length ? el('ul', { class: 'ctx-list' }, left.map(contextItem)) : el('p', { class: 'none' }, 'Nothing that was read was left out.'),
    gotNothing ? null : el('p', { class: 'limit' }, `At most the latest ${report.historyLimit} messages of this conversation are read; older ones never reach the model.`),
  );
}

function inspectorToggle(entry, view) {
  const open = view.openInspectors.has(entry.id);
  const wrap = el('div', { class: 'inspect' });
  const panel = inspector(entry.context, view.demo);
  panel.hidden = !open;
  const button = el(
    'button',
    {
      type: 'button',
      class: 'inspect-toggle',
      'aria-expanded': String(open),
      onclick: () => {
        const now = panel.hidden;
        panel.hidden = !now;
        button.setAttribute('aria-expanded', String(now));
        if (now) view.openInspectors.add(entry.id);
        else view.openInspectors.delete(entry.id);
      },
    },
    el('span', { class: 'eye', 'aria-hidden': 'true' }, '◎'),
    'Why did it see this?',
  );
  wrap.append(button, panel);
  return wrap;
}
