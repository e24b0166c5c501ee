/**
 * The Slack membership and people caches production uses (adapters/slack/people.ts): answers
 * from cache, applies what the invalidation bus tells at once, expires on its TTL, stays bounded,
 * never caches a failure, keeps workspaces apart. The clock is moved, never waited on.
 */
import type { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { createDirectory, createMembership } from '../../adapters/slack/people.js';
import { localInvalidationBus } from '../../src/core/invalidation.js';

const ws = { platform: 'slack' as const, externalId: 'T1' };
const ch = { id: 'C1', kind: 'channel' as const };

function fakeSlack(rosters: Map<string, string[]>) {
  const state = { asked: 0, down: false, users: 0 };
  const client = {
    conversations: {
      members: async ({ channel }: { channel: string }) => {
        state.asked++;
        if (state.down) throw new Error('down');
        return { ok: true, members: rosters.get(channel) ?? [] };
      },
    },
    users: {
      info: async ({ user }: { user: string }) => {
        state.users++;
        return { ok: true, user: { id: user, team_id: 'T1', is_admin: user === 'boss' } };
      },
    },
  } as unknown as webApi.WebClient;
  return { client, state, tokens: { forWorkspace: async () => ({ token: 'xoxb-test' }), forget() {} } };
}

describe('Slack membership cache', () => {
  it('answers from cache, applies leave and join at once, expires, stays bounded, never caches failure', async () => {
    let now = 1_000;
    const rosters = new Map([['C1', ['u1', 'd']]]);
    const { client, state, tokens } = fakeSlack(rosters);
    const membership = createMembership({ client, tokens, ttlMs: 1000, maxChannels: 3, clock: { now: () => now } });
    const bus = localInvalidationBus();
    bus.subscribe((m) => membership.invalidate(m));

    expect(await membership.isMember(ws, ch, 'u1')).toBe(true);
    expect(await membership.isMember(ws, ch, 'u1')).toBe(true);
    expect(state.asked).toBe(1);
    await bus.publish({ kind: 'members', workspace: ws, channelId: 'C1', added: [], removed: ['u1'] });
    expect(await membership.isMember(ws, ch, 'u1')).toBe(false);
    await bus.publish({ kind: 'members', workspace: ws, channelId: 'C1', added: ['u1'], removed: [] });
    expect(await membership.isMember(ws, ch, 'u1')).toBe(true);
    expect(state.asked).toBe(1);
    now = 2_500; // past the TTL
    expect(await membership.isMember(ws, ch, 'u1')).toBe(true);
    expect(state.asked).toBe(2);
    for (const c of ['Ca', 'Cb', 'Cc']) await membership.isMember(ws, { id: c, kind: 'channel' }, 'x');
    // Bounded: the least recently used channel (C1) went, so it is asked again.
    await membership.isMember(ws, ch, 'u1');
    expect(state.asked).toBe(6);
    state.down = true;
    await expect(membership.isMember(ws, { id: 'C9', kind: 'channel' }, 'zz')).rejects.toMatchObject({ code: 'MEMBERSHIP_UNAVAILABLE' });
    await expect(membership.isMember(ws, { id: 'C9', kind: 'channel' }, 'zz')).rejects.toMatchObject({ code: 'MEMBERSHIP_UNAVAILABLE' });
    state.down = false;
    // Another workspace with the same ids is a different entry.
    await bus.publish({ kind: 'members', workspace: ws, channelId: 'C1', added: [], removed: ['d'] });
    expect(await membership.isMember(ws, ch, 'd')).toBe(false);
    expect(await membership.isMember({ ...ws, externalId: 'T2' }, ch, 'd')).toBe(true);
    // Another platform's message is not this cache's business (the adapter filters; the keys would not match anyway).
  });

  it('an archived channel admits nobody, even after its TTL and join events, until it is unarchived', async () => {
    let now = 1_000;
    const { client, state, tokens } = fakeSlack(new Map([['C1', ['u1']]]));
    const membership = createMembership({ client, tokens, ttlMs: 1000, clock: { now: () => now } });
    expect(await membership.isMember(ws, ch, 'u1')).toBe(true);
    membership.invalidate({ kind: 'channel', workspace: ws, channelId: 'C1', state: 'archived' });
    membership.invalidate({ kind: 'members', workspace: ws, channelId: 'C1', added: ['u2'], removed: [] });
    now = 20_000;
    expect(await membership.isMember(ws, ch, 'u1')).toBe(false);
    expect(await membership.isMember(ws, ch, 'u2')).toBe(false);
    membership.invalidate({ kind: 'channel', workspace: ws, channelId: 'C1', state: 'open' });
    expect(await membership.isMember(ws, ch, 'u1')).toBe(true);
    // Deleted, or the bot removed: asked again.
    const asked = state.asked;
    membership.invalidate({ kind: 'channel', workspace: ws, channelId: 'C1', state: 'unknown' });
    await membership.isMember(ws, ch, 'u1');
    expect(state.asked).toBe(asked + 1);
  });

  it('a leave that arrives while the roster is being read is applied on top of the older read', async () => {
    let release = () => {};
    const { tokens } = fakeSlack(new Map());
    const client = {
      conversations: {
        members: () => new Promise((resolve) => (release = () => resolve({ ok: true, members: ['u1'] }))),
      },
    } as unknown as webApi.WebClient;
    const membership = createMembership({ client, tokens });
    const pending = membership.isMember(ws, ch, 'u1');
    await new Promise((r) => setImmediate(r));
    membership.invalidate({ kind: 'members', workspace: ws, channelId: 'C1', added: [], removed: ['u1'] });
    release();
    expect(await pending).toBe(false);
  });
});

describe('Slack people cache', () => {
  it('a user change or a workspace uninstall forgets what was cached; other users stay cached', async () => {
    const { client, state, tokens } = fakeSlack(new Map());
    const directory = createDirectory({ client, tokens });
    expect((await directory.lookup(ws, { id: 'boss' })).platformRole).toBe('admin');
    await directory.lookup(ws, { id: 'other' });
    await directory.lookup(ws, { id: 'boss' });
    expect(state.users).toBe(2);
    directory.invalidate({ kind: 'user', workspace: ws, userId: 'boss' });
    await directory.lookup(ws, { id: 'boss' });
    await directory.lookup(ws, { id: 'other' });
    expect(state.users).toBe(3);
    directory.invalidate({ kind: 'workspace', workspace: { ...ws, externalId: 'T2' } });
    await directory.lookup(ws, { id: 'other' });
    expect(state.users).toBe(3);
    directory.invalidate({ kind: 'workspace', workspace: ws });
    await directory.lookup(ws, { id: 'other' });
    expect(state.users).toBe(4);
  });
});
