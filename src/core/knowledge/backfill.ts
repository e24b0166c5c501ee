/**
 * The backfill runner: indexes a channel's history in the background after the bot joins it.
 * It claims one due channel at a time from the database (any instance may; a lease keeps it to
 * one), reads up to `pagesPerClaim` pages from where the stored cursor stands, stores each page
 * and its cursor before asking for the next, then gives the channel back so other channels get
 * their turn. A restart resumes at the stored cursor; pages are re-stored idempotently. The
 * platform's rate limits are the adapter's to honour (KnowledgeSource paces and waits Retry-After).
 */
import type { Platform } from '../envelope.js';
import type { BackfillClaim, KnowledgePlace, KnowledgeSource, KnowledgeStore, Logger, SourceMessage } from '../ports.js';
import type { Scope } from '../identity.js';

export interface BackfillDeps {
  store: KnowledgeStore;
  sources: Partial<Record<Platform, KnowledgeSource>>;
  index(scope: Scope, workspace: BackfillClaim['workspace'], place: KnowledgePlace, message: SourceMessage): Promise<number>;
  log: Logger;
  workerId: string;
  leaseMs: number;
  pagesPerClaim: number;
  /** Pages of one thread's replies read at most (a thread longer than that keeps its start). */
  maxReplyPages?: number;
  /** How long an idle runner waits before it looks for due channels again. */
  idleMs?: number;
  /** A failing channel is retried after this (doubling), and given up after MAX_ATTEMPTS. */
  retryMs?: number;
  /** Runs after each pass (embedding what was stored); its failure is logged, never fatal. */
  afterPass?(): Promise<void>;
}

export interface BackfillRunner {
  wake(): void;
  stop(): Promise<void>;
}

const MAX_ATTEMPTS = 6;

async function readThread(deps: BackfillDeps, stopped: () => boolean, claim: BackfillClaim, source: KnowledgeSource, place: KnowledgePlace, root: SourceMessage): Promise<number> {
  let cursor: string | null = null;
  let stored = 0;
  for (let page = 0; page < (deps.maxReplyPages ?? 10) && !stopped(); page++) {
    const res = await source.repliesPage(claim.workspace, claim.channel, root.id, cursor);
    for (const m of res.messages) if (m.id !== root.id && !stopped()) stored += await deps.index(claim.scope, claim.workspace, place, m);
    cursor = res.next;
    if (!cursor) break;
  }
  return stored;
}

/** Reads and stores this claim's pages, each with its cursor; gives the channel back when its turn is over. */
async function work(deps: BackfillDeps, stopped: () => boolean, claim: BackfillClaim): Promise<void> {
const { store, log } = deps;
  const source = deps.sources[claim.workspace.platform];
  if (!source) {
    await store.releaseBackfill(claim, deps.workerId, { error: `no history source for ${claim.workspace.platform}`, retryInMs: 0, giveUp: true });
    return;
  }
  const place: KnowledgePlace = { channel: claim.channel, dmOwnerUserId: null };
  let cursor = claim.cursor;
  for (let page = 0; page < deps.pagesPerClaim; page++) {
    const res = await source.historyPage(claim.workspace, claim.channel, cursor);
    if (stopped()) return;
    let messages = 0;
    for (const m of res.messages) {
      if (stopped()) return;
      await deps.index(claim.scope, claim.workspace, place, m);
      messages += 1;
      if (m.hasReplies) messages += await readThread(deps, stopped, claim, source, place, m);
    }
    if (stopped()) return;
    const held = await store.advanceBackfill(claim, deps.workerId, { cursor: res.next, messages, leaseMs: deps.leaseMs });
    if (!held || res.next === null) {
      if (res.next === null) log.info({ event: 'knowledge.backfill_done', channel: claim.channel.id, pages: claim.pages + page + 1 }, 'channel history indexed');
      return;
    }
    cursor = res.next;
  }
  // Its turn is over: other channels (and workspaces) go next; it is due again at once.
  await store.releaseBackfill(claim, deps.workerId, { error: null, retryInMs: 0, giveUp: false });
}

export function startBackfill(deps: BackfillDeps): BackfillRunner {
  const { store, log } = deps;
  let stopped = false;
  let current: BackfillClaim | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let attempts = new Map<string, number>();

  async function step(): Promise<boolean> {
    const claim = await store.claimBackfill(deps.workerId, deps.leaseMs);
    if (!claim) return false;
    current = claim;
    const key = `${claim.scope.workspaceId}:${claim.channel.id}`;
    try {
      await work(deps, () => stopped, claim);
      attempts.delete(key);
    } catch (err) {
      if (stopped) return false;
      const tries = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, tries);
      const giveUp = tries >= MAX_ATTEMPTS;
      const message = (err as Error).message.slice(0, 200);
      log.warn({ event: 'knowledge.backfill_failed', channel: claim.channel.id, attempt: tries, giveUp, err: message }, 'channel backfill will be retried');
      await store.releaseBackfill(claim, deps.workerId, { error: message, retryInMs: (deps.retryMs ?? 30_000) * 2 ** (tries - 1), giveUp });
    } finally {
      current = null;
    }
    return true;
  }

  const loop = () => {
    clearTimeout(timer);
    running = (async () => {
      // Bounded: one pass takes at most this many claims before it sleeps.
      for (let i = 0; i < 100 && !stopped; i++) if (!(await step())) break;
      if (!stopped) await deps.afterPass?.();
    })()
      .catch((err: unknown) => log.warn({ event: 'knowledge.backfill_error', err: (err as Error).message.slice(0, 200) }, 'backfill pass failed'))
      .finally(() => {
        if (stopped) return;
        if (attempts.size > 1_000) attempts = new Map();
        timer = setTimeout(loop, deps.idleMs ?? 5_000);
        timer.unref?.();
      });
  };
  timer = setTimeout(loop, 0);
  timer.unref?.();

  return {
    wake() {
      if (stopped) return;
      // A pass in progress picks the new channel up itself; otherwise start one now.
      void running.then(() => {
        if (!stopped && !current) loop();
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const claim = current;
      // Hand the channel back at once so another instance resumes it; a page still in flight is dropped.
      if (claim) await store.releaseBackfill(claim, deps.workerId, { error: null, retryInMs: 0, giveUp: false }).catch(() => {});
      await Promise.race([running, new Promise((r) => setTimeout(r, 1_000).unref())]);
    },
  };
}
