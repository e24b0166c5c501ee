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
import type { SharedRedis } from './redis-connection.js';

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

/** HASH id -> "tokens:expiresAtMs", on Redis's clock (instances' clocks may differ). */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local used = 0
local live = {}
for i = 1, #all, 2 do
  local tok, exp = string.match(all[i + 1], '^(%d+):(%d+)$')
  tok = tonumber(tok)
  exp = tonumber(exp)
  if exp <= now then redis.call('HDEL', KEYS[1], all[i]) else used = used + tok; live[#live + 1] = { exp, tok } end
end
local want = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if used + want <= limit then
  redis.call('HSET', KEYS[1], ARGV[1], want .. ':' .. (now + tonumber(ARGV[4])))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 0
end
table.sort(live, function(a, b) return a[1] < b[1] end)
local excess = used + want - limit
for _, e in ipairs(live) do
  excess = excess - e[2]
  if excess <= 0 then return math.max(1, e[1] - now) end
end
return tonumber(ARGV[4])
`;

const SETTLE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + tonumber(ARGV[3])))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;

export function createTokenWindow(options: TokenWindowOptions): TokenWindow {
  const local = localWindow(options);
  const redis = options.redis;
  if (!redis) return local;
  const hold = options.windowMs + options.leaseMs;
  // Another instance's settle can free room: look again at least this often.
  const poll = Math.max(5, Math.floor(options.windowMs / 20));
  return {
    async acquire(ws, tokens, limit, signal) {
      const key = `${options.prefix}:tpm:${ws}`;
      const id = randomUUID();
      for (;;) {
        if (!redis.isUp()) return local.acquire(ws, tokens, limit, signal);
        let wait: number;
        try {
          wait = Number(await redis.client.eval(ACQUIRE, 1, key, id, tokens, limit, hold));
        } catch {
          return local.acquire(ws, tokens, limit, signal);
        }
        if (wait === 0) {
          return {
            settle: async (real) => {
              await redis.client.eval(SETTLE, 1, key, id, real, options.windowMs).catch(() => undefined);
            },
          };
        }
        await pause(Math.min(wait, poll), signal);
      }
    },
  };
}
