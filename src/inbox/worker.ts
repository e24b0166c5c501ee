/**
 * Workers claim inbox rows with a lease and run the turn pipeline on them. A crashed worker's
 * rows are claimed again when the lease runs out; a row that keeps failing is dead-lettered and
 * its sender told once.
 *
 * Fair across workspaces: rows are claimed round-robin across workspaces and never more than a
 * workspace may run at once (the store's claim), and a turn waiting for its workspace's limiter
 * lends its slot back (src/limiter/slot.ts), so a workspace held back by its own limits leaves
 * the pool to the others. Its backlog waits in the inbox, and each waiting sender is told once.
 */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '../core/envelope.js';
import type { InboxItem, InboxStore, Logger, DeliveryAttempt } from '../core/ports.js';
import type { TurnResult } from '../core/turn.js';
import { runInSlot, type Slot } from '../limiter/slot.js';

export interface WorkerOptions {
  inbox: InboxStore;
  runTurn: (envelope: Envelope, attempt: DeliveryAttempt) => Promise<TurnResult>;
  /** Errors no retry can help (the app was removed from the workspace): the row is dropped at once, nobody told. */
  isPermanent?: (err: unknown) => boolean;
  /** Tells the sender that their request failed for good (replacing the status message, when one was shown). */
  notifyDead: (envelope: Envelope, statusMessageId: string | null) => Promise<void>;
  log: Logger;
  concurrency: number;
  /** Rows one workspace may hold leased at once unless its settings say otherwise (WORKSPACE_CONCURRENCY). */
  perWorkspace: number;
  /**
   * Tells the sender of a row that waited `queueNoticeMs` behind its workspace's backlog their
   * place in it; answers the status message it showed (the answer replaces it), if any.
   */
  notifyQueued?: (envelope: Envelope, position: number) => Promise<string | null>;
  queueNoticeMs?: number;
  /** Renewed every third of it while the turn runs, so only a dead worker's rows come back. */
  leaseMs: number;
  /** A turn running longer is aborted and its row handed back (counted as a failed attempt). */
  turnTimeoutMs: number;
  maxAttempts: number;
  /** How often an idle worker looks for work that other instances accepted. */
  pollMs?: number;
  /** Delay before claiming again after a database error. */
  errorBackoffMs?: number;
  /**
   * Done rows are kept this long so that a platform retry still finds its key (Slack retries for
   * about 5 minutes; Teams for less). Dead rows are kept 7 days for operators.
   */
  keepDoneMs?: number;
}

const PRUNE_EVERY_MS = 10 * 60_000;
/**
 * After an intake or a finished turn, claim this much later: under load many turns finish (and
 * events arrive) within it, and one claim takes them all instead of one claim each.
 */
const CLAIM_GATHER_MS = 2;
/** After a finished turn when the last claim left no more waiting: room of a capped workspace, at most a claim per this. */
const FINISHED_GATHER_MS = 20;
const KEEP_DEAD_MS = 7 * 24 * 3_600_000;
/** maxAttempts for a row handed back at shutdown: never dead-lettered for it (attempts is an SQL integer, so not MAX_SAFE_INTEGER). */
const NEVER_DEAD = 2 ** 31 - 1;
/** Queue notices sent per look (the next look sends more). */
const NOTICES_PER_LOOK = 20;

export interface Worker {
  /** Look for work now (called after an accepted intake). */
  wake(): void;
  start(): void;
  /** Stops claiming, waits for running turns up to graceMs, then gives the rest back. */
  stop(graceMs: number): Promise<void>;
  /** Removes old done and dead rows (also runs every 10 minutes). */
  prune(): Promise<void>;
  readonly inFlight: number;
}

export function createWorker(options: WorkerOptions): Worker {
  const workerId = `w-${randomUUID()}`;
  const running = new Map<string, { item: InboxItem; done: Promise<void>; abort: AbortController }>();
  const pollMs = options.pollMs ?? 250;
  const errorBackoffMs = options.errorBackoffMs ?? 1_000;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let noticeTimer: NodeJS.Timeout | undefined;
  /** Turns waiting on their limiter, whose slots are lent back to the pool. */
  let lent = 0;

  async function renewLeases() {
    const ids = [...running.keys()];
    try {
      await options.inbox.renew(ids, workerId, options.leaseMs);
    } catch (err) {
      // The next renewal may succeed; if none does, the rows go back to the inbox, which is safe.
      options.log.warn({ event: 'inbox.renew_failed', rows: ids.length, err: (err as Error).message }, 'could not renew leases');
    }
  }

  async function prune() {
    try {
      const removed = await options.inbox.prune(options.keepDoneMs ?? 3_600_000, KEEP_DEAD_MS);
      if (removed > 0) options.log.info({ event: 'inbox.pruned', removed }, 'old inbox rows pruned');
    } catch (err) {
      options.log.warn({ event: 'inbox.prune_failed', err: (err as Error).message }, 'could not prune the inbox');
    }
  }
  let claiming = false;
  let wakeRequested = false;
  let moreWaiting = false;

  let dueAt = Number.POSITIVE_INFINITY;
  /** Claims in `ms`, unless a claim is already due sooner. */
  function schedule(ms: number) {
    if (stopped) return;
    const at = performance.now() + ms;
    if (timer !== undefined && dueAt <= at) return;
    clearTimeout(timer);
    dueAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      dueAt = Number.POSITIVE_INFINITY;
      void claimLoop();
    }, ms);
  }

  async function claimLoop(): Promise<void> {
    if (stopped) return;
    if (claiming) {
      wakeRequested = true;
      return;
    }
    claiming = true;
    let next = pollMs;
    try {
      const free = options.concurrency - (running.size - lent);
      if (free > 0) {
        const items = await options.inbox.claim(workerId, free, options.leaseMs, options.perWorkspace);
        for (const item of items) launch(item);
        // A full batch suggests more is waiting: claim again as slots free up.
        moreWaiting = items.length === free;
        if (moreWaiting) next = 0;
      }
    } catch (err) {
      options.log.warn({ event: 'inbox.claim_failed', err: (err as Error).message }, 'could not claim work; retrying');
      next = errorBackoffMs;
    } finally {
      claiming = false;
    }
    if (wakeRequested) {
      wakeRequested = false;
      next = 0;
    }
    schedule(next);
  }

  function launch(item: InboxItem) {
    const abort = new AbortController();
    const done = process(item, abort).finally(() => {
      running.delete(item.id);
      // Its workspace has room again (the claim caps each workspace): claim soon, whatever the last
      // claim found; turns finishing together share one claim.
      schedule(moreWaiting ? CLAIM_GATHER_MS : FINISHED_GATHER_MS);
    });
    running.set(item.id, { item, done, abort });
  }

  async function process(item: InboxItem, abort: AbortController): Promise<void> {
    const started = performance.now();
    const context = { workspace: item.envelope.workspace.externalId, platform: item.envelope.workspace.platform, kind: item.envelope.kind };
    const attempt: DeliveryAttempt = {
      number: item.attempts,
      signal: abort.signal,
      statusMessageId: item.statusMessageId,
      rememberStatus: async (statusMessageId) => {
        await options.inbox.rememberStatus(item.id, workerId, statusMessageId);
        attempt.statusMessageId = statusMessageId;
      },
      partMessageIds: item.partMessageIds,
      rememberParts: async (messageIds) => {
        await options.inbox.rememberParts(item.id, workerId, messageIds);
        attempt.partMessageIds = messageIds;
      },
    };
    const slot: Slot = {
      lend() {
        lent++;
        schedule(CLAIM_GATHER_MS);
        let back = false;
        return () => {
          if (!back) lent--;
          back = true;
        };
      },
    };
    let deadline: NodeJS.Timeout | undefined;
    // A turn that ignores its abort still frees its slot and its row at the deadline.
    const timedOut = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => {
        abort.abort(new Error('turn timed out'));
        reject(new Error(`turn ran longer than ${options.turnTimeoutMs} ms`));
      }, options.turnTimeoutMs);
    });
    try {
      const result = await Promise.race([runInSlot(slot, () => options.runTurn(item.envelope, attempt)), timedOut]);
      await options.inbox.complete(item.id, workerId, result.platformMessageId);
      options.log.info({ event: 'turn.done', ...context, ms: Math.round(performance.now() - started) }, 'turn done');
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
      // Shutdown aborted it: stop() hands the row back without counting an attempt.
      if (stopped && abort.signal.aborted) return;
      const permanent = options.isPermanent?.(err) ?? false;
      if (permanent) options.log.warn({ event: 'turn.dropped', ...context, err: message }, 'turn dropped: it cannot succeed');
      else options.log.error({ event: 'turn.failed', ...context, attempt: item.attempts, err: message }, 'turn failed');
      try {
        // maxAttempts 0: dead-lettered now.
        const status = await options.inbox.release(item.id, workerId, message, permanent ? 0 : options.maxAttempts);
        if (permanent) return;
        if (status === 'dead') await options.notifyDead(item.envelope, attempt.statusMessageId);
      } catch (releaseErr) {
        // The lease will run out and another worker will take the row.
        options.log.warn({ event: 'inbox.release_failed', err: (releaseErr as Error).message }, 'could not release row');
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  let noticing = false;
  /** One look at a time: rows that waited long enough behind their workspace's backlog, each told once. */
  async function sendQueueNotices(): Promise<void> {
    const notify = options.notifyQueued;
    if (!notify || noticing || stopped) return;
    noticing = true;
    try {
      const due = await options.inbox.takeQueuedNotices(options.queueNoticeMs ?? 2_000, NOTICES_PER_LOOK, options.perWorkspace);
      for (const row of due) {
        const statusMessageId = await notify(row.envelope, row.position).catch((err: Error) => {
          options.log.warn({ event: 'inbox.notice_failed', err: err.message }, 'could not tell a queued sender');
          return null;
        });
        if (statusMessageId) await options.inbox.rememberQueuedStatus(row.id, statusMessageId);
      }
    } catch (err) {
      options.log.warn({ event: 'inbox.notice_failed', err: (err as Error).message }, 'could not look for queued senders');
    } finally {
      noticing = false;
    }
  }

  return {
    wake() {
      schedule(CLAIM_GATHER_MS);
    },
    start() {
      stopped = false;
      schedule(0);
      pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS);
      pruneTimer.unref();
      renewTimer = setInterval(() => void (running.size > 0 && renewLeases()), Math.max(100, Math.floor(options.leaseMs / 3)));
      renewTimer.unref();
      if (options.notifyQueued) {
        // Only while this instance works: an idle one has no backlog of its own to explain.
        noticeTimer = setInterval(() => void (running.size > 0 && sendQueueNotices()), Math.max(100, Math.floor((options.queueNoticeMs ?? 2_000) / 2)));
        noticeTimer.unref();
      }
    },
    async stop(graceMs) {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      clearInterval(pruneTimer);
      clearInterval(noticeTimer);
      const all = Promise.all([...running.values()].map((r) => r.done));
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      // A copy: an aborted turn leaves `running` as it ends, and would be skipped (and its row kept leased).
      const left = [...running.values()];
      for (const { abort } of left) abort.abort();
      await Promise.all(
        left.map(({ item }) => options.inbox.release(item.id, workerId, 'released at shutdown', NEVER_DEAD).catch(() => {})),
      );
      clearInterval(renewTimer);
    },
    prune,
    get inFlight() {
      return running.size;
    },
  };
}
