/** The usage ledger: reservations against budgets, settlements, warnings once, leases of dead processes. */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Budget } from '../../src/core/budgets.js';
import type { ReserveRequest } from '../../src/core/ports.js';
import { budgetCounters, budgetReservations, usage } from '../../src/db/schema.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { createUsageLedger } from '../../src/db/usage-ledger.js';
import { drivers, useTestDatabase } from '../support/db.js';

const wsDayTokens = (limit: number): Budget => ({ subject: 'workspace', period: 'day', unit: 'tokens', limit });

describe.each(drivers)('usage ledger (%s)', (driver) => {
  const database = useTestDatabase(driver);

  async function people(name: string, ids = ['U1', 'U2']) {
    const store = createTurnStore(database().db);
    const scope = await store.resolveWorkspace({ platform: 'slack', externalId: `${name}${driver}` });
    const ps = await Promise.all(
      ids.map((id) =>
        store.openTurn(scope, { user: { id }, facts: { platformRole: 'member', deleted: false }, channel: { id: 'D1', kind: 'dm' }, threadKey: `dm:${id}`, ownedByRequester: true, historyLimit: 1 }),
      ),
    );
    return { scope, ids: ps.map((p) => p.principal.id) };
  }

  const request = (principalId: string, budgets: Budget[], extra: Partial<ReserveRequest> = {}): ReserveRequest => ({
    principalId,
    budgets,
    promptTokens: 20,
    maxOutputTokens: 80,
    minOutputTokens: 16,
    price: { input: 1, output: 2 },
    leaseMs: 60_000,
    ...extra,
  });

  it('settles concurrent calls into usage per user and model, and crosses the 80% line once', async () => {
    const { scope, ids } = await people('T0LEDGERA1');
    const [u1, u2] = ids as [string, string];
    const ledger = createUsageLedger(database().db);
    const budgets = [wsDayTokens(500)];
    const reservations = [];
    for (let i = 0; i < 5; i++) reservations.push(await ledger.reserve(scope, request(i % 2 ? u1 : u2, budgets)));
    expect(reservations.every((r) => r.ok && r.tokens === 100)).toBe(true);
    // 500 reserved: a sixth call finds no room and is told which budget.
    expect(await ledger.reserve(scope, request(u1, budgets))).toEqual({ ok: false, budget: budgets[0] });
    const entry = (model: string) => ({ model, usage: { inputTokens: 30, outputTokens: 50 }, costMicroUsd: 7 });
    const results = await Promise.all(
      reservations.map((r, i) =>
        ledger.settle(scope, { principalId: i % 2 ? u1 : u2, channelExternalId: 'C1', reservationId: r.ok ? r.id : null, entries: [entry(i < 3 ? 'small' : 'large')], budgets }),
      ),
    );
    // Spend counts reservations still held, so the first settlement already stands at 480 of 500:
    // the 80% line is crossed there, by one call only. In the end 5 × 80 = 400 stay spent.
    const crossed = results.flatMap((r) => r.crossed);
    expect(crossed).toHaveLength(1);
    expect(crossed[0]).toMatchObject({ budget: budgets[0] });
    expect(crossed[0]!.spent).toBeGreaterThanOrEqual(400);
    const [counter] = await database().db.select().from(budgetCounters).where(and(eq(budgetCounters.workspaceId, scope.workspaceId), eq(budgetCounters.subject, '')));
    expect(counter?.spentTokens).toBe(400);
    expect(await database().db.select().from(budgetReservations).where(eq(budgetReservations.workspaceId, scope.workspaceId))).toHaveLength(0);
    const rows = await database().db.select().from(usage).where(eq(usage.workspaceId, scope.workspaceId));
    const byKey = Object.fromEntries(rows.map((r) => [`${r.principalId === u1 ? 'u1' : 'u2'}/${r.model}/${r.channel}`, [r.calls, r.inputTokens, r.outputTokens, r.costMicroUsd]]));
    expect(byKey).toEqual({ 'u2/small/C1': [2, 60, 100, 14], 'u1/small/C1': [1, 30, 50, 7], 'u2/large/C1': [1, 30, 50, 7], 'u1/large/C1': [1, 30, 50, 7] });
    // Settled again later, the warning is not crossed a second time.
    const later = await ledger.settle(scope, { principalId: u1, reservationId: null, entries: [entry('small')], budgets });
    expect(later.crossed).toEqual([]);
  });

  it('caps the output to what the tightest budget leaves, in tokens and in money', async () => {
    const { scope, ids } = await people('T0LEDGERB1');
    const ledger = createUsageLedger(database().db);
    // $0.000150 per day for the user: 20 prompt tokens at 1 µUSD leave 130 µUSD, 65 output tokens at 2 µUSD.
    const budgets: Budget[] = [wsDayTokens(1_000), { subject: 'user', period: 'day', unit: 'usd', limit: 150 }];
    const first = await ledger.reserve(scope, request(ids[0]!, budgets));
    expect(first).toMatchObject({ ok: true, maxOutputTokens: 65, tokens: 85, microUsd: 150 });
    // The same user has no money left; the other user has all of theirs.
    expect(await ledger.reserve(scope, request(ids[0]!, budgets))).toEqual({ ok: false, budget: budgets[1] });
    expect(await ledger.reserve(scope, request(ids[1]!, budgets))).toMatchObject({ ok: true, maxOutputTokens: 65 });
  });

  it("releases a dead process's reservation when its lease runs out, not before", async () => {
    const { scope, ids } = await people('T0LEDGERC1');
    const budgets = [wsDayTokens(100)];
    // Instance A reserves everything and dies (never settles, never renews).
    const dead = createUsageLedger(database().db);
    expect(await dead.reserve(scope, request(ids[0]!, budgets, { leaseMs: 300 }))).toMatchObject({ ok: true, tokens: 100 });
    // Instance B: no room while the lease holds.
    const alive = createUsageLedger(database().db);
    expect(await alive.reserve(scope, request(ids[1]!, budgets))).toMatchObject({ ok: false });
    let outcome = await alive.reserve(scope, request(ids[1]!, budgets));
    for (let i = 0; i < 100 && !outcome.ok; i++) {
      await new Promise((r) => setTimeout(r, 20));
      outcome = await alive.reserve(scope, request(ids[1]!, budgets));
    }
    expect(outcome).toMatchObject({ ok: true, tokens: 100 });
    // Only B's reservation is left, and the counter holds B's alone.
    const left = await database().db.select().from(budgetReservations).where(eq(budgetReservations.workspaceId, scope.workspaceId));
    expect(left.map((r) => r.principalId)).toEqual([ids[1]]);
    const [counter] = await database().db.select().from(budgetCounters).where(and(eq(budgetCounters.workspaceId, scope.workspaceId), eq(budgetCounters.subject, '')));
    expect(counter?.spentTokens).toBe(100);
  });

  it('keeps a renewed reservation past its first lease', async () => {
    const { scope, ids } = await people('T0LEDGERD1');
    const budgets = [wsDayTokens(100)];
    const ledger = createUsageLedger(database().db);
    const held = await ledger.reserve(scope, request(ids[0]!, budgets, { leaseMs: 200 }));
    expect(held.ok).toBe(true);
    await ledger.renew([{ scope, id: held.ok ? held.id : '' }], 600_000);
    await new Promise((r) => setTimeout(r, 250));
    expect(await ledger.reserve(scope, request(ids[1]!, budgets))).toMatchObject({ ok: false });
  });
});
