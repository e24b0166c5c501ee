/**
 * What every call to one connection of one workspace passes: a rate limit (calls per minute),
 * a concurrency limit (a bulkhead with a short queue), and a circuit breaker, so that a server
 * that is down fails fast with a clear message instead of holding turns.
 *
 * The rate limit is the workspace's and connection's across every instance when a shared store
 * is given (Redis, src/limiter/tool-rate.ts), and counted on this instance while that store is
 * away, as the model limiters do. The bulkhead and the breaker stay per instance on purpose: they
 * protect this process's turns from a slow or dead server, and each instance finds that out itself.
 */
import { bulkhead, circuitBreaker, ConsecutiveBreaker, handleWhen, isBrokenCircuitError, isBulkheadRejectedError, type BulkheadPolicy, type CircuitBreakerPolicy } from 'cockatiel';

export interface GuardLimits {
  concurrency: number;
  rpm: number;
  /** Consecutive failures that open the breaker, and how long it stays open before one trial call. */
  breakerFailures: number;
  breakerOpenMs: number;
}

/** A failure of the server (unreachable, timed out), as opposed to a tool that answered with an error. */
export class ServerFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A per-minute allowance kept outside this process, shared by every instance. */
export interface SharedRate {
  /** true: counted; false: this minute's allowance is spent; null: the store is away (count locally). */
  take(key: string, rpm: number): Promise<boolean | null>;
}

export type Guarded<T> = { ok: true; value: T } | { ok: false; reason: 'busy' | 'unavailable'; detail: 'rate' | 'concurrency' | 'breaker' };

class ConnectionGuard {
  private readonly calls: number[] = [];
  readonly bulkhead: BulkheadPolicy;
  readonly breaker: CircuitBreakerPolicy;

  constructor(private readonly limits: GuardLimits) {
    this.bulkhead = bulkhead(limits.concurrency, limits.concurrency * 4);
    this.breaker = circuitBreaker(handleWhen((err) => err instanceof ServerFailure), {
      halfOpenAfter: limits.breakerOpenMs,
      breaker: new ConsecutiveBreaker(limits.breakerFailures),
    });
  }

  /** Takes one call of this minute's allowance; false when it is spent. */
  take(now: number): boolean {
    while (this.calls.length > 0 && this.calls[0]! <= now - 60_000) this.calls.shift();
    if (this.calls.length >= this.limits.rpm) return false;
    this.calls.push(now);
    return true;
  }
}

export class CallGuards {
  private readonly guards = new Map<string, ConnectionGuard>();

  constructor(
    private readonly limits: GuardLimits,
    private readonly shared?: SharedRate | undefined,
  ) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<Guarded<T>> {
    let guard = this.guards.get(key);
    if (!guard) {
      guard = new ConnectionGuard(this.limits);
      this.guards.set(key, guard);
    }
    const shared = this.shared ? await this.shared.take(key, this.limits.rpm) : null;
    if (!(shared ?? guard.take(Date.now()))) return { ok: false, reason: 'busy', detail: 'rate' };
    const g = guard;
    try {
      return { ok: true, value: await g.bulkhead.execute(() => g.breaker.execute(work)) };
    } catch (err) {
      if (isBulkheadRejectedError(err)) return { ok: false, reason: 'busy', detail: 'concurrency' };
      if (isBrokenCircuitError(err)) return { ok: false, reason: 'unavailable', detail: 'breaker' };
      throw err;
    }
  }

  forget(prefix: string): void {
    for (const key of this.guards.keys()) if (key.startsWith(prefix)) this.guards.delete(key);
  }
}
