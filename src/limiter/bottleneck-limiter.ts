/**
 * The WorkspaceLimiter on Bottleneck (local store, or Redis with a local fallback): a Bottleneck.Group keyed by workspace, each limiter chained to
 * one global limiter per provider. A job holds its workspace's concurrency slot while it waits
 * for the global limiter, so a flooding workspace occupies at most `concurrency` places in the
 * global queue and quiet workspaces get through (that is what makes it fair).
 *
 * Rate is smoothed with `minTime` (window / rpm between starts): a reservoir refilled once per
 * window lets up to twice the limit through in a sliding window.
 *
 * With Redis, limits live in Redis (shared by every instance). While Redis is unreachable the
 * same calls go through a local set of limiters (logged), and back to Redis once it returns.
 */
import Bottleneck from 'bottleneck';
import type { Logger } from '../core/ports.js';
import { checkBottleneck, tuneLimiter } from './bottleneck-patches.js';
import type { SharedRedis } from './redis-connection.js';
import type { WorkspaceLimiter, WorkspaceLimits } from './workspace-limiter.js';

export interface LimiterOptions {
  provider: string;
  /** The provider account's own limits, shared by all workspaces (unset: none). */
  global: { rpm?: number | undefined; concurrency?: number | undefined };
  /** "Per minute" is per this window; tests and benchmarks scale it down to a second. */
  windowMs: number;
  /** A workspace limiter unused this long is dropped (and its Redis keys expire). */
  idleMs: number;
  redis?: SharedRedis | undefined;
  /** Bottleneck id prefix: the Redis key namespace (tests use a unique one each). */
  prefix: string;
  /** How often a Redis limiter with a job waiting in its queue re-checks the shared state; Bottleneck's 5 s default stalls queued jobs. */
  heartbeatMs: number;
  log: Logger;
}

interface LimiterSet {
  group: Bottleneck.Group;
  global: Bottleneck;
  /** The settings last written to each workspace limiter, so that a change is applied once. */
  applied: WeakMap<Bottleneck, string>;
}

export function minTimeFor(rpm: number | undefined, windowMs: number): number {
  // floor: a sub-millisecond spacing means "no spacing" rather than a 1 ms wait per call.
  return rpm ? Math.floor(windowMs / rpm) : 0;
}

function makeSet(options: LimiterOptions, redis: SharedRedis | undefined): LimiterSet {
  const datastore = redis
    ? ({ datastore: 'ioredis', connection: redis.connection, heartbeatInterval: options.heartbeatMs } as const)
    : {};
  const global = new Bottleneck({
    id: `${options.prefix}-global-${options.provider}`,
    maxConcurrent: options.global.concurrency ?? null,
    minTime: minTimeFor(options.global.rpm, options.windowMs),
    ...datastore,
  } as Bottleneck.ConstructorOptions);
  const group = new Bottleneck.Group({
    id: `${options.prefix}-ws`,
    timeout: options.idleMs,
    ...datastore,
  } as Bottleneck.ConstructorOptions);
  // While Redis is away every heartbeat fails; the connection already logged the outage once.
  const onError = (err: Error) =>
    redis && !redis.isUp()
      ? options.log.debug({ event: 'model.limiter_error', err: err.message }, 'limiter error while Redis is away')
      : options.log.warn({ event: 'model.limiter_error', err: err.message }, 'limiter error');
  // No provider limits configured: no global limiter in the way (it would only add latency).
  const hasGlobal = Boolean(options.global.rpm || options.global.concurrency);
  const store = redis ? 'redis' : 'local';
  group.on('created', (limiter) => {
    tuneLimiter(limiter, store);
    if (hasGlobal) limiter.chain(global);
    limiter.on('error', onError);
  });
  tuneLimiter(global, store);
  global.on('error', onError);
  return { group, global, applied: new WeakMap() };
}

async function limiterFor(set: LimiterSet, workspaceId: string, limits: WorkspaceLimits, windowMs: number): Promise<Bottleneck> {
  const limiter = set.group.key(workspaceId);
  const settings = { maxConcurrent: limits.concurrency, minTime: minTimeFor(limits.rpm, windowMs) };
  const signature = `${settings.maxConcurrent}/${settings.minTime}`;
  if (set.applied.get(limiter) !== signature) {
    // An admin changed the workspace's limits (or the limiter is new): the next job uses them.
    await limiter.updateSettings(settings);
    set.applied.set(limiter, signature);
  }
  return limiter;
}

type Boxed<T> = { ok: true; value: T } | { ok: false; error: unknown };

let checked = false;

export function createWorkspaceLimiter(options: LimiterOptions): WorkspaceLimiter {
  // Once per process: every patch still finds its internal (throws BottleneckPatchError).
  if (!checked) checkBottleneck();
  checked = true;
  const local = makeSet(options, undefined);
  const shared = options.redis ? makeSet(options, options.redis) : null;
  const redis = options.redis;

  // Jobs of this instance not started yet, per workspace.
  const waiting = new Map<string, number>();
  const countWaiting = (workspaceId: string, by: number) => {
    const n = (waiting.get(workspaceId) ?? 0) + by;
    if (n > 0) waiting.set(workspaceId, n);
    else waiting.delete(workspaceId);
  };

  async function runOn<R>(set: LimiterSet, workspaceId: string, limits: WorkspaceLimits, job: () => Promise<R>): Promise<R> {
    const limiter = await limiterFor(set, workspaceId, limits, options.windowMs);
    return limiter.schedule(job);
  }

  /** Shared limits while Redis is up; local ones otherwise, or when Redis goes away with the job still queued there. */
  async function runOnce<T>(
    workspaceId: string,
    limits: WorkspaceLimits,
    start: () => Promise<Boxed<T>>,
    running: () => Promise<Boxed<T>> | null,
  ): Promise<Boxed<T>> {
    if (shared && redis?.isUp()) {
      let sharedAbandoned = false;
      const sharedJob = (): Promise<Boxed<T> | null> => (sharedAbandoned ? Promise.resolve(null) : start());
      let stopWatching = () => {};
      const lost = new Promise<'lost'>((resolve) => {
        stopWatching = redis.onceDown(() => resolve('lost'));
      });
      try {
        const first = await Promise.race([runOn(shared, workspaceId, limits, sharedJob), lost]);
        if (first !== 'lost' && first !== null) return first;
      } catch (err) {
        // A job's own errors are boxed, so this is Redis failing under the limiter.
        options.log.warn({ event: 'model.limits.local', err: (err as Error).message }, 'shared limiter failed; using local limits');
      } finally {
        stopWatching();
      }
      // Redis went away while the job ran: its result still counts.
      const started = running();
      if (started) return started;
      // Still queued in Redis: run under local limits instead, and skip it there if it ever starts.
      sharedAbandoned = true;
    }
    return runOn(local, workspaceId, limits, start);
  }

  return {
    mode: () => (shared && redis?.isUp() ? 'shared' : 'local'),
    size: () => local.group.keys().length + (shared?.group.keys().length ?? 0),
    queued: (workspaceId) => waiting.get(workspaceId) ?? 0,

    async schedule<T>(workspaceId: string, limits: WorkspaceLimits, job: () => Promise<T>): Promise<T> {
      // The job runs at most once, whichever limiter lets it start first.
      let running: Promise<Boxed<T>> | null = null;
      countWaiting(workspaceId, 1);
      let counted = true;
      const uncount = () => {
        if (counted) countWaiting(workspaceId, -1);
        counted = false;
      };
      const start = (): Promise<Boxed<T>> => {
        uncount();
        return (running ??= job().then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ));
      };
      try {
        const result = await runOnce(workspaceId, limits, start, () => running);
        if (!result.ok) throw result.error;
        return result.value;
      } finally {
        uncount();
      }
    },

    async close() {
      for (const set of [local, shared]) {
        if (!set) continue;
        for (const { limiter } of set.group.limiters()) await limiter.disconnect(false);
        await set.global.disconnect(false);
      }
    },
  };
}
