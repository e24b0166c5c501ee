import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busiestWindow } from '../fakes/openai-server.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { callOf, gateFor, useFakeProvider, workspaceIn } from './helpers.js';

// Limits are per second here (windowMs 1000) so that "rpm" 5 means 5 calls a second.
describe.each(drivers)('per-workspace limits from workspace_settings (%s)', (driver) => {
  let db: TestDatabase;
  const { server, track } = useFakeProvider();
  const newGate = (options: Parameters<typeof gateFor>[1] = {}) =>
    track(gateFor(server, { settings: (scope) => workspaceInDb.turns.settings(scope), ...options }));
  let workspaceInDb: Awaited<ReturnType<typeof workspaceIn>>;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    workspaceInDb = await workspaceIn(db.db, 'limits');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('holds the workspace concurrency, and a changed settings row applies to the next call', async () => {
    const ws = await workspaceIn(db.db, 'conc');
    server.script = () => ({ kind: 'answer', delayMs: 150 });
    const gate = newGate({ settings: (scope) => ws.turns.settings(scope) });

    await ws.setSettings({ concurrency: 1 });
    const first = await Promise.all(Array.from({ length: 4 }, () => gate.generate(callOf(ws.scope, ws.principalId, 'conc-1'))));
    expect(first.every((o) => o.kind === 'answer')).toBe(true);
    expect(server.maxInFlightByTag.get('conc-1')).toBe(1);

    // What `/agent limit concurrency 3` writes; no restart, no cache to wait for.
    await ws.setSettings({ concurrency: 3 });
    await Promise.all(Array.from({ length: 9 }, () => gate.generate(callOf(ws.scope, ws.principalId, 'conc-3'))));
    expect(server.maxInFlightByTag.get('conc-3')).toBe(3);
  });

  it('holds the workspace rate, and a changed rate applies to the next call', async () => {
    const ws = await workspaceIn(db.db, 'rate');
    const gate = newGate({ settings: (scope) => ws.turns.settings(scope) });

    await ws.setSettings({ rpm: 5, concurrency: 10 });
    await gate.generate(callOf(ws.scope, ws.principalId, 'warm-up'));
    await Promise.all(Array.from({ length: 7 }, () => gate.generate(callOf(ws.scope, ws.principalId, 'rate-5'))));
    const slow = server.requests.filter((r) => r.tag === 'rate-5').map((r) => r.at);
    // minTime spacing (200 ms) means 6 arrivals span at least 1000 ms. The window is 300 ms shorter so
    // that one arrival delayed by a busy event loop (the fake server shares the process) cannot fail it.
    expect(busiestWindow(slow, 700)).toBeLessThanOrEqual(5);

    await ws.setSettings({ rpm: 1000 });
    await Promise.all(Array.from({ length: 7 }, () => gate.generate(callOf(ws.scope, ws.principalId, 'rate-1000'))));
    const fast = server.requests.filter((r) => r.tag === 'rate-1000').map((r) => r.at);
    expect(busiestWindow(fast, 700)).toBeGreaterThan(5);
  });

  it('keeps a flooding workspace from pushing a quiet one behind its queue', async () => {
    const noisy = await workspaceIn(db.db, 'noisy');
    const quiet = await workspaceIn(db.db, 'quiet');
    const settings = async (scope: { workspaceId: string }) =>
      scope.workspaceId === noisy.scope.workspaceId ? noisy.turns.settings(noisy.scope) : quiet.turns.settings(quiet.scope);
    await noisy.setSettings({ concurrency: 2 });
    await quiet.setSettings({ concurrency: 2 });
    server.script = () => ({ kind: 'answer', delayMs: 20 });
    // The provider allows 2 at a time for everyone together.
    const gate = newGate({ settings, global: { concurrency: 2 } });

    const flood = Array.from({ length: 40 }, () => gate.generate(callOf(noisy.scope, noisy.principalId, 'noisy')));
    // Let the flood get going before the quiet workspace asks.
    await new Promise<void>((resolve) => {
      const check = () => (server.requests.some((r) => r.tag === 'noisy') ? resolve() : setTimeout(check, 5));
      check();
    });
    const quietCalls = Array.from({ length: 3 }, () => gate.generate(callOf(quiet.scope, quiet.principalId, 'quiet')));
    await Promise.all([...flood, ...quietCalls]);

    const order = server.requests.filter((r) => r.tag === 'noisy' || r.tag === 'quiet').map((r) => r.tag);
    const lastQuiet = order.lastIndexOf('quiet');
    // Without the per-workspace cap the quiet calls would queue behind ~38 noisy ones. With it, the
    // noisy workspace holds at most 2 places in the provider's queue, so each quiet call waits for
    // at most a couple of noisy calls.
    expect(lastQuiet).toBeLessThan(12);
    expect(server.maxInFlightByTag.get('noisy')).toBeLessThanOrEqual(2);
    expect(server.maxInFlightByTag.get('quiet')).toBeLessThanOrEqual(2);
    expect(server.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('tells a caller who waits in the queue their place', async () => {
    const ws = await workspaceIn(db.db, 'queue');
    await ws.setSettings({ concurrency: 1 });
    server.script = () => ({ kind: 'answer', delayMs: 400 });
    const lengths: number[] = [];
    const waits: number[] = [];
    const observer = { queueLength: (n: number) => lengths.push(n), waited: (s: number) => waits.push(s) };
    const gate = newGate({ settings: (scope) => ws.turns.settings(scope), queueNoticeMs: 100, observer });
    const positions: number[] = [];
    await Promise.all(
      Array.from({ length: 3 }, () =>
        gate.generate(callOf(ws.scope, ws.principalId, 'queue', { onQueued: (p) => positions.push(p) })),
      ),
    );
    // The two behind the first one are told their places (on a slow machine the first may be told too).
    expect(positions).toEqual(expect.arrayContaining([1, 2]));
    expect(new Set(positions).size).toBe(positions.length);
    // The /metrics gauges are fed: a queue that grew to at least 2 and emptied, and 3 waits.
    expect(Math.max(...lengths)).toBeGreaterThanOrEqual(2);
    expect(lengths.at(-1)).toBe(0);
    expect(waits).toHaveLength(3);
  });
});
