// The console page: one view per user and place, followed live from the server
// (/console/api/events), and a composer that sends to /console/api/messages.
import { el, entryNode } from './render.js';

const demo = JSON.parse(document.getElementById('demo-data').textContent);
const $ = (id) => document.getElementById(id);
const log = $('log');
const text = $('text');

const [hashUser, hashPlace] = decodeURIComponent(location.hash.slice(1)).split('/');
const state = {
  user: demo.users.some((u) => u.id === hashUser) ? hashUser : demo.users[0].id,
  place: hashPlace === 'dm' || demo.channels.some((c) => c.id === hashPlace) ? hashPlace : 'dm',
  /** The thread the composer replies in (channels only). */
  thread: null,
  source: null,
  /** Changes on every switch, so that answers to an earlier view's requests are not shown in this one. */
  generation: 0,
};
/** What the renderer needs, per view. */
let view = null;
const entries = new Map();

const isMember = (place, user) => place === 'dm' || (demo.channels.find((c) => c.id === place)?.members.includes(user) ?? false);
const userName = (id) => demo.users.find((u) => u.id === id)?.name ?? id;

function renderChrome() {
  for (const b of document.querySelectorAll('[data-user]')) b.setAttribute('aria-pressed', String(b.dataset.user === state.user));
  for (const b of document.querySelectorAll('[data-place]')) {
    b.setAttribute('aria-pressed', String(b.dataset.place === state.place));
    const lock = b.querySelector('.lock');
    if (lock) lock.hidden = isMember(b.dataset.place, state.user);
  }
  const channel = demo.channels.find((c) => c.id === state.place);
  $('place-title').textContent = channel ? channel.name : `Direct message · ${userName(state.user).replace(/\s*\(.*\)$/, '')}`;
  const audience = $('place-audience');
  audience.className = '';
  if (!channel) audience.textContent = 'Private: only you and Quorum. Its answers may use your own notes and the channels you are in.';
  else if (!isMember(channel.id, state.user)) {
    audience.className = 'warn';
    audience.textContent = `${userName(state.user)} is not a member of ${channel.name}: Quorum will not answer here, and nobody else sees what is written.`;
  } else audience.textContent = `${channel.members.length} members (${channel.members.map(userName).join(', ')}): everyone here reads Quorum’s answers.`;
  text.placeholder = channel ? `Message ${channel.name}` : 'Message Quorum';
  renderThreadBanner();
}

function renderThreadBanner() {
  const banner = $('thread-banner');
  banner.hidden = !state.thread;
  if (state.thread) $('thread-root').textContent = state.thread.root.length > 80 ? `${state.thread.root.slice(0, 80)}…` : state.thread.root;
}

function emptyNote() {
  if (entries.size > 0) return;
  const hint = state.place === 'dm' ? 'Ask Quorum anything, or try /agent status.' : 'Everything written here is addressed to Quorum, as a mention would be.';
  log.replaceChildren(el('p', { class: 'empty' }, 'No messages here yet. ', hint));
}

/** The box a channel thread's messages go in; a DM has no threads. */
function containerFor(entry) {
  if (state.place === 'dm' || !entry.threadId) return log;
  let thread = log.querySelector(`section.thread[data-thread="${CSS.escape(entry.threadId)}"]`);
  if (!thread) {
    const reply = el('button', { type: 'button', class: 'reply-thread', onclick: () => replyIn(entry.threadId) }, '↳ Reply in thread');
    thread = el('section', { class: 'thread', 'data-thread': entry.threadId }, el('div', { class: 'thread-body' }), reply);
    log.append(thread);
  }
  return thread.querySelector('.thread-body');
}

function replyIn(threadId) {
  const root = [...entries.values()].find((e) => e.threadId === threadId && e.from === 'user');
  state.thread = { id: threadId, root: root?.text ?? 'this thread' };
  renderThreadBanner();
  text.focus();
}

function upsert(entry) {
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  if (entries.size === 0) log.replaceChildren();
  entries.set(entry.id, entry);
  const node = entryNode(entry, view);
  const old = log.querySelector(`article[data-id="${CSS.escape(entry.id)}"]`);
  if (old) old.replaceWith(node);
  else containerFor(entry).append(node);
  if (nearBottom || entry.user === state.user) log.scrollTop = log.scrollHeight;
}

function removeEntry(id) {
  entries.delete(id);
  const node = log.querySelector(`article[data-id="${CSS.escape(id)}"]`);
  const thread = node?.closest('section.thread');
  node?.remove();
  if (thread && !thread.querySelector('article')) thread.remove();
  emptyNote();
}

function localError(message) {
  if (entries.size === 0) log.replaceChildren();
  const entry = { id: `local-${Date.now()}`, key: '', from: 'quorum', user: state.user, kind: 'error', state: 'done', private: true, text: message, at: new Date().toISOString(), context: null };
  log.append(entryNode(entry, view));
  log.scrollTop = log.scrollHeight;
}

/** Shows only this user's view of this place: everything of the previous view goes. */
function openView() {
  state.source?.close();
  state.generation++;
  state.thread = null;
  entries.clear();
  view = { demo, user: state.user, place: state.place, openInspectors: new Set() };
  history.replaceState(null, '', `#${state.user}/${state.place}`);
  renderChrome();
  log.replaceChildren(el('p', { class: 'empty' }, 'Loading…'));
  delete log.dataset.ready;
  const connection = $('connection');
  const source = new EventSource(`/console/api/events?user=${encodeURIComponent(state.user)}&place=${encodeURIComponent(state.place)}`);
  state.source = source;
  source.addEventListener('open', () => {
    connection.dataset.state = 'live';
    connection.textContent = 'live';
  });
  source.addEventListener('error', () => {
    connection.dataset.state = 'down';
    connection.textContent = 'reconnecting…';
  });
  source.addEventListener('snapshot', (event) => {
    entries.clear();
    log.replaceChildren();
    for (const entry of JSON.parse(event.data).entries) upsert(entry);
    emptyNote();
    log.dataset.ready = 'true';
  });
  source.addEventListener('entry', (event) => upsert(JSON.parse(event.data)));
  source.addEventListener('removed', (event) => removeEntry(JSON.parse(event.data).id));
}

/** A button under a reply, or a dialog's submission: the answer shows through the event stream, a dialog here. */
async function click(body) {
  const generation = state.generation;
  try {
    const res = await fetch('/console/api/interactions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: state.user, ...body }) });
    const reply = await res.json().catch(() => ({}));
    if (generation !== state.generation) return;
    if (!res.ok) return localError(reply.error ?? `Quorum answered HTTP ${res.status}.`);
    if (reply.answer?.kind === 'dialog') openDialog(body.entryId, reply.answer.dialog);
    if (reply.answer?.kind === 'invalid') localError(Object.values(reply.answer.errors).join(' '));
  } catch (err) {
    if (generation === state.generation) localError(`Could not reach Quorum: ${err.message}`);
  }
}

/** A small form (a personal token, a secret): submitted as a `submit` interaction, never as a message. */
function openDialog(entryId, dialog) {
  const inputs = dialog.fields.map((f) => el('input', { name: f.name, type: 'password', autocomplete: 'off', 'aria-label': f.label }));
  const form = el(
    'form',
    { method: 'dialog', class: 'dialog' },
    el('h2', {}, dialog.title),
    dialog.intro ? el('p', {}, dialog.intro) : null,
    ...dialog.fields.map((f, i) => el('label', {}, f.label, inputs[i])),
    el('button', { type: 'submit' }, dialog.submitLabel ?? 'Submit'),
  );
  const box = el('dialog', {}, form);
  document.body.append(box);
  form.addEventListener('submit', () => {
    const fields = Object.fromEntries(dialog.fields.map((f, i) => [f.name, inputs[i].value]));
    box.remove();
    void click({ entryId, kind: 'submit', actionId: dialog.actionId, value: dialog.value ?? '', fields });
  });
  box.showModal();
}

log.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action-id]');
  if (!button) return;
  button.disabled = true;
  void click({ entryId: button.dataset.entry, actionId: button.dataset.actionId, value: button.dataset.value });
});

async function send() {
  const message = text.value.trim();
  if (!message) return;
  const generation = state.generation;
  const body = { user: state.user, channel: state.place, text: message, wait: false };
  if (state.thread && state.place !== 'dm') body.threadId = state.thread.id;
  text.value = '';
  autosize();
  try {
    const res = await fetch('/console/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await res.json().catch(() => ({}));
    if (generation !== state.generation) return;
    if (!res.ok) {
      localError(answer.error ?? `Quorum answered HTTP ${res.status}.`);
      if (!text.value) text.value = message;
    }
  } catch (err) {
    if (generation === state.generation) localError(`Could not reach Quorum: ${err.message}`);
  }
}

function autosize() {
  text.style.height = 'auto';
  text.style.height = `${Math.min(text.scrollHeight, 220)}px`;
}

for (const b of document.querySelectorAll('[data-user]'))
  b.addEventListener('click', () => {
    if (state.user === b.dataset.user) return;
    state.user = b.dataset.user;
    openView();
  });
for (const b of document.querySelectorAll('[data-place]'))
  b.addEventListener('click', () => {
    if (state.place === b.dataset.place) return;
    state.place = b.dataset.place;
    openView();
  });
$('thread-close').addEventListener('click', () => {
  state.thread = null;
  renderThreadBanner();
});
$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
text.addEventListener('input', autosize);
// Enter sends; Shift+Enter (and Enter while an input method composes) is a new line.
text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});

openView();
text.focus();
