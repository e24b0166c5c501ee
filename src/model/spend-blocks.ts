/**
 * Budget reservations of one instance, mostly in blocks. A call that asked the database for its
 * own reservation paid a transaction before every model call; instead, per (workspace, user) this
 * instance reserves a block (an ordinary budget_reservations row, leased and renewed like any) sized
 * for several calls, and calls draw from it in memory. Every budget still holds across instances:
 * the block is counted in the budget counters from the moment it is reserved, a draw never takes
 * more than the block's undrawn tokens and micro-USD, and a drawn call's settlement shrinks the
 * block row by what it drew as it adds the real use, so counters = settled use + reservations.
 *
 * A block takes at most BLOCK_SHARE of any budget's remaining room and is only made when it fits
 * BLOCK_MIN_CALLS calls at their full output; nearer the limit each call reserves exactly for
 * itself as before (its output capped to the budget's remaining room). A block is retired (its
 * undrawn part given back) when a call no longer fits it, when the budget period ends, when the
 * budgets in force change, after BLOCK_IDLE_MS without calls, and when the gate closes. A block of
 * a process that died is released when its lease runs out, like any reservation.
 */
import type { Budget } from '../core/budgets.js';
import { callCost } from '../core/budgets.js';
import type { Scope } from '../core/identity.js';
import type { Logger, ReserveRequest, SettleInput, UsageLedger } from '../core/ports.js';

/**
 * A block is sized for this many calls like the one that asked for it (one block reservation, a
 * transaction of four statements, per this many calls: fewer would cost the calls more, more
 * would hold more room idle)…
 */
export const BLOCK_CALLS = 16;
/** …but takes no more than this share of any budget's remaining room… */
export const BLOCK_SHARE = 1 / 8;
/** …and is not made for fewer calls than this (the call then reserves for itself). */
export const BLOCK_MIN_CALLS = 2;
/** An unused block's undrawn part goes back after this long. */
export const BLOCK_IDLE_MS = 5_000;

/** The reservations of calls running on this instance (and its blocks), their leases renewed together while any is live. */
export class LeaseKeeper {
  private readonly live = new Map<string, Scope>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly ledger: UsageLedger,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  hold(id: string, scope: Scope): void {
    this.live.set(id, scope);
    this.timer ??= setInterval(() => this.renew(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.timer.unref?.();
  }

  release(id: string): void {
    this.live.delete(id);
    if (this.live.size === 0) this.close();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private renew(): void {
    const items = [...this.live].map(([id, scope]) => ({ id, scope }));
    if (items.length === 0) return;
    this.ledger
      .renew(items, this.leaseMs)
      .catch((err: Error) => this.log.warn({ event: 'model.budget_renew_failed', err: err.message }, 'reservation leases not renewed'));
  }
}

/** What a call asks of its budgets (ReserveRequest without the lease and the block, which the pool adds). */
export type CallAsk = Omit<ReserveRequest, 'leaseMs' | 'block'>;

/** A call's hold on the budgets: its own reservation or a draw from a block. */
export interface Hold {
  maxOutputTokens: number;
  /** What the settlement passes the ledger (called once, as the settlement starts). */
  settleAs(answered: boolean): Pick<SettleInput, 'reservationId' | 'drawn'> | null;
  /** The settlement is done (or failed). */
  settled(): void;
}

export type Taken = { ok: true; hold: Hold } | { ok: false; budget: Budget };

interface Block {
  key: string;
  scope: Scope;
  principalId: string;
  id: string;
  /** The budgets in force when it was made: a change retires it. */
  budgetsKey: string;
  /** Undrawn. */
  tokens: number;
  microUsd: number;
  /** Draws not yet settled. */
  outstanding: number;
  retired: boolean;
  /** When the budget period it counts in ends (this process's clock). */
  endsAt: number;
  idle: ReturnType<typeof setTimeout> | null;
}

export interface BlockPoolOptions {
  ledger: UsageLedger;
  log: Logger;
  leaseMs: number;
  idleMs?: number | undefined;
}

/** This instance's budget holds: its blocks per (workspace, user), and calls' own reservations. */
export class Reservations {
  private readonly leases: LeaseKeeper;
  private readonly blocks = new Map<string, Block>();
  /** Per key, the one block reservation under way: answers whether it brought a block. */
  private readonly acquiring = new Map<string, Promise<boolean>>();
  /** Give-backs under way, awaited on close. */
  private readonly givingBack = new Set<Promise<void>>();
  private readonly idleMs: number;

  constructor(private readonly options: BlockPoolOptions) {
    this.leases = new LeaseKeeper(options.ledger, options.leaseMs, options.log);
    this.idleMs = options.idleMs ?? BLOCK_IDLE_MS;
  }

  /** Reserves for a call: a draw from this user's block when one fits, else a new block, else its own reservation. */
  async take(scope: Scope, ask: CallAsk): Promise<Taken> {
    const key = `${scope.workspaceId}/${ask.principalId}`;
    const budgetsKey = JSON.stringify(ask.budgets);
    // Bounded: another call may empty a fresh block first; then this one reserves for itself.
    for (let round = 0; round < 3; round++) {
      const block = this.blocks.get(key);
      let retiring = Promise.resolve();
      if (block) {
        const hold = this.draw(block, ask, budgetsKey);
        if (hold) return { ok: true, hold };
        retiring = this.retire(block);
      }
      const pending = this.acquiring.get(key);
      if (pending) {
        if (!(await pending.catch(() => false))) break;
        continue;
      }
      const mine = await this.acquire(scope, key, ask, budgetsKey, retiring);
      if (mine) return mine;
    }
    return this.own(scope, ask);
  }

  /** Gives every block's undrawn part back (calls still running settle theirs). */
  async close(): Promise<void> {
    for (const block of [...this.blocks.values()]) void this.retire(block);
    for (let i = 0; i < 3 && this.givingBack.size > 0; i++) await Promise.allSettled([...this.givingBack]);
    this.leases.close();
  }

  private giveBack(block: Block, input: Pick<SettleInput, 'drawn'>, final: boolean): Promise<void> {
    const { ledger, log } = this.options;
    const done: Promise<void> = ledger
      // No budgets: a give-back lowers the counters and must not stamp an 80% line (whose alert would then be lost).
      .settle(block.scope, { principalId: block.principalId, reservationId: block.id, entries: [], budgets: [], ...input })
      .then(
        () => undefined,
        (err: Error) => log.warn({ event: 'model.budget_block_release_failed', workspace: block.scope.workspaceId, err: err.message }, 'block not given back (its lease will free it)'),
      )
      .finally(() => {
        if (final) this.leases.release(block.id);
        this.givingBack.delete(done);
      });
    this.givingBack.add(done);
    return done;
  }

  /** No more draws; the undrawn part goes back now, the row itself with the last draw's settlement. */
  private retire(block: Block): Promise<void> {
    if (block.retired) return Promise.resolve();
    block.retired = true;
    if (this.blocks.get(block.key) === block) this.blocks.delete(block.key);
    if (block.idle) clearTimeout(block.idle);
    if (block.outstanding === 0) return this.giveBack(block, {}, true);
    const undrawn = { tokens: block.tokens, microUsd: block.microUsd };
    block.tokens = 0;
    block.microUsd = 0;
    return undrawn.tokens > 0 || undrawn.microUsd > 0 ? this.giveBack(block, { drawn: undrawn }, false) : Promise.resolve();
  }

  /** A draw of the call's full size from the block, or null when the block cannot serve it. */
  private draw(block: Block, ask: CallAsk, budgetsKey: string): Hold | null {
    const tokens = ask.promptTokens + ask.maxOutputTokens;
    const microUsd = callCost(ask.price, ask.promptTokens, ask.maxOutputTokens);
    if (block.budgetsKey !== budgetsKey || Date.now() >= block.endsAt || tokens > block.tokens || microUsd > block.microUsd) return null;
    block.tokens -= tokens;
    block.microUsd -= microUsd;
    block.outstanding++;
    if (block.idle) clearTimeout(block.idle);
    block.idle = null;
    let last = false;
    return {
      maxOutputTokens: ask.maxOutputTokens,
      settleAs: (answered) => {
        block.outstanding--;
        // Nothing used and the block still open: the draw simply goes back into it.
        if (!answered && !block.retired) {
          block.tokens += tokens;
          block.microUsd += microUsd;
          return null;
        }
        last = block.retired && block.outstanding === 0;
        return { reservationId: block.id, ...(last ? {} : { drawn: { tokens, microUsd } }) };
      },
      settled: () => {
        if (last) this.leases.release(block.id);
        else if (!block.retired && block.outstanding === 0) this.idleFrom(block);
      },
    };
  }

  /** Without a draw for idleMs, the block goes back. */
  private idleFrom(block: Block): void {
    if (block.idle) clearTimeout(block.idle);
    block.idle = setTimeout(() => void this.retire(block), this.idleMs);
    block.idle.unref?.();
  }

  /** The call's own reservation (near a limit, or when no block could be had). */
  private async own(scope: Scope, ask: CallAsk): Promise<Taken> {
    const reservation = await this.options.ledger.reserve(scope, { ...ask, leaseMs: this.options.leaseMs });
    if (!reservation.ok) return reservation;
    return { ok: true, hold: this.ownHold(scope, reservation.id, reservation.maxOutputTokens) };
  }

  private ownHold(scope: Scope, id: string, maxOutputTokens: number): Hold {
    this.leases.hold(id, scope);
    return { maxOutputTokens, settleAs: () => ({ reservationId: id }), settled: () => this.leases.release(id) };
  }

  /** Asks for a block; answers the call's own reservation when the ledger made one instead, else null. */
  private async acquire(scope: Scope, key: string, ask: CallAsk, budgetsKey: string, after: Promise<void>): Promise<Taken | null> {
    let mine: Taken | null = null;
    let started = 0;
    const request = { ...ask, leaseMs: this.options.leaseMs, block: { calls: BLOCK_CALLS, share: BLOCK_SHARE, minCalls: BLOCK_MIN_CALLS } };
    // After the retired block's undrawn part is back, so that it counts as room again.
    const reserved = after.then(() => ((started = Date.now()), this.options.ledger.reserve(scope, request)));
    const brought = reserved.then((r) => {
      if (!r.ok) return ((mine = r), false);
      if (!r.block) return ((mine = { ok: true, hold: this.ownHold(scope, r.id, r.maxOutputTokens) }), false);
      const block: Block = {
        key,
        scope,
        principalId: ask.principalId,
        id: r.id,
        budgetsKey,
        tokens: r.tokens,
        microUsd: r.microUsd,
        outstanding: 0,
        retired: false,
        endsAt: started + r.block.validForMs,
        idle: null,
      };
      this.leases.hold(block.id, scope);
      const previous = this.blocks.get(key);
      if (previous) void this.retire(previous);
      this.blocks.set(key, block);
      this.idleFrom(block);
      return true;
    });
    this.acquiring.set(key, brought);
    try {
      await brought;
    } finally {
      if (this.acquiring.get(key) === brought) this.acquiring.delete(key);
    }
    return mine;
  }
}
