/** Usage settled by calls that finish together (one statement for the group) adds up as if settled one by one. */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { budgetDays, usage } from '../../src/db/schema.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { createUsageLedger } from '../../src/db/usage-ledger.js';
import { drivers, useTestDatabase } from '../support/db.js';

describe.each(drivers)('usage ledger, calls settled together (%s)', (driver) => {
  const database = useTestDatabase(driver);

  it('sums spend and usage per workspace, user and model, and crosses the warning once', async () => {
    const store = createTurnStore(database().db);
    const ledger = createUsageLedger(database().db);
    const [a, b] = await Promise.all(['T0LEDGERA1', 'T0LEDGERB1'].map((t) => store.resolveWorkspace({ platform: 'slack', externalId: `${t}${driver}` })));
    const people = await Promise.all(
      ['U1', 'U2'].map((id) =>
        store.openTurn(a!, { user: { id }, facts: { platformRole: 'member', deleted: false }, channel: { id: 'D1', kind: 'dm' }, threadKey: `dm:${id}`, ownedByRequester: true, historyLimit: 1 }),
      ),
    );
    const [u1, u2] = people.map((p) => p.principal.id);
    // Workspace A reserved 100 tokens for each of 10 calls first; each used 30 + 20.
    expect(await ledger.reserve(a!, 1_000, 10_000)).toBe(true);
    const entry = (model: string) => ({ model, usage: { inputTokens: 30, outputTokens: 20 }, costMicroUsd: 7 });
    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        ledger.settle(a!, { principalId: i % 2 ? u1! : u2!, reservedTokens: 100, entries: [entry(i < 6 ? 'small' : 'large')], warnAt: 400 }),
      ),
      // Workspace B: no reservation, two models in one call.
      ledger.settle(b!, { principalId: u1!, reservedTokens: 0, entries: [entry('small'), entry('large')], warnAt: null }),
    ]);
    // 1,000 reserved, 500 used: 500 spent, which crosses 400 once.
    expect(results.slice(0, 10).map((r) => r.spentTokens)).toEqual(Array(10).fill(500));
    expect(results.slice(0, 10).filter((r) => r.crossedWarning)).toHaveLength(1);
    expect(results[10]).toEqual({ spentTokens: 100, crossedWarning: false });
    const [spentA] = await database().db.select().from(budgetDays).where(eq(budgetDays.workspaceId, a!.workspaceId));
    expect(spentA?.spentTokens).toBe(500);
    const rows = await database().db.select().from(usage).where(eq(usage.workspaceId, a!.workspaceId));
    const byKey = Object.fromEntries(rows.map((r) => [`${r.principalId === u1 ? 'u1' : 'u2'}/${r.model}`, [r.calls, r.inputTokens, r.outputTokens, r.costMicroUsd]]));
    expect(byKey).toEqual({ 'u2/small': [3, 90, 60, 21], 'u1/small': [3, 90, 60, 21], 'u2/large': [2, 60, 40, 14], 'u1/large': [2, 60, 40, 14] });
    const rowsB = await database().db.select().from(usage).where(and(eq(usage.workspaceId, b!.workspaceId), eq(usage.principalId, u1!)));
    expect(rowsB.map((r) => r.calls)).toEqual([1, 1]);
    // Settled again later, the warning is not crossed a second time.
    const later = await ledger.settle(a!, { principalId: u1!, reservedTokens: 0, entries: [entry('small')], warnAt: 400 });
    expect(later).toEqual({ spentTokens: 550, crossedWarning: false });
  });
});
