/**
 * A tuned Bottleneck limiter still keeps its limits and still tells its listeners; the limiter's
 * own suite (workspace-limiter.test.ts) and the gate's tests run on tuned limiters too. Each patch
 * has a test below that fails when it is not applied (the Redis ones are in test/model/redis.test.ts:
 * the heartbeat only while queued, and recovery on Redis 7), and a Bottleneck without an internal
 * a patch needs is refused at start-up.
 */
import Bottleneck from 'bottleneck';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BottleneckPatchError, checkBottleneck, Lock, tuneLimiter } from '../../src/limiter/bottleneck-patches.js';
import { checkRedisConnection } from '../../src/limiter/redis-connection.js';

/** The private parts the patches replace, as the tests look at them. */
interface Internals {
  Events: { trigger(name: string): Promise<unknown> };
  _queues: { Events: { trigger(name: string): Promise<unknown> } };
  _submitLock: unknown;
  _registerLock: unknown;
  _store: { yieldLoop(): Promise<void> };
}
const internalsOf = (limiter: Bottleneck) => limiter as unknown as Internals;

describe('each Bottleneck patch is applied', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('events nobody listens to cost nothing (the same settled promise, no dispatch)', async () => {
    const limiter = new Bottleneck();
    tuneLimiter(limiter, 'local');
    const events = internalsOf(limiter).Events;
    expect(events.trigger('received')).toBe(events.trigger('queued'));
    await limiter.disconnect();
  });

  it("the queue's own events call their listeners directly", async () => {
    const limiter = new Bottleneck();
    tuneLimiter(limiter, 'local');
    const events = internalsOf(limiter)._queues.Events;
    expect(events.trigger('leftzero')).toBe(events.trigger('zero'));
    await limiter.disconnect();
  });

  it("submitting and registering go through Quorum's lock", async () => {
    const limiter = new Bottleneck();
    tuneLimiter(limiter, 'local');
    expect(internalsOf(limiter)._submitLock).toBeInstanceOf(Lock);
    expect(internalsOf(limiter)._registerLock).toBeInstanceOf(Lock);
    await limiter.disconnect();
  });

  it('the local store yields without a clamped timer', async () => {
    const limiter = new Bottleneck();
    tuneLimiter(limiter, 'local');
    const timers = vi.spyOn(globalThis, 'setTimeout');
    await internalsOf(limiter)._store.yieldLoop();
    expect(timers).not.toHaveBeenCalled();
    await limiter.disconnect();
  });

  it('a job with nothing to wait for starts without any timer (no 1 ms clamp)', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 2 });
    tuneLimiter(limiter, 'local');
    const timers = vi.spyOn(globalThis, 'setTimeout');
    expect(await limiter.schedule(async () => 'ran')).toBe('ran');
    expect(timers).not.toHaveBeenCalled();
    await limiter.disconnect();
  });

  it('refuses a Bottleneck whose internals moved, naming the internal', () => {
    const moved = new Bottleneck();
    delete (moved as unknown as Record<string, unknown>)._submitLock;
    expect(() => tuneLimiter(moved, 'local')).toThrow(BottleneckPatchError);
    const noRun = new Bottleneck();
    (noRun as unknown as Record<string, unknown>)._run = undefined;
    expect(() => tuneLimiter(noRun, 'local')).toThrow(/_run/);
    const noYield = new Bottleneck();
    internalsOf(noYield)._store = {} as Internals['_store'];
    expect(() => tuneLimiter(noYield, 'local')).toThrow(/yieldLoop/);
  });

  it('the start-up checks pass on the pinned release and refuse another version', () => {
    expect(() => checkBottleneck()).not.toThrow();
    expect(() => checkRedisConnection()).not.toThrow();
    const real = (Bottleneck as unknown as { version: string }).version;
    try {
      (Bottleneck as unknown as { version: string }).version = '2.19.6';
      expect(() => checkBottleneck()).toThrow(/2\.19\.6/);
    } finally {
      (Bottleneck as unknown as { version: string }).version = real;
    }
  });
});

describe('tuned Bottleneck limiters', () => {
  it('hold maxConcurrent, run jobs in order, and events with listeners still fire', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1 });
    tuneLimiter(limiter, 'local');
    const events: string[] = [];
    limiter.on('done', () => events.push('done'));
    limiter.on('idle', () => events.push('idle'));
    let running = 0;
    let peak = 0;
    let started = 0;
    const job = async () => {
      const n = ++started;
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return n;
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => limiter.schedule(job)));
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(1);
    expect(events.filter((e) => e === 'done')).toHaveLength(5);
    await new Promise((r) => setImmediate(r));
    expect(events).toContain('idle');
    await limiter.disconnect();
  });

  it('a debug listener still hears every event', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 2 });
    tuneLimiter(limiter, 'local');
    const debug: string[] = [];
    limiter.on('debug', (message: string) => debug.push(message));
    expect(await limiter.schedule(async () => 'ok')).toBe('ok');
    expect(debug).toEqual(expect.arrayContaining(['Event triggered: received', 'Event triggered: queued', 'Event triggered: executing', 'Event triggered: done']));
    await limiter.disconnect();
  });

  it('a job that fails rejects its caller, and the limiter goes on', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1 });
    tuneLimiter(limiter, 'local');
    await expect(limiter.schedule(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.schedule(async () => 'after')).toBe('after');
    await limiter.disconnect();
  });

  it('the lock that replaces Bottleneck\'s runs one task at a time, in order, past a task that fails', async () => {
    const lock = new Lock();
    const log: string[] = [];
    let inside = 0;
    const task = (name: string, fail = false) => async () => {
      if (++inside > 1) log.push('overlap');
      log.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${name}`);
      inside--;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([lock.schedule(task('a')), lock.schedule(task('b', true)), lock.schedule(() => 'sync c'), lock.schedule(task('d'))]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a', 'b', 'sync c', 'd']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start d', 'end d']);
    expect(lock.isEmpty()).toBe(true);
  });
});
