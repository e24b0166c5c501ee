/**
 * Connected tools' calls per minute per workspace and connection, counted in Redis so that the
 * limit holds across instances (src/tools/call-guard.ts's SharedRate). A sliding minute on Redis's
 * clock (instances' clocks may differ), one sorted set per key. While Redis is away `take` answers
 * null and the call guard counts on this instance, as the model limiters fall back to local ones.
 */
import { randomUUID } from 'node:crypto';
import { luaScript, runScript, type SharedRedis } from './redis-connection.js';

const WINDOW_MS = 60_000;

/** KEYS[1] the key; ARGV: rpm, window ms, a unique member. 1 when counted, 0 when the minute's allowance is spent. */
const TAKE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

export function redisToolRate(redis: SharedRedis, prefix = 'quorum'): { take(key: string, rpm: number): Promise<boolean | null> } {
  return {
    async take(key, rpm) {
      if (!redis.isUp()) return null;
      try {
        return Number(await runScript(redis.client, TAKE, [`${prefix}:tool-rpm:${key}`], [rpm, WINDOW_MS, randomUUID()])) === 1;
      } catch {
        return null;
      }
    },
  };
}
