/**
 * Tokens per sliding minute per workspace (`/agent limit tpm N`), beside Bottleneck's requests per
 * minute (which has no notion of a call's size). A call takes a ticket for the most it can use
 * (prompt + its maximum output) before it is sent; settling puts in the real count, which stays
 * counted for one window from the call's end. Counted from before the request until a window after
 * its answer, every pair of calls that reach the provider within one window were counted together
 * when the later one was let through, so no sliding window at the provider holds more than the limit.
 *
 * Local (one process) or in Redis (every instance), falling back to local while Redis is away as
 * the request limiters do. An entry of a process that died expires after window + lease.
 */
import { randomUUID } from 'node:crypto';
import { luaScript, runScript, type SharedRedis } from './redis-connection.js';

export interface TokenTicket {
  /** The call ended: count `tokens` (its real use) for one window from now. */
  settle(tokens: number): Promise<void>;
}

export interface TokenWindow {
  /** Waits until `tokens` fit within `limit` per window, then counts them. `tokens` must not exceed `limit`. */
  acquire(workspaceId: string, tokens: number, limit: number, signal?: AbortSignal): Promise<TokenTicket>;
}

export interface TokenWindowOptions {
  windowMs: number;
  /** The longest a call may hold its ticket before it counts as abandoned. */
  leaseMs: number;
  redis?: SharedRedis | undefined;
  prefix: string;
}

interface Entry {
  tokens: number;
  expiresAt: number;
}

/** Waits `ms` or until the signal fires. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(timer);
      if (signal?.aborted) reject(signal.reason as Error);
      else resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function localWindow(options: TokenWindowOptions) {
  const byWorkspace = new Map<string, Entry[]>();
  const wakers = new Map<string, Set<() => void>>();
  const wake = (ws: string) => {
    for (const w of wakers.get(ws) ?? []) w();
  };
  /** 0 when counted, else how long until enough of the window frees up. */
  function tryTake(ws: string, tokens: number, limit: number): { wait: number; entry?: Entry } {
    const now = Date.now();
    const live = (byWorkspace.get(ws) ?? []).filter((e) => e.expiresAt > now);
    const used = live.reduce((sum, e) => sum + e.tokens, 0);
    if (used + tokens <= limit) {
      const entry = { tokens, expiresAt: now + options.windowMs + options.leaseMs };
      live.push(entry);
      byWorkspace.set(ws, live);
      return { wait: 0, entry };
    }
    if (live.length === 0) byWorkspace.delete(ws);
    else byWorkspace.set(ws, live);
    let excess = used + tokens - limit;
    for (const e of [...live].sort((a, b) => a.expiresAt - b.expiresAt)) {
      excess -= e.tokens;
      if (excess <= 0) return { wait: Math.max(1, e.expiresAt - now) };
    }
    return { wait: options.windowMs };
  }
  return {
    async acquire(ws: string, tokens: number, limit: number, signal?: AbortSignal): Promise<TokenTicket> {
      for (;;) {
        const taken = tryTake(ws, tokens, limit);
        if (taken.entry) {
          const entry = taken.entry;
          return {
            settle: async (real) => {
              entry.tokens = real;
              entry.expiresAt = Date.now() + options.windowMs;
              wake(ws);
            },
          };
        }
        // A settle (a call that used less than it took) can make room before the next expiry.
        const controller = new AbortController();
        const set = wakers.get(ws) ?? new Set();
        wakers.set(ws, set);
        const waker = () => controller.abort();
        set.add(waker);
        try {
          await pause(taken.wait, signal ? AbortSignal.any([signal, controller.signal]) : controller.signal).catch((err: unknown) => {
            if (signal?.aborted) throw err;
          });
        } finally {
          set.delete(waker);
          if (set.size === 0) wakers.delete(ws);
        }
      }
    },
  };
}

/**
 * One window per workspace in three keys on Redis's clock (instances' clocks may differ): HASH
 * id -> tokens, ZSET id by expiry, and the running total. A call costs its own entry and the
 * entries that expired since the last call, not a scan of the whole window; only a call that does
 * not fit walks the entries (oldest first) to say how long until it would.
 */
const EXPIRE_PASSED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local total = tonumber(redis.call('GET', KEYS[3]) or '0')
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(gone) do
  total = total - tonumber(redis.call('HGET', KEYS[1], id) or '0')
  redis.call('HDEL', KEYS[1], id)
end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
if redis.call('ZCARD', KEYS[2]) == 0 then total = 0 end
`;

const KEEP = (ttl: string) => `
redis.call('SET', KEYS[3], total, 'KEEPTTL')
for i = 1, 3 do if redis.call('PTTL', KEYS[i]) < tonumber(${ttl}) then redis.call('PEXPIRE', KEYS[i], ${ttl}) end end
`;

/** ARGV: id, tokens wanted, limit, hold ms. 0 when counted, else ms until it would fit. */
const ACQUIRE = luaScript(`${EXPIRE_PASSED}
local want = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if total + want <= limit then
  redis.call('HSET', KEYS[1], ARGV[1], want)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
  total = total + want
  ${KEEP('ARGV[4]')}
  return 0
end
if #gone > 0 then
  redis.call('SET', KEYS[3], total, 'KEEPTTL')
  if redis.call('PTTL', KEYS[3]) < 0 then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
end
local excess = total + want - limit
local live = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #live, 2 do
  excess = excess - tonumber(redis.call('HGET', KEYS[1], live[i]) or '0')
  if excess <= 0 then return math.max(1, tonumber(live[i + 1]) - now) end
end
return tonumber(ARGV[4])
`);

/** ARGV: id, real tokens, window ms: the entry now counts its real use for one window from now. */
const SETTLE = luaScript(`${EXPIRE_PASSED}
local had = redis.call('HGET', KEYS[1], ARGV[1])
if not had then return 0 end
total = total - tonumber(had) + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
${KEEP('ARGV[3]')}
return 1
`);

export function createTokenWindow(options: TokenWindowOptions): TokenWindow {
  const local = localWindow(options);
  const redis = options.redis;
  if (!redis) return local;
  const hold = options.windowMs + options.leaseMs;
  // Another instance's settle can free room: look again at least this often.
  const poll = Math.max(5, Math.floor(options.windowMs / 20));
  return {
    async acquire(ws, tokens, limit, signal) {
      // One hash slot for the three keys (a cluster runs the script on one node).
      const base = `{${options.prefix}:tpm:${ws}}`;
      const keys = [`${base}:tokens`, `${base}:expiry`, `${base}:total`];
      const id = randomUUID();
      for (;;) {
        if (!redis.isUp()) return local.acquire(ws, tokens, limit, signal);
        let wait: number;
        try {
          wait = Number(await runScript(redis.client, ACQUIRE, keys, [id, tokens, limit, hold]));
        } catch {
          return local.acquire(ws, tokens, limit, signal);
        }
        if (wait === 0) {
          return {
            settle: async (real) => {
              await runScript(redis.client, SETTLE, keys, [id, real, options.windowMs]).catch(() => undefined);
            },
          };
        }
        await pause(Math.min(wait, poll), signal);
      }
    },
  };
}
