/**
 * A tuned Bottleneck limiter still keeps its limits and still tells its listeners; the gate's
 * own tests (limits and rates, fairness, Redis) run on tuned limiters too.
 */
import Bottleneck from 'bottleneck';
import { describe, expect, it } from 'vitest';
import { Lock, tuneLimiter } from '../../src/model/bottleneck-tuning.js';

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
