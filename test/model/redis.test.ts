/**
 * Against a real Redis 7 at REDIS_URL (skipped without it, and listed at the end of the run).
 * Each test uses its own key prefix. The database plays no part here (an in-memory ledger stands in).
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { ThrottlingGate } from '../../src/model/gate.js';
import { openSharedRedis, type SharedRedis } from '../../src/limiter/redis-connection.js';
import { FakeOpenAIServer } from '../fakes/openai-server.js';
import { available, describeWith, redisUrl } from '../support/services.js';
import { waitFor } from '../support/wait.js';
import { callOf, fakeScope, gateFor, noSettings, RecordingLogger } from './helpers.js';

const REDIS_URL = available('redis') ? redisUrl() : '';

/** A TCP proxy in front of Redis that a test can cut and restore, to play "Redis went away". */
class CuttableProxy {
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  port = 0;
  /** Bytes the clients sent to Redis through the proxy. */
  bytesToRedis = 0;
  async open(): Promise<void> {
    this.server = createServer((client) => {
      const target = new URL(REDIS_URL);
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => (this.bytesToRedis += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    this.server = null;
  }
}

describeWith('redis', 'model limits shared through Redis 7', () => {
  const server = new FakeOpenAIServer();
  // Made in beforeAll: a skipped block's body still runs (to list its tests), and must not connect.
  let admin: Redis;
  const opened: Array<{ close(): Promise<void> }> = [];
  const shared = (url = REDIS_URL, log = new RecordingLogger()): SharedRedis => {
    const r = openSharedRedis(url, log);
    opened.push(r);
    return r;
  };
  const gates: ThrottlingGate[] = [];
  const prefix = () => `qt${randomBytes(5).toString('hex')}`;
  const deleteKeys = async (pattern: string) => {
    const keys = await admin.keys(pattern);
    if (keys.length > 0) await admin.del(...keys);
    return keys.length;
  };

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
    await server.start();
  });
  afterEach(async () => {
    for (const gate of gates.splice(0)) await gate.close();
    for (const r of opened.splice(0)) await r.close().catch(() => {});
    server.reset();
  });
  afterAll(async () => {
    await server.stop();
    admin.disconnect();
  });

  it("recovers when a running limiter's keys are deleted (plain Bottleneck on Redis 7 does not)", async () => {
    const id = prefix();
    const plainClient = new Redis(REDIS_URL);
    const plain = new Bottleneck({ id: `${id}-plain`, datastore: 'ioredis', connection: new Bottleneck.IORedisConnection({ client: plainClient }) });
    const fixed = new Bottleneck({ id: `${id}-fixed`, datastore: 'ioredis', connection: shared().connection });
    try {
      expect(await plain.schedule(async () => 'one')).toBe('one');
      expect(await fixed.schedule(async () => 'one')).toBe('one');
      expect(await deleteKeys(`b_${id}-*`)).toBeGreaterThan(0);
      // The bug being fixed: Redis 7 says "ERR SETTINGS_KEY_NOT_FOUND" and Bottleneck gives up.
      await expect(plain.schedule(async () => 'two')).rejects.toThrow(/ERR SETTINGS_KEY_NOT_FOUND/);
      expect(await fixed.schedule(async () => 'two')).toBe('two');
      expect(await fixed.schedule(async () => 'three')).toBe('three');
    } finally {
      await plain.disconnect(false);
      await fixed.disconnect(false);
    }
  });

  it('recovers when a second client clears the datastore', async () => {
    const id = prefix();
    const first = new Bottleneck({ id, datastore: 'ioredis', connection: shared().connection, maxConcurrent: 2 });
    expect(await first.schedule(async () => 1)).toBe(1);
    const second = new Bottleneck({ id, datastore: 'ioredis', connection: shared().connection, clearDatastore: true, maxConcurrent: 2 });
    await second.ready();
    // The first client was forgotten (UNKNOWN_CLIENT): it registers again instead of failing forever.
    expect(await first.schedule(async () => 2)).toBe(2);
    expect(await second.schedule(async () => 3)).toBe(3);
    await first.disconnect(false);
    await second.disconnect(false);
  });

  it('two instances share one tokens-per-minute limit (counted per sliding window at the provider)', async () => {
    const id = prefix();
    const scope = fakeScope();
    const tpm = 400;
    server.script = () => ({ kind: 'answer', promptTokens: 5, completionTokens: 'random' });
    const settings = async () => ({ ...noSettings, tpm, concurrency: 16 });
    const a = gateFor(server, { redis: shared(), prefix: id, settings, outputReserveTokens: 50, fallbackModel: null });
    const b = gateFor(server, { redis: shared(), prefix: id, settings, outputReserveTokens: 50, fallbackModel: null });
    gates.push(a, b);
    await waitFor(() => a.limiters.mode() === 'shared' && b.limiters.mode() === 'shared');
    const outcomes = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).generate(callOf(scope, 'p1', 'tpm-shared'))));
    expect(outcomes.every((o) => o.kind === 'answer')).toBe(true);
    expect(server.requests).toHaveLength(16);
    // The gate's window is 1 s in tests ("per minute" scaled down).
    expect(server.busiestTokens(1_000)).toBeLessThanOrEqual(tpm);
  });

  it('two instances share one workspace limit', async () => {
    const id = prefix();
    const scope = fakeScope();
    server.script = () => ({ kind: 'answer', delayMs: 40 });
    const settings = async () => ({ ...noSettings, concurrency: 1 });
    // Two gates with their own Redis connections: two instances of Quorum.
    const a = gateFor(server, { redis: shared(), prefix: id, settings });
    const b = gateFor(server, { redis: shared(), prefix: id, settings });
    gates.push(a, b);
    await waitFor(() => a.limiters.mode() === 'shared' && b.limiters.mode() === 'shared');
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).generate(callOf(scope, 'p1', 'two-instances'))),
    );
    expect(outcomes.every((o) => o.kind === 'answer')).toBe(true);
    expect(server.maxInFlightByTag.get('two-instances')).toBe(1);
    // Control: without Redis, each instance applies the limit on its own.
    server.reset();
    server.script = () => ({ kind: 'answer', delayMs: 100 });
    const c = gateFor(server, { prefix: id, settings });
    const d = gateFor(server, { prefix: id, settings });
    gates.push(c, d);
    await Promise.all(Array.from({ length: 4 }, (_, i) => (i % 2 ? c : d).generate(callOf(scope, 'p1', 'local'))));
    expect(server.maxInFlightByTag.get('local')).toBe(2);
  });

  it('keeps using shared limits after its keys are deleted under it', async () => {
    const id = prefix();
    const log = new RecordingLogger();
    const gate = gateFor(server, { redis: shared(REDIS_URL, log), prefix: id, log });
    gates.push(gate);
    await waitFor(() => gate.limiters.mode() === 'shared');
    const scope = fakeScope();
    expect(await gate.generate(callOf(scope, 'p1', 'del'))).toMatchObject({ kind: 'answer' });
    expect(await deleteKeys(`b_${id}-*`)).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect(await gate.generate(callOf(scope, 'p1', 'del'))).toMatchObject({ kind: 'answer' });
    // Recovered in Redis, not by falling back to local limits.
    expect(log.named('model.limits.local')).toHaveLength(0);
    expect((await admin.keys(`b_${id}-*`)).length).toBeGreaterThan(0);
  });

  it('an idle limiter sends Redis nothing; one with a call waiting in its queue keeps its heartbeat', async () => {
    const proxy = new CuttableProxy();
    await proxy.open();
    const gate = gateFor(server, {
      redis: shared(`redis://127.0.0.1:${proxy.port}`),
      prefix: prefix(),
      settings: async () => ({ ...noSettings, concurrency: 1 }),
    });
    gates.push(gate);
    await waitFor(() => gate.limiters.mode() === 'shared');
    const scope = fakeScope();
    expect(await gate.generate(callOf(scope, 'p1', 'idle'))).toMatchObject({ kind: 'answer' });
    // The helpers' heartbeat is 50 ms: half a second of it would be ten scripts.
    const idleFrom = proxy.bytesToRedis;
    await new Promise((r) => setTimeout(r, 500));
    expect(proxy.bytesToRedis - idleFrom).toBe(0);

    server.script = () => ({ kind: 'answer', delayMs: 800 });
    const calls = [gate.generate(callOf(scope, 'p1', 'busy')), gate.generate(callOf(scope, 'p1', 'busy'))];
    await waitFor(() => server.requests.some((r) => r.tag === 'busy'));
    const waitingFrom = proxy.bytesToRedis;
    await new Promise((r) => setTimeout(r, 300));
    // Only heartbeats go out while the second call waits for the first.
    expect(proxy.bytesToRedis - waitingFrom).toBeGreaterThan(0);
    expect((await Promise.all(calls)).every((o) => o.kind === 'answer')).toBe(true);
    await proxy.cut();
  });

  it('moves calls queued in Redis to local limits when Redis goes away, running each once', async () => {
    const proxy = new CuttableProxy();
    await proxy.open();
    const log = new RecordingLogger();
    const gate = gateFor(server, {
      redis: shared(`redis://127.0.0.1:${proxy.port}`, log),
      prefix: prefix(),
      log,
      settings: async () => ({ ...noSettings, concurrency: 1 }),
    });
    gates.push(gate);
    await waitFor(() => gate.limiters.mode() === 'shared');
    server.script = () => ({ kind: 'answer', delayMs: 300 });
    const scope = fakeScope();
    const calls = Array.from({ length: 3 }, () => gate.generate(callOf(scope, 'p1', 'queued')));
    await waitFor(() => server.requests.some((r) => r.tag === 'queued'));
    await proxy.cut();
    const outcomes = await Promise.all(calls);
    expect(outcomes.every((o) => o.kind === 'answer')).toBe(true);
    // Each call reached the provider exactly once. The local limiter does not know of the call
    // still running under the shared limit, so at the switch one extra call may overlap it.
    expect(server.requests.filter((r) => r.tag === 'queued')).toHaveLength(3);
    expect(server.maxInFlightByTag.get('queued')).toBeLessThanOrEqual(2);
  });

  it('falls back to local limits while Redis is away and returns to shared ones', async () => {
    const proxy = new CuttableProxy();
    await proxy.open();
    const log = new RecordingLogger();
    const redis = shared(`redis://127.0.0.1:${proxy.port}`, log);
    const gate = gateFor(server, { redis, prefix: prefix(), log });
    gates.push(gate);
    const scope = fakeScope();
    await waitFor(() => gate.limiters.mode() === 'shared');
    expect(await gate.generate(callOf(scope, 'p1', 'away'))).toMatchObject({ kind: 'answer' });

    await proxy.cut();
    await waitFor(() => gate.limiters.mode() === 'local');
    expect(await gate.generate(callOf(scope, 'p1', 'away'))).toMatchObject({ kind: 'answer' });
    expect(log.named('model.limits.local').length).toBeGreaterThan(0);

    await proxy.open();
    await waitFor(() => gate.limiters.mode() === 'shared', { timeoutMs: 15_000 });
    expect(await gate.generate(callOf(scope, 'p1', 'away'))).toMatchObject({ kind: 'answer' });
    expect(log.named('model.limits.shared').length).toBeGreaterThan(0);
    await proxy.cut();
  });
});
