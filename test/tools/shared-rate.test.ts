/**
 * The connected tools' calls-per-minute limit shared through Redis (src/limiter/tool-rate.ts):
 * two instances' call guards, each with its own Redis connection, draw on one allowance per
 * workspace and connection; with Redis away each counts on its own, as the model limiters do.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { luaScript, openSharedRedis, runScript, type SharedRedis } from '../../src/limiter/redis-connection.js';
import { redisToolRate } from '../../src/limiter/tool-rate.js';
import { CallGuards, type GuardLimits } from '../../src/tools/call-guard.js';
import { RecordingLogger } from '../model/helpers.js';
import { describeWith, redisUrl } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const LIMITS: GuardLimits = { concurrency: 4, rpm: 3, breakerFailures: 3, breakerOpenMs: 30_000 };
const call = (guards: CallGuards, key: string) => guards.run(key, async () => 'ran');

describeWith('redis', 'connected tools: one rate limit across instances (Redis)', () => {
  const open: SharedRedis[] = [];
  const connect = async () => {
    const redis = openSharedRedis(redisUrl(), new RecordingLogger());
    open.push(redis);
    await waitFor(() => redis.isUp(), { timeoutMs: 5_000 });
    return redis;
  };
  afterAll(async () => {
    for (const r of open) await r.close();
  });

  it('two instances share one allowance per workspace and connection; other keys keep their own', async () => {
    const prefix = `t-${randomBytes(4).toString('hex')}`;
    const a = new CallGuards(LIMITS, redisToolRate(await connect(), prefix));
    const b = new CallGuards(LIMITS, redisToolRate(await connect(), prefix));
    expect(await call(a, 'ws1/wiki')).toEqual({ ok: true, value: 'ran' });
    expect(await call(b, 'ws1/wiki')).toEqual({ ok: true, value: 'ran' });
    expect(await call(a, 'ws1/wiki')).toEqual({ ok: true, value: 'ran' });
    // Three calls this minute on the two together: the fourth is refused on either.
    expect(await call(b, 'ws1/wiki')).toEqual({ ok: false, reason: 'busy', detail: 'rate' });
    expect(await call(a, 'ws1/wiki')).toEqual({ ok: false, reason: 'busy', detail: 'rate' });
    // Another connection, another workspace: allowances of their own.
    expect(await call(b, 'ws1/tracker')).toEqual({ ok: true, value: 'ran' });
    expect(await call(b, 'ws2/wiki')).toEqual({ ok: true, value: 'ran' });
  });

  it('with Redis away, each instance counts its own calls (and still limits them)', async () => {
    const redis = await connect();
    const prefix = `t-${randomBytes(4).toString('hex')}`;
    const a = new CallGuards(LIMITS, redisToolRate(redis, prefix));
    expect(await call(a, 'ws1/wiki')).toEqual({ ok: true, value: 'ran' });
    await redis.close();
    await waitFor(() => !redis.isUp(), { timeoutMs: 5_000 });
    // Local from here: its own three calls this minute, then refused.
    for (let i = 0; i < 3; i++) expect(await call(a, 'ws1/wiki')).toEqual({ ok: true, value: 'ran' });
    expect(await call(a, 'ws1/wiki')).toEqual({ ok: false, reason: 'busy', detail: 'rate' });
  });
});

describeWith('redis', 'Lua scripts by digest (Redis)', () => {
  it('sends a script Redis does not know yet once in full, then by its digest', async () => {
    const redis = openSharedRedis(redisUrl(), new RecordingLogger());
    try {
      await waitFor(() => redis.isUp(), { timeoutMs: 5_000 });
      // A script no server has seen: its first run meets NOSCRIPT and falls back to EVAL.
      const script = luaScript(`-- ${randomBytes(8).toString('hex')}\nreturn ARGV[1] .. KEYS[1]`);
      expect(await redis.client.script('EXISTS', script.sha)).toEqual([0]);
      expect(await runScript(redis.client, script, ['k'], ['v-'])).toBe('v-k');
      expect(await redis.client.script('EXISTS', script.sha)).toEqual([1]);
      expect(await runScript(redis.client, script, ['k2'], ['w-'])).toBe('w-k2');
      // An error of the script itself is not taken for a missing script.
      await expect(runScript(redis.client, luaScript(`-- ${randomBytes(8).toString('hex')}\nreturn redis.call('NOSUCHCOMMAND')`), ['k'], [])).rejects.toThrow(/Unknown Redis command|ERR/);
    } finally {
      await redis.close();
    }
  });
});
