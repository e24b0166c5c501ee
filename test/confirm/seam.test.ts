/**
 * The seam with connected tools (`mcp`): their ToolConfirmation is asked before every connected
 * call. A read-only tool runs; an action (not read-only) or `confirm always` parks the turn once;
 * `confirm never` runs an action at once. Rules match by pattern, the channel's before the workspace's.
 */
import { describe, expect, it } from 'vitest';
import { confirmationFor, Parking, type ConfirmDeps } from '../../src/core/confirm/park.js';
import { matchesToolPattern, mayOffer, needsConfirmation } from '../../src/core/confirm/rules.js';
import { envelopeSchema } from '../../src/core/envelope.js';
import type { ConfirmMode, ParkInput, PendingConfirmation } from '../../src/core/ports.js';

const envelope = envelopeSchema.parse({
  kind: 'mention',
  idempotencyKey: 'ev-1',
  workspace: { platform: 'slack', externalId: 'T1' },
  user: { id: 'U1' },
  channel: { id: 'C1', kind: 'channel' },
  messageId: 'm1',
  text: 'open a ticket',
  receivedAt: new Date(),
});

function deps(modes: Record<string, ConfirmMode> = {}): ConfirmDeps & { parked: ParkInput[] } {
  const parked: ParkInput[] = [];
  return {
    parked,
    ttlMs: 60_000,
    rules: { modeFor: async (_s, _c, tool) => modes[tool], set: async () => ({ old: null }) },
    confirmations: {
      park: async (_scope, input) => {
        parked.push(input);
        return { ...input, id: `c${parked.length}`, state: 'pending', decidedByUserId: null, result: null, expiresAt: new Date(Date.now() + input.ttlMs) } as PendingConfirmation;
      },
      find: async () => null,
      decide: async () => null,
      claimRun: async () => false,
      finishRun: async () => {},
      sweep: async () => 0,
    },
  };
}

const turn = () => ({ scope: { workspaceId: 'w1', platform: 'slack' as const }, principal: { id: 'p1' }, envelope, parking: new Parking() }) as never;

describe('the confirmation seam for connected tools', () => {
  it('runs read-only tools, parks actions once, and follows confirm always|never', async () => {
    const d = deps({ 'tickets.delete': 'never', 'wiki.search': 'always' });
    const t = turn() as { parking: Parking };
    const check = confirmationFor(d, t as never);
    expect(await check.check({ tool: { name: 'tickets.search', readOnly: true }, input: { q: 'x' } })).toEqual({ run: true, confirmedByPrincipalId: null });
    expect(await check.check({ tool: { name: 'tickets.delete', readOnly: false }, input: { id: 1 } })).toEqual({ run: true, confirmedByPrincipalId: null });
    const first = await check.check({ tool: { name: 'tickets.create', readOnly: false }, input: { title: 'T' } });
    expect(first).toMatchObject({ run: false, result: expect.stringMatching(/waits for the requester to confirm/) });
    const second = await check.check({ tool: { name: 'wiki.search', readOnly: true }, input: {} });
    expect(second).toMatchObject({ run: false, result: expect.stringMatching(/Another action of this request waits/) });
    expect(d.parked).toEqual([expect.objectContaining({ tool: 'tickets.create', input: { title: 'T' }, sourceKey: 'ev-1', requesterUserId: 'U1' })]);
    expect(t.parking.parked?.id).toBe('c1');
  });

  it('without confirmation deps every call runs; patterns and audiences', async () => {
    expect(await confirmationFor(undefined, turn()).check({ tool: { name: 'a.b', readOnly: false }, input: {} })).toEqual({ run: true, confirmedByPrincipalId: null });
    expect(needsConfirmation({ readOnly: false, mode: undefined })).toBe(true);
    expect(needsConfirmation({ readOnly: true, mode: undefined })).toBe(false);
    expect(matchesToolPattern('github.*', 'github.delete_repo')).toBe(true);
    expect(matchesToolPattern('github.delete_*', 'github.create_issue')).toBe(false);
    expect(matchesToolPattern('remember', 'remember')).toBe(true);
    expect(matchesToolPattern('git.b', 'gitxb')).toBe(false);
    expect(mayOffer({ auth: 'per-user', resultsShared: false }, 'channel')).toBe(false);
  });
});
