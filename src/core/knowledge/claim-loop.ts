/**
 * The loop of a background worker of the index (the backfill, the file reader): passes of at most
 * `perPass` claims, a pause of `idleMs` between passes, a wake-up when new work arrives (during a
 * pass: another pass right after it), and a stop that hands back the claim in hand at once, so
 * another instance resumes it instead of waiting for its lease.
 */
import type { Logger } from '../ports.js';

export interface ClaimLoop {
  wake(): void;
  stop(): Promise<void>;
}

export interface ClaimLoopOptions<C> {
  /** Takes the next due item (with a lease), or null when none is due. */
  claim(): Promise<C | null>;
  /** Works one claimed item; it handles its own failures (a throw is logged, the lease then runs out). */
  work(claim: C, stopped: () => boolean): Promise<void>;
  /** Gives a claim back unfinished (on stop). */
  release(claim: C): Promise<void>;
  perPass: number;
  idleMs: number;
  log: Logger;
  /** The log event of a pass that failed (the database went away under it). */
  errorEvent: string;
}

export function startClaimLoop<C>(options: ClaimLoopOptions<C>): ClaimLoop {
  let stopped = false;
  let current: C | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let again = false;
  const isStopped = () => stopped;

  async function step(): Promise<boolean> {
    const claim = await options.claim();
    if (!claim) return false;
    current = claim;
    try {
      await options.work(claim, isStopped);
    } finally {
      current = null;
    }
    return true;
  }

  const loop = () => {
    clearTimeout(timer);
    again = false;
    running = (async () => {
      for (let i = 0; i < options.perPass && !stopped; i++) if (!(await step())) break;
    })()
      .catch((err: unknown) => options.log.warn({ event: options.errorEvent, err: (err as Error).message.slice(0, 200) }, 'background pass failed'))
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(loop, again ? 0 : options.idleMs);
        timer.unref?.();
      });
  };
  timer = setTimeout(loop, 0);
  timer.unref?.();

  return {
    wake() {
      if (stopped) return;
      again = true;
      void running.then(() => {
        if (!stopped && again && current === null) loop();
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const claim = current;
      if (claim !== null) await options.release(claim).catch(() => {});
      await Promise.race([running, new Promise((r) => setTimeout(r, 1_000).unref())]);
    },
  };
}
