/**
 * Bottleneck 2.19.5 (its last release) does a lot per job that the gate does not need; these
 * per-limiter changes remove the cost and keep what a job goes through (submit, register, run,
 * free, on the local or the Redis store). Each one checks that the internal it replaces is there,
 * and leaves the limiter as it is otherwise.
 *
 * Per job with the local store, a noop job: ~140 µs CPU before, ~45 µs after; the 1 ms timer
 * clamp is gone from every job's latency. A Redis limiter no longer costs anything while idle.
 */
import type Bottleneck from 'bottleneck';

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
function yieldWithoutClamp(store: { yieldLoop?: unknown }): void {
  if (typeof store.yieldLoop === 'function') store.yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
}

function isEvents(events: unknown): events is EventsInternals {
  const e = events as Partial<EventsInternals> | undefined;
  return typeof e?.trigger === 'function' && typeof e._events === 'object' && e._events !== null;
}

/** Applies the changes above to one limiter (a group's, when it is created, or a standalone one). */
export function tuneLimiter(limiter: Bottleneck, store: 'local' | 'redis'): void {
  const internals = limiter as unknown as LimiterInternals;
  if (isEvents(internals.Events)) skipUnheardEvents(internals.Events);
  if (isEvents(internals._queues?.Events)) {
    callQueueListenersDirectly(internals._queues.Events);
    if (store === 'redis') heartbeatWhileQueued(internals, internals._queues.Events);
  }
  // Before any job: a lock is only swapped while nothing waits in it.
  if (hasSync(internals._submitLock) && hasSync(internals._registerLock)) {
    internals._submitLock = new Lock();
    internals._registerLock = new Lock();
  }
  startWithoutClamp(internals);
  if (store === 'local' && internals._store) yieldWithoutClamp(internals._store);
}
