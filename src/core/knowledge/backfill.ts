/**
 * The backfill runner: indexes a channel's history in the background after the bot joins it.
 * It claims one due channel at a time from the database (any instance may; a lease keeps it to
 * one), reads up to `pagesPerClaim` pages from where the stored cursor stands, stores each page
 * with its cursor in one transaction before asking for the next, then gives the channel back so other channels get
 * their turn. A restart resumes at the stored cursor; pages are re-stored idempotently. The
 * platform's rate limits are the adapter's to honour (KnowledgeSource paces and waits Retry-After).
 */
import { startClaimLoop } from './claim-loop.js';
import type { Platform } from '../envelope.js';
import type { BackfillClaim, KnowledgeBatch, KnowledgePlace, KnowledgeSource, KnowledgeStore, Logger, SourceMessage } from '../ports.js';

export interface BackfillDeps {
  store: KnowledgeStore;
  sources: Partial<Record<Platform, KnowledgeSource>>;
  /** What one message writes; a page's batches are stored together, with the page's cursor. */
  batchOf(workspace: BackfillClaim['workspace'], place: KnowledgePlace, message: SourceMessage): Promise<KnowledgeBatch>;
  /** Told when a stored page queued files (the file worker wakes up). */
  filesQueued?(): void;
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
}

export interface BackfillRunner {
  wake(): void;
  stop(): Promise<void>;
}

const MAX_ATTEMPTS = 6;

/** Adds one message's writes to the page's batch. */
async function add(deps: BackfillDeps, page: KnowledgeBatch, claim: BackfillClaim, place: KnowledgePlace, message: SourceMessage): Promise<void> {
  const batch = await deps.batchOf(claim.workspace, place, message);
  page.sources.push(...batch.sources);
  page.files.push(...batch.files);
}

/** A thread's replies into the page's batch; answers how many. */
async function readThread(deps: BackfillDeps, stopped: () => boolean, claim: BackfillClaim, source: KnowledgeSource, page: KnowledgeBatch, root: SourceMessage): Promise<number> {
  const place: KnowledgePlace = { channel: claim.channel, dmOwnerUserId: null };
  let cursor: string | null = null;
  let read = 0;
  for (let n = 0; n < (deps.maxReplyPages ?? 10) && !stopped(); n++) {
    const res = await source.repliesPage(claim.workspace, claim.channel, root.id, cursor);
    for (const m of res.messages)
      if (m.id !== root.id && !stopped()) {
        await add(deps, page, claim, place, m);
        read += 1;
      }
    cursor = res.next;
    if (!cursor) break;
  }
  return read;
}

/**
 * Reads and stores this claim's pages: each page (its messages, their threads' replies, their
 * files queued) in one transaction with its cursor; gives the channel back when its turn is over.
 */
async function work(deps: BackfillDeps, stopped: () => boolean, claim: BackfillClaim): Promise<void> {
  const { store, log } = deps;
  const source = deps.sources[claim.workspace.platform];
  if (!source) {
    await store.releaseBackfill(claim, deps.workerId, { error: `no history source for ${claim.workspace.platform}`, retryInMs: 0, giveUp: true });
    return;
  }
  const place: KnowledgePlace = { channel: claim.channel, dmOwnerUserId: null };
  let cursor = claim.cursor;
  for (let n = 0; n < deps.pagesPerClaim; n++) {
    const res = await source.historyPage(claim.workspace, claim.channel, cursor);
    if (stopped()) return;
    const page: KnowledgeBatch = { sources: [], files: [] };
    let messages = 0;
    for (const m of res.messages) {
      if (stopped()) return;
      await add(deps, page, claim, place, m);
      messages += 1;
      if (m.hasReplies) messages += await readThread(deps, stopped, claim, source, page, m);
    }
    if (stopped()) return;
    const held = await store.advanceBackfill(claim, deps.workerId, { cursor: res.next, messages, leaseMs: deps.leaseMs, batch: page });
    if (held && page.files.length > 0) deps.filesQueued?.();
    if (!held || res.next === null) {
      if (res.next === null) log.info({ event: 'knowledge.backfill_done', channel: claim.channel.id, pages: claim.pages + n + 1 }, 'channel history indexed');
      return;
    }
    cursor = res.next;
  }
  // Its turn is over: other channels (and workspaces) go next; it is due again at once.
  await store.releaseBackfill(claim, deps.workerId, { error: null, retryInMs: 0, giveUp: false });
}

export function startBackfill(deps: BackfillDeps): BackfillRunner {
  const { store, log } = deps;
  // Failures per channel in a row (bounded: forgotten wholesale past 1,000 channels).
  let attempts = new Map<string, number>();
  return startClaimLoop<BackfillClaim>({
    claim: () => store.claimBackfill(deps.workerId, deps.leaseMs),
    async work(claim, stopped) {
      const key = `${claim.scope.workspaceId}:${claim.channel.id}`;
      try {
        await work(deps, stopped, claim);
        attempts.delete(key);
      } catch (err) {
        if (stopped()) return;
        if (attempts.size > 1_000) attempts = new Map();
        const tries = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, tries);
        const giveUp = tries >= MAX_ATTEMPTS;
        const message = (err as Error).message.slice(0, 200);
        log.warn({ event: 'knowledge.backfill_failed', channel: claim.channel.id, attempt: tries, giveUp, err: message }, 'channel backfill will be retried');
        await store.releaseBackfill(claim, deps.workerId, { error: message, retryInMs: (deps.retryMs ?? 30_000) * 2 ** (tries - 1), giveUp });
      }
    },
    // Handed back at once so another instance resumes it; a page still in flight is dropped.
    release: (claim) => store.releaseBackfill(claim, deps.workerId, { error: null, retryInMs: 0, giveUp: false }),
    // Bounded: one pass takes at most this many claims before it sleeps.
    perPass: 100,
    idleMs: deps.idleMs ?? 5_000,
    log,
    errorEvent: 'knowledge.backfill_error',
  });
}
