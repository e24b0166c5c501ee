/**
 * The invalidation bus over each transport (in-process, PostgreSQL LISTEN/NOTIFY, Redis pub/sub),
 * with two buses standing for two instances: a message reaches the other at once and this one
 * exactly once, a payload of the wrong shape changes nothing, a large change travels as "forget
 * the roster", and a reconnect (messages possibly missed) forgets everything.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { postgresTransport, CHANNEL as PG_CHANNEL } from '../src/bus/postgres.js';
import { redisTransport } from '../src/bus/redis.js';
import { createInvalidationBus, localInvalidationBus, type Invalidation } from '../src/core/invalidation.js';
import type { BusTransport, InvalidationBus } from '../src/core/ports.js';
import { useTestDatabase } from './support/db.js';
import { waitFor } from './support/wait.js';
import { describeWith, redisUrl } from './support/services.js';

const WS = { platform: 'slack' as const, externalId: 'T1' };
const left: Invalidation = { kind: 'members', workspace: WS, channelId: 'C1', added: [], removed: ['U1'] };

function record(bus: InvalidationBus): Invalidation[] {
  const seen: Invalidation[] = [];
  bus.subscribe((m) => seen.push(m));
  return seen;
}

function transportContract(name: string, open: () => BusTransport, raw: (payload: string) => Promise<void>) {
  describe(name, () => {
    it('delivers to the other instance, and to the sender once (before publish resolves)', async () => {
      const [a, b] = [await createInvalidationBus(open()), await createInvalidationBus(open())];
      try {
        const [onA, onB] = [record(a), record(b)];
        await a.publish(left);
        expect(onA).toEqual([left]);
        await waitFor(() => onB.length === 1, { timeoutMs: 5_000, everyMs: 5 });
        expect(onB).toEqual([left]);
        await b.publish({ kind: 'user', workspace: WS, userId: 'U2' });
        await waitFor(() => onA.length === 2, { timeoutMs: 5_000, everyMs: 5 });
        // Nobody hears their own message twice.
        await a.publish({ kind: 'workspace', workspace: WS });
        await waitFor(() => onB.length === 3, { timeoutMs: 5_000, everyMs: 5 });
        expect(onA.map((m) => m.kind)).toEqual(['members', 'user', 'workspace']);
        expect(onB.map((m) => m.kind)).toEqual(['members', 'user', 'workspace']);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('ignores a payload of the wrong shape (another program on the channel), and keeps going', async () => {
      const b = await createInvalidationBus(open());
      try {
        const onB = record(b);
        await raw('not json');
        await raw(JSON.stringify({ origin: 'x', message: { kind: 'members', workspace: WS, channelId: 'C1', added: 'U1' } }));
        await raw(JSON.stringify({ origin: 'x', message: { kind: 'drop_tables' } }));
        await raw(JSON.stringify({ origin: 'x', message: left }));
        await waitFor(() => onB.length === 1, { timeoutMs: 5_000, everyMs: 5 });
        expect(onB).toEqual([left]);
      } finally {
        await b.close();
      }
    });
  });
}

describe('invalidation bus', () => {
  it('in-process: delivers to subscribers at once; a large change becomes "forget the roster"; bad input throws', async () => {
    const bus = localInvalidationBus();
    const seen = record(bus);
    await bus.publish(left);
    await bus.publish({ ...left, removed: Array.from({ length: 500 }, (_, i) => `U${i}`) });
    await bus.publish({ ...left, removed: ['x'.repeat(300)] });
    const dropped = { kind: 'channel', workspace: WS, channelId: 'C1', state: 'unknown' };
    expect(seen).toEqual([left, dropped, dropped]);
    await expect(bus.publish({ kind: 'user', workspace: WS, userId: '' })).rejects.toThrow();
    expect(seen).toHaveLength(3);
  });

  it('forgets everything when the transport reconnects', async () => {
    let reconnect = () => {};
    const bus = await createInvalidationBus({
      start: async (_receive, reconnected) => {
        reconnect = reconnected;
      },
      send: async () => {},
      close: async () => {},
    });
    const seen = record(bus);
    reconnect();
    expect(seen).toEqual([{ kind: 'all' }]);
  });

  it('a transport that cannot send still applies locally (the TTL covers the others)', async () => {
    const bus = await createInvalidationBus({
      start: async () => {},
      send: async () => {
        throw new Error('down');
      },
      close: async () => {},
    });
    const seen = record(bus);
    await bus.publish(left);
    expect(seen).toEqual([left]);
  });

  describeWith('postgres', 'over PostgreSQL', () => {
    const db = useTestDatabase('postgres');
    transportContract(
      'PostgreSQL LISTEN/NOTIFY',
      () => postgresTransport(db().url!),
      async (payload) => {
        const sql = postgres(db().url!, { max: 1, onnotice: () => {} });
        await sql.notify(PG_CHANNEL, payload);
        await sql.end();
      },
    );

    it('PostgreSQL: after the listening connection is cut, listens again and forgets everything', async () => {
      const bus = await createInvalidationBus(postgresTransport(db().url!));
      const admin = postgres(db().url!, { max: 1, onnotice: () => {} });
      try {
        const seen = record(bus);
        await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`;
        await waitFor(() => seen.some((m) => m.kind === 'all'), { timeoutMs: 10_000, everyMs: 20 });
        // And it hears the others again.
        await admin.notify(PG_CHANNEL, JSON.stringify({ origin: 'other', message: left }));
        await waitFor(() => seen.some((m) => m.kind === 'members'), { timeoutMs: 5_000, everyMs: 5 });
      } finally {
        await admin.end();
        await bus.close();
      }
    });
  });

  describeWith('redis', 'over Redis', () => {
    const channel = `quorum:test:${randomUUID()}`;
    transportContract(
      'Redis pub/sub',
      () => redisTransport(redisUrl(), channel),
      async (payload) => {
        const { Redis } = await import('ioredis');
        const client = new Redis(redisUrl());
        await client.publish(channel, payload);
        client.disconnect();
      },
    );
  });
});
