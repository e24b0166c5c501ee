/**
 * The rules cache's own edges (the behaviour through the service is in governed-call.test.ts):
 * one read per workspace until a change, a read that fails or that a change overtook is not kept,
 * bounded, and the bus's messages applied.
 */
import { describe, expect, it } from 'vitest';
import type { Scope } from '../../src/core/identity.js';
import { localInvalidationBus } from '../../src/core/invalidation.js';
import type { ConnectedToolRule } from '../../src/core/ports.js';
import { createRulesCache } from '../../src/tools/rules-cache.js';

const scope = (workspaceId: string) => ({ workspaceId }) as Scope;
const allow = (pattern: string): ConnectedToolRule => ({ channel: '*', pattern, allowed: true, guests: false });

function counted(answer: (ws: string, n: number) => Promise<ConnectedToolRule[]> = async (ws, n) => [allow(`${ws}.v${n}`)]) {
  const reads = new Map<string, number>();
  const load = (s: Scope) => {
    const n = (reads.get(s.workspaceId) ?? 0) + 1;
    reads.set(s.workspaceId, n);
    return answer(s.workspaceId, n);
  };
  return { reads, load };
}

describe('connected-tool rules cache', () => {
  it('reads each workspace once until its rules change, then reads again', async () => {
    const { reads, load } = counted();
    const cache = createRulesCache(load, { ttlMs: 60_000, maxWorkspaces: 10 });
    await Promise.all([cache.of(scope('a')), cache.of(scope('a')), cache.of(scope('b'))]);
    expect(await cache.of(scope('a'))).toEqual([allow('a.v1')]);
    expect(reads).toEqual(new Map([['a', 1], ['b', 1]]));
    await cache.changed(scope('a'));
    expect(await cache.of(scope('a'))).toEqual([allow('a.v2')]);
    expect(await cache.of(scope('b'))).toEqual([allow('b.v1')]);
  });

  it('does not keep a read that failed, nor one a change overtook', async () => {
    let release: () => void = () => undefined;
    const { load } = counted(async (ws, n) => {
      if (n === 1) throw new Error('database away');
      if (n === 2) await new Promise<void>((r) => (release = r));
      return [allow(`${ws}.v${n}`)];
    });
    const cache = createRulesCache(load, { ttlMs: 60_000, maxWorkspaces: 10 });
    await expect(cache.of(scope('a'))).rejects.toThrow('database away');
    const slow = cache.of(scope('a'));
    await cache.changed(scope('a'));
    release();
    expect(await slow).toEqual([allow('a.v2')]);
    expect(await cache.of(scope('a'))).toEqual([allow('a.v3')]);
  });

  it('keeps at most maxWorkspaces, the least recently read going first', async () => {
    const { reads, load } = counted();
    const cache = createRulesCache(load, { ttlMs: 60_000, maxWorkspaces: 2 });
    await cache.of(scope('a'));
    await cache.of(scope('b'));
    await cache.of(scope('a'));
    await cache.of(scope('c'));
    await cache.of(scope('a'));
    await cache.of(scope('b'));
    expect(reads).toEqual(new Map([['a', 1], ['b', 2], ['c', 1]]));
  });

  it("applies the bus: another instance's change forgets one workspace, a reconnect forgets all", async () => {
    const { reads, load } = counted();
    const cache = createRulesCache(load, { ttlMs: 60_000, maxWorkspaces: 10 });
    const bus = localInvalidationBus();
    cache.listen(bus);
    await cache.of(scope('a'));
    await cache.of(scope('b'));
    await bus.publish({ kind: 'tool_rules', workspaceId: 'a' });
    await cache.of(scope('a'));
    await cache.of(scope('b'));
    expect(reads).toEqual(new Map([['a', 2], ['b', 1]]));
    await bus.publish({ kind: 'all' });
    await cache.of(scope('a'));
    await cache.of(scope('b'));
    expect(reads).toEqual(new Map([['a', 3], ['b', 2]]));
  });
});
