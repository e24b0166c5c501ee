/**
 * Every change Quorum makes to Bottleneck's internals, in one place (the Redis connection's two
 * overrides live in redis-connection.ts and are checked the same way).
 *
 * Bottleneck 2.19.5 (its last release, pinned exactly in package.json) does a lot per job that
 * the gate does not need; these per-limiter changes remove the cost and keep what a job goes
 * through (submit, register, run, free, on the local or the Redis store). Each one needs private
 * internals: when one is missing (another Bottleneck version) `tuneLimiter` throws
 * BottleneckPatchError, and `checkBottleneck()` does so at start-up, so that a changed library
 * fails loudly instead of running unpatched. test/limiter/bottleneck-patches.test.ts has one test
 * per patch that fails when the patch is not applied.
 *
 * Per job with the local store, a noop job: ~140 µs CPU before, ~45 µs after; the 1 ms timer
 * clamp is gone from every job's latency. A Redis limiter no longer costs anything while idle.
 */
import Bottleneck from 'bottleneck';

/** The one Bottleneck release these patches were written against. */
export const BOTTLENECK_VERSION = '2.19.5';

/** A Bottleneck internal a patch needs is not there: the library is not the version patched. */
export class BottleneckPatchError extends Error {
  override readonly name = 'BottleneckPatchError';
  constructor(internal: string) {
    super(`Bottleneck ${BOTTLENECK_VERSION} internal "${internal}" is missing (installed: ${installedVersion()}); src/limiter patches it, update them before changing the version`);
  }
}

function installedVersion(): string {
  return String((Bottleneck as unknown as { version?: unknown }).version ?? 'unknown');
}

function need(ok: boolean, internal: string): void {
  if (!ok) throw new BottleneckPatchError(internal);
}

interface Listener {
  cb: (...args: unknown[]) => unknown;
  status: string;
}

interface EventsInternals {
  _events: Record<string, Listener[] | undefined>;
  trigger(name: string, ...args: unknown[]): Promise<unknown>;
}

interface JobInternals {
  options: { expiration?: number | null };
  doRun(): unknown;
  doExecute(chained: unknown, clearGlobalState: () => boolean, run: (wait: number) => unknown, free: () => unknown): unknown;
}

interface RedisStoreInternals {
  ready?: Promise<unknown>;
  __disconnect__?: (flush: boolean) => unknown;
  heartbeat?: ReturnType<typeof setInterval> | null;
  heartbeatInterval?: number;
  runScript?: (name: string, args: unknown[]) => Promise<unknown>;
}

interface LimiterInternals {
  Events?: EventsInternals;
  _submitLock?: unknown;
  _registerLock?: unknown;
  _queues?: { Events?: EventsInternals; queued(): number };
  _store?: { yieldLoop?: unknown } & RedisStoreInternals;
  _run?: (index: string, job: JobInternals, wait: number) => unknown;
  _limiter: unknown;
  _scheduled: Record<string, unknown>;
  _clearGlobalState(index: string): boolean;
  _free(index: string, job: JobInternals, ...rest: unknown[]): unknown;
}

const done: Promise<undefined> = Promise.resolve(undefined);

/**
 * Every job triggers a dozen events (received, queued, scheduled, executing, done, idle, empty,
 * and a "debug" event alongside each), each an async function with its own promises, whether or
 * not anything listens. With no listener (and none for "debug") there is nothing to do.
 */
function skipUnheardEvents(events: EventsInternals): void {
  const trigger = events.trigger.bind(events);
  events.trigger = (name, ...args) => (events._events[name]?.length || events._events.debug?.length ? trigger(name, ...args) : done);
}

/**
 * The job queue's own events ("leftzero", "zero") fire as a job enters an empty queue and
 * leaves it; their only listeners are Bottleneck's, which ref and unref the Redis heartbeat
 * timer (replaced below by ones that start and stop it), all synchronous. Calling them directly
 * skips two async event dispatches per job.
 */
function callQueueListenersDirectly(events: EventsInternals): void {
  events.trigger = (name, ...args) => {
    for (const listener of events._events[name] ?? []) listener.cb(...args);
    return done;
  };
}

/**
 * Bottleneck starts every job with setTimeout(start, wait), wait 0 when no spacing is due, and
 * Node clamps that to 1 ms: a millisecond added to each call (two with the provider limiter).
 * With nothing to wait for the job starts on the next turn of the event loop instead. (Jobs
 * started this way could not be dropped by `stop({ dropWaitingJobs })`; the gate never calls it.)
 */
function startWithoutClamp(limiter: LimiterInternals): void {
  const run = limiter._run;
  need(typeof run === 'function', 'Bottleneck.prototype._run');
  need(typeof limiter._clearGlobalState === 'function' && typeof limiter._free === 'function', 'Bottleneck.prototype._free');
  if (typeof run !== 'function') return;
  limiter._run = function (this: LimiterInternals, index, job, wait) {
    if (wait > 0 || job.options.expiration != null) return run.call(this, index, job, wait);
    job.doRun();
    const clearGlobalState = () => this._clearGlobalState(index);
    const again = (this._run as NonNullable<LimiterInternals['_run']>).bind(this, index, job);
    const free = this._free.bind(this, index, job);
    const timeout = setImmediate(() => job.doExecute(this._limiter, clearGlobalState, again, free));
    return (this._scheduled[index] = { timeout, expiration: undefined, job });
  };
}

/**
 * Bottleneck serialises submitting and registering jobs with two locks (its `Sync`): a FIFO
 * queue that runs one task at a time, and resolves a task's caller after starting the next.
 * Each job passes them four times, and `Sync` wraps each pass in two async generators. This is
 * the same lock with plain promises.
 */
export class Lock {
  private running = false;
  private readonly queue: Array<{ task: (...args: unknown[]) => unknown; args: unknown[]; resolve: (value: unknown) => void; reject: (err: unknown) => void }> = [];
  private head = 0;

  isEmpty(): boolean {
    return this.head === this.queue.length;
  }

  readonly schedule = (task: (...args: unknown[]) => unknown, ...args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      this.queue.push({ task, args, resolve, reject });
      this.next();
    });

  private next(): void {
    if (this.running || this.isEmpty()) return;
    this.running = true;
    const item = this.queue[this.head++]!;
    if (this.isEmpty()) this.queue.length = this.head = 0;
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(item.task(...item.args));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => {
        this.running = false;
        this.next();
        item.resolve(value);
      },
      (err: unknown) => {
        this.running = false;
        this.next();
        item.reject(err);
      },
    );
  }
}

function hasSync(lock: unknown): boolean {
  const l = lock as { schedule?: unknown; isEmpty?: unknown } | undefined;
  return typeof l?.schedule === 'function' && typeof l.isEmpty === 'function';
}

/**
 * A Redis limiter runs a heartbeat script every `heartbeatInterval` for as long as it exists, and
 * each one publishes the limiter's capacity to every instance: with 100 workspaces' limiters at
 * 100 ms, an idle instance spent ~75 ms CPU a second on it (and Redis ~30 ms). The heartbeat is
 * what frees a job queued here if a capacity message was missed, so it runs while a job of this
 * limiter waits in its queue, and stops when the queue empties. (An idle client is forgotten by
 * Redis after 10 s; its next call registers it again, as after a datastore clear.)
 */
function heartbeatWhileQueued(limiter: LimiterInternals, events: EventsInternals): void {
  const store = limiter._store;
  const queues = limiter._queues;
  const disconnect = store?.__disconnect__;
  need(Boolean(store?.ready) && typeof store?.runScript === 'function' && typeof store.heartbeatInterval === 'number', 'RedisDatastore.ready/runScript/heartbeatInterval');
  need(typeof disconnect === 'function', 'RedisDatastore.__disconnect__');
  need(typeof queues?.queued === 'function', 'Bottleneck._queues.queued');
  if (!store?.ready || typeof store.runScript !== 'function' || typeof store.heartbeatInterval !== 'number' || typeof disconnect !== 'function' || !queues) return;
  const runScript = store.runScript.bind(store);
  const interval = store.heartbeatInterval;
  const onError = (err: unknown) => limiter.Events?.trigger('error', err);
  let ready = false;
  let closed = false;
  const start = () => {
    if (ready && !closed && !store.heartbeat) store.heartbeat = setInterval(() => void runScript('heartbeat', []).catch(onError), interval);
  };
  const stop = () => {
    if (store.heartbeat) clearInterval(store.heartbeat);
    store.heartbeat = null;
  };
  // Bottleneck starts its own heartbeat once the limiter is initialised in Redis: it keeps
  // running only if a job is queued by then.
  store.ready.then(
    () => {
      ready = true;
      if (closed || queues.queued() === 0) stop();
    },
    () => {},
  );
  store.__disconnect__ = function (this: unknown, flush: boolean) {
    closed = true;
    stop();
    return disconnect.call(this, flush);
  };
  events._events.leftzero = [{ cb: start, status: 'many' }];
  events._events.zero = [{ cb: stop, status: 'many' }];
}

/**
 * The in-memory store yields to the event loop with setTimeout(0) three or four times per job,
 * each clamped to 1 ms. setImmediate yields just the same without the clamp.
 */
function yieldWithoutClamp(store: { yieldLoop?: unknown } | undefined): void {
  need(typeof store?.yieldLoop === 'function', 'LocalDatastore.yieldLoop');
  if (store) store.yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
}

function isEvents(events: unknown): events is EventsInternals {
  const e = events as Partial<EventsInternals> | undefined;
  return typeof e?.trigger === 'function' && typeof e._events === 'object' && e._events !== null;
}

/** Applies the changes above to one limiter (a group's, when it is created, or a standalone one); throws BottleneckPatchError when an internal is missing. */
export function tuneLimiter(limiter: Bottleneck, store: 'local' | 'redis'): void {
  const internals = limiter as unknown as LimiterInternals;
  need(isEvents(internals.Events), 'Bottleneck.Events._events/trigger');
  need(isEvents(internals._queues?.Events), 'Bottleneck._queues.Events');
  // Before any job: a lock is only swapped while nothing waits in it.
  need(hasSync(internals._submitLock) && hasSync(internals._registerLock), 'Bottleneck._submitLock/_registerLock (Sync)');
  skipUnheardEvents(internals.Events!);
  callQueueListenersDirectly(internals._queues!.Events!);
  if (store === 'redis') heartbeatWhileQueued(internals, internals._queues!.Events!);
  internals._submitLock = new Lock();
  internals._registerLock = new Lock();
  startWithoutClamp(internals);
  if (store === 'local') yieldWithoutClamp(internals._store);
}

/**
 * Run at start-up (and by the limiter before its first limiter): the installed Bottleneck is the
 * pinned release and a throwaway local limiter takes every patch. Throws BottleneckPatchError.
 */
export function checkBottleneck(): void {
  if (installedVersion() !== BOTTLENECK_VERSION) throw new BottleneckPatchError(`version ${BOTTLENECK_VERSION}`);
  const probe = new Bottleneck();
  tuneLimiter(probe, 'local');
  void probe.disconnect(false);
}
