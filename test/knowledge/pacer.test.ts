/**
 * The backfill's pacer on a virtual clock: every call to one workspace's method takes a slot of
 * its own, the retry after a 429 included, and the 429's Retry-After pushes the next slot out, so
 * that what Slack sees stays within the per-method limit. Nothing here waits in real time.
 */
import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { createPacer } from '../../adapters/slack/knowledge.js';

function virtualClock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

const rateLimited = (retryAfter: number) => Object.assign(new Error('rate limited'), { code: webApi.ErrorCode.RateLimitedError, retryAfter });

describe('backfill pacer', () => {
  it('counts the retry after a 429: no two calls of a method closer than the interval, Retry-After honoured', async () => {
    const clock = virtualClock();
    // 60 a minute: one a second.
    const paced = createPacer(60, 3, clock);
    const sent: number[] = [];
    let refuse = 1;
    const call = async () => {
      sent.push(clock.now());
      if (sent.length === 2 && refuse-- > 0) throw rateLimited(2);
      return 'ok';
    };
    for (let i = 0; i < 4; i++) expect(await paced('T1:history', call)).toBe('ok');
    // Call 2 is refused at 1 s; its retry waits Retry-After (2 s) and the next call a full interval after the retry.
    expect(sent).toEqual([0, 1_000, 3_000, 4_000, 5_000]);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
  });

  it('gives up after its retries, and another method or workspace has its own slots', async () => {
    const clock = virtualClock();
    const paced = createPacer(60, 1, clock);
    await expect(paced('T1:history', async () => Promise.reject(rateLimited(1)))).rejects.toThrow('rate limited');
    // Another workspace's first call is not held behind T1's limit.
    const before = clock.now();
    await paced('T2:history', async () => 'ok');
    expect(clock.now()).toBe(before);
    // Not a rate limit: thrown at once, not retried.
    let calls = 0;
    await expect(paced('T3:history', async () => Promise.reject(new Error(`boom ${++calls}`)))).rejects.toThrow('boom 1');
  });
});
