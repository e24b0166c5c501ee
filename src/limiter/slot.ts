/**
 * Worker slots and limiter waits. A worker runs each turn "in a slot"; while the turn's model call
 * waits for its workspace's limiter, the slot is lent back to the worker, which claims another
 * workspace's ready turn with it. That is how a workspace held back by its own limits never holds
 * capacity another workspace could use. (The number of such waiting turns is bounded by the
 * per-workspace claim cap, see src/db/inbox-store.ts.)
 *
 * AsyncLocalStorage carries the slot from the worker to the gate through the core, which knows
 * nothing of either.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Slot {
  /** The turn waits on its limiter: its slot may be used by another turn. Returns "it runs again". */
  lend(): () => void;
}

const current = new AsyncLocalStorage<Slot>();

/** Runs `fn` (a turn) in `slot`. */
export function runInSlot<T>(slot: Slot, fn: () => T): T {
  return current.run(slot, fn);
}

/**
 * Called as a job enters the limiter: lends the slot of the turn it runs in (if any) once the job
 * has waited `afterMs` without starting. Call the answer when the job starts (or gives up).
 */
export function lendSlotWhileWaiting(afterMs: number): () => void {
  const slot = current.getStore();
  if (!slot) return () => {};
  let back: (() => void) | null = null;
  const timer = setTimeout(() => (back = slot.lend()), afterMs);
  return () => {
    clearTimeout(timer);
    back?.();
    back = null;
  };
}
