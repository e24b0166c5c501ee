/**
 * One suite for every WorkspaceLimiter: the local one and the one shared through Redis 7 (at
 * REDIS_URL, each test under its own key prefix; skipped without it, and listed at the end of the run). "rpm" is per second here (windowMs 1000).
 * Assertions are on order and counts; the one on spacing is a lower bound, which a slow machine
 * only makes easier to meet.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createWorkspaceLimiter, type LimiterOptions } from '../../src/limiter/bottleneck-limiter.js';
import { openSharedRedis, type SharedRedis } from '../../src/limiter/redis-connection.js';
import type { WorkspaceLimiter } from '../../src/limiter/workspace-limiter.js';
import { waitFor } from '../support/wait.js';
import { RecordingLogger } from '../model/helpers.js';
import { available, needsMark, redisUrl } from '../support/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stores = ['local', 'redis'] as const;

describe.each(stores)('WorkspaceLimiter (%s)', (store) => {
  // The Redis variant needs Redis: the whole suite body is declared only where it is there.
  if (store === 'redis' && !available('redis')) {
    it.skip(`needs Redis ${needsMark('redis')}`, () => {});
    return;
  }
  const open: WorkspaceLimiter[] = [];
  let redis: SharedRedis | undefined;
  const limiterWith = async (global: LimiterOptions['global'] = {}): Promise<WorkspaceLimiter> => {
    if (store === 'redis') redis ??= openSharedRedis(redisUrl(), new RecordingLogger());
    const limiter = createWorkspaceLimiter({
      provider: 'test',
      global,
      windowMs: 1_000,
      idleMs: 60_000,
      redis,
      prefix: `t-${randomBytes(4).toString('hex')}`,
      heartbeatMs: 50,
      log: new RecordingLogger(),
    });
    open.push(limiter);
    if (store === 'redis') await waitFor(() => limiter.mode() === 'shared');
    return limiter;
  };
  afterEach(async () => {
    for (const limiter of open.splice(0)) await limiter.close();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it(`runs on ${store === 'local' ? "this instance's own" : 'shared'} limits`, async () => {
    const limiter = await limiterWith();
    expect(limiter.mode()).toBe(store === 'local' ? 'local' : 'shared');
  });

  it("holds a workspace's concurrency, and runs every job once with its own result", async () => {
    const limiter = await limiterWith();
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        limiter.schedule('ws-a', { rpm: 10_000, concurrency: 2 }, async () => {
          peak = Math.max(peak, ++running);
          await sleep(20);
          running--;
          return n;
        }),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(2);
  });

  it('spaces starts by the rate (a lower bound: window / rpm apart)', async () => {
    const limiter = await limiterWith();
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 4 }, () => limiter.schedule('ws-r', { rpm: 10, concurrency: 10 }, async () => void starts.push(performance.now()))));
    // Over the three gaps together (one late callback shortens one gap and lengthens the next): 3 × 100 ms, less timer jitter.
    expect(starts).toHaveLength(4);
    expect(starts[3]! - starts[0]!).toBeGreaterThanOrEqual(270);
  });

  it('reports how many jobs of a workspace wait on this instance, and none once they ran', async () => {
    const limiter = await limiterWith();
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const jobs = Array.from({ length: 4 }, () => limiter.schedule('ws-q', { rpm: 10_000, concurrency: 1 }, () => gate));
    await waitFor(() => limiter.queued('ws-q') === 3);
    expect(limiter.queued('ws-other')).toBe(0);
    release();
    await Promise.all(jobs);
    expect(limiter.queued('ws-q')).toBe(0);
  });

  it('a failing job rejects its caller only, and the workspace goes on', async () => {
    const limiter = await limiterWith();
    const limits = { rpm: 10_000, concurrency: 1 };
    await expect(limiter.schedule('ws-e', limits, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.schedule('ws-e', limits, async () => 'after')).toBe('after');
    expect(limiter.queued('ws-e')).toBe(0);
  });

  it('keeps a flooding workspace from pushing a quiet one behind its queue under a shared provider limit', async () => {
    const limiter = await limiterWith({ concurrency: 1 });
    const order: string[] = [];
    const job = (tag: string) => async () => {
      order.push(tag);
      await sleep(10);
    };
    const flood = Array.from({ length: 20 }, (_, n) => limiter.schedule('ws-flood', { rpm: 10_000, concurrency: 2 }, job(`flood-${n}`)));
    await waitFor(() => order.length >= 1);
    const quiet = limiter.schedule('ws-quiet', { rpm: 10_000, concurrency: 2 }, job('quiet'));
    await Promise.all([...flood, quiet]);
    // The flood holds at most its concurrency (2) places in the provider's queue.
    expect(order.indexOf('quiet')).toBeLessThanOrEqual(order.indexOf('flood-0') + 4);
    expect(order).toHaveLength(21);
  });

  it('applies changed limits to the next job', async () => {
    const limiter = await limiterWith();
    let running = 0;
    let peak = 0;
    const job = async () => {
      peak = Math.max(peak, ++running);
      await sleep(20);
      running--;
    };
    await Promise.all(Array.from({ length: 4 }, () => limiter.schedule('ws-c', { rpm: 10_000, concurrency: 1 }, job)));
    expect(peak).toBe(1);
    peak = 0;
    await Promise.all(Array.from({ length: 9 }, () => limiter.schedule('ws-c', { rpm: 10_000, concurrency: 3 }, job)));
    expect(peak).toBe(3);
  });
});
