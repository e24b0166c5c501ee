/**
 * Bottleneck's ioredis connection, fixed for Redis 7 and watched for outages.
 *
 * Redis 7 prefixes errors raised by Lua scripts with "ERR " ("ERR SETTINGS_KEY_NOT_FOUND").
 * Bottleneck compares the message exactly, so its recovery (re-init the limiter when its keys
 * vanished, re-register the client when another client cleared the datastore) never runs and
 * every later job fails for good. The subclass strips the prefix for those two codes before
 * Bottleneck's own handler sees the error; nothing else in Bottleneck is touched.
 */
import { createHash } from 'node:crypto';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import type { Logger } from '../core/ports.js';
import { BottleneckPatchError } from './bottleneck-patches.js';

const RECOVERABLE = /^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)\b/;

/** Exported for tests: the message Bottleneck expects, from what Redis 6 or 7 sends. */
export function normalizeScriptError(err: Error): Error {
  const match = RECOVERABLE.exec(err.message);
  if (match?.[1]) err.message = match[1];
  return err;
}

type ScriptCallback = (err: Error | null, replies: unknown) => void;

// The constructor is typed in bottleneck.d.ts; __scriptArgs__ is internal, hence the casts.
interface ConnectionInternals {
  terminated: boolean;
  subscriber: Redis;
  limiters: Record<string, unknown>;
}

const overridden = Bottleneck.IORedisConnection.prototype as unknown as Record<string, unknown>;

/** Both overrides replace methods Bottleneck 2.19.5 has: fail loudly if they moved. */
export function checkRedisConnection(): void {
  for (const method of ['__removeLimiter__', '__scriptArgs__']) {
    if (typeof overridden[method] !== 'function') throw new BottleneckPatchError(`IORedisConnection.prototype.${method}`);
  }
}

function checkConnectionFields(connection: unknown): void {
  const self = connection as Partial<ConnectionInternals>;
  if (typeof self.terminated !== 'boolean' || typeof self.subscriber?.unsubscribe !== 'function' || typeof self.limiters !== 'object') {
    throw new BottleneckPatchError('IORedisConnection terminated/subscriber/limiters');
  }
}

class Redis7Connection extends Bottleneck.IORedisConnection {
  /**
   * Bottleneck unsubscribes without handling the promise; with Redis away (an idle workspace's
   * limiter expiring, or shutdown) that is an unhandled rejection, which ends a Node process.
   */
  __removeLimiter__(instance: { channel(): string; channel_client(): string }): void {
    const self = this as unknown as ConnectionInternals;
    for (const channel of [instance.channel(), instance.channel_client()]) {
      if (!self.terminated) self.subscriber.unsubscribe(channel).catch(() => {});
      delete self.limiters[channel];
    }
  }

  __scriptArgs__(name: string, id: string, args: unknown[], cb: ScriptCallback): unknown[] {
    const base = Bottleneck.IORedisConnection.prototype as unknown as {
      __scriptArgs__(name: string, id: string, args: unknown[], cb: ScriptCallback): unknown[];
    };
    return base.__scriptArgs__.call(this, name, id, args, (err, replies) =>
      cb(err ? normalizeScriptError(err) : null, replies),
    );
  }
}

export interface SharedRedis {
  connection: Bottleneck.IORedisConnection;
  client: Redis;
  /** True while the client is connected; the gate uses local limits otherwise. */
  isUp(): boolean;
  /** Calls `listener` the next time the connection drops; returns an unsubscribe. */
  onceDown(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * One Redis client (plus the subscriber Bottleneck duplicates from it). Commands fail at once
 * while disconnected (no offline queue), so a call never hangs on a Redis that is gone; the
 * gate then falls back to local limits and returns to shared ones on `ready`.
 */
export function openSharedRedis(url: string, log: Logger): SharedRedis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Keep trying to come back, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  });
  let up = false;
  let warned = false;
  const downListeners = new Set<() => void>();
  client.on('ready', () => {
    up = true;
    if (warned) log.info({ event: 'model.limits.shared' }, 'Redis is back: model limits are shared again');
    warned = false;
  });
  const down = () => {
    up = false;
    for (const listener of [...downListeners]) listener();
    downListeners.clear();
    if (!warned) log.warn({ event: 'model.limits.local' }, 'Redis is unreachable: model limits are per instance until it is back');
    warned = true;
  };
  client.on('close', down);
  client.on('end', down);
  // ioredis reports connection errors here too; 'close' carries the state change.
  client.on('error', () => {});
  checkRedisConnection();
  const connection = new Redis7Connection({ client } as Bottleneck.IORedisConnectionOptions);
  checkConnectionFields(connection);
  return {
    connection,
    client,
    isUp: () => up && client.status === 'ready',
    onceDown(listener) {
      downListeners.add(listener);
      return () => downListeners.delete(listener);
    },
    async close() {
      await connection.disconnect(false);
    },
  };
}

/** A Lua script and its SHA-1, so that each call sends the digest (EVALSHA), not the script. */
export interface LuaScript {
  lua: string;
  sha: string;
}

export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** Runs a script by its digest, and sends it whole only when Redis does not have it yet (a new or restarted server). */
export async function runScript(client: Redis, script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}
