/**
 * Everything the console shows, kept in memory (bounded): the demo users' messages and Quorum's
 * replies as they are worked on, streamed and finished, and who may see each. A view is one user
 * in one place: a DM shows only that user's own; a channel shows what its members see plus the
 * viewer's own private replies. What a turn gave the model (its context report) goes to its
 * requester only.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ContextReport } from '../../src/core/context-report.js';
import type { ReplyAction } from '../../src/core/interactions.js';

export interface Entry {
  id: string;
  /** Grows with every change, so a client can tell newer from older. */
  seq: number;
  /** The delivery's idempotency key: a user's message and Quorum's reply to it share it. */
  key: string;
  from: 'user' | 'quorum';
  /** Who wrote the message, or whom Quorum answers. */
  user: string;
  /** The platform channel id: a channel's id, or the user's DM channel. */
  channel: string;
  threadId: string | null;
  /** Only `user` sees it (a private reply, or a message in a channel they are not in). */
  private: boolean;
  kind: 'message' | 'answer' | 'error' | 'notice';
  /** Quorum's replies: working (status shown), streaming (text growing), done. */
  state: 'working' | 'streaming' | 'done';
  status: string | null;
  text: string;
  at: string;
  context: ContextReport | null;
  /** Buttons under a reply (Confirm/Cancel…): a click goes to POST /console/api/interactions. */
  actions: ReplyAction[] | null;
}

/** One place as a viewer asks for it: 'dm' is the viewer's own DM. */
export interface View {
  user: string;
  place: string;
}

const MAX_ENTRIES = 2_000;
/** Open event streams (browser tabs); the oldest is closed beyond this. */
const MAX_LISTENERS = 32;
/** Text shown in the inspector per given item: enough to recognize it. */
const EXCERPT_CHARS = 300;

export function createTranscript(options: { dmChannelOf: (user: string) => string; isMember: (channel: string, user: string) => boolean }) {
  const entries: Entry[] = [];
  const listeners = new Set<{ view: View; res: ServerResponse }>();
  let seq = 0;

  const canSee = (entry: Entry, { user, place }: View): boolean => {
    if (place === 'dm') return entry.channel === options.dmChannelOf(user);
    if (entry.channel !== place) return false;
    return entry.user === user || (!entry.private && options.isMember(place, user));
  };
  /** What one viewer receives: the context report is its requester's alone. */
  const shown = (entry: Entry, view: View) => ({ ...entry, context: entry.user === view.user ? excerpted(entry.context) : null });
  const send = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  function changed(entry: Entry, removed = false): void {
    entry.seq = ++seq;
    for (const l of listeners) {
      if (canSee(entry, l.view)) send(l.res, removed ? 'removed' : 'entry', removed ? { id: entry.id } : shown(entry, l.view));
      // A reply that became private leaves the views that showed it.
      else if (entry.channel === l.view.place) send(l.res, 'removed', { id: entry.id });
    }
  }

  function add(fields: Omit<Entry, 'id' | 'seq' | 'at' | 'context' | 'status' | 'actions'> & Partial<Pick<Entry, 'status' | 'context' | 'actions'>>): Entry {
    const entry: Entry = { id: randomUUID(), seq: 0, at: new Date().toISOString(), status: null, context: null, actions: null, ...fields };
    entries.push(entry);
    if (entries.length > MAX_ENTRIES) entries.shift();
    changed(entry);
    return entry;
  }

  return {
    add,
    /** Apply a change to an entry and tell the views that show it. */
    update(entry: Entry, change: Partial<Omit<Entry, 'id' | 'seq'>>): void {
      Object.assign(entry, change);
      changed(entry);
    },
    remove(entry: Entry): void {
      const at = entries.indexOf(entry);
      if (at >= 0) entries.splice(at, 1);
      changed(entry, true);
    },
    /** Quorum's latest reply to a delivery, if any (newest first: a re-run replaces it). */
    replyTo(key: string): Entry | undefined {
      for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.from === 'quorum' && entries[i]!.key === key) return entries[i];
      return undefined;
    },
    all: (): readonly Entry[] => entries,
    /** An entry by id, only if this viewer sees it (a click on anything else is refused). */
    seenBy: (id: string, view: View): Entry | undefined => entries.find((e) => e.id === id && canSee(e, view)),
    view: (view: View) => entries.filter((e) => canSee(e, view)).map((e) => shown(e, view)),
    /** Server-sent events: the view as it is now, then every change to what it shows. */
    subscribe(view: View, res: ServerResponse): void {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      send(res, 'snapshot', { entries: entries.filter((e) => canSee(e, view)).map((e) => shown(e, view)) });
      const listener = { view, res };
      listeners.add(listener);
      res.on('close', () => listeners.delete(listener));
      if (listeners.size > MAX_LISTENERS) {
        const oldest = listeners.values().next().value!;
        listeners.delete(oldest);
        oldest.res.end();
      }
    },
  };
}

export type Transcript = ReturnType<typeof createTranscript>;

function excerpted(report: ContextReport | null): ContextReport | null {
  if (!report) return null;
  const cut = (text: string) => (text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text);
  return { ...report, entries: report.entries.map((e) => (e.text === undefined ? e : { ...e, text: cut(e.text) })) };
}
