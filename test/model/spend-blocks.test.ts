/**
 * Block reservations (src/model/spend-blocks.ts) through the gate, against the fake
 * OpenAI-compatible server (random answer lengths up to the output it was sent) on a real
 * database: two instances sharing a budget never take spend past it; a killed instance's block is
 * freed by its lease; a changed budget retires the block; closing gives the undrawn part back.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageLedger } from '../../src/core/ports.js';
import { budgetCounters, budgetReservations } from '../../src/db/schema.js';
import { createUsageLedger } from '../../src/db/usage-ledger.js';
import { periodsOf } from '../../src/db/usage-ledger.js';
import { estimatePromptTokens } from '../../src/model/spend.js';
import { maxOutputOf } from '../fakes/provider-server.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { callOf, gateFor, MAIN, useFakeProvider, workspaceIn } from './helpers.js';

const RESERVE = 100;
const PRICE = { input: 2, output: 10 };

/** The real ledger, counting the blocks it granted; `kill()` makes it fail like a process whose database is gone. */
function observedLedger(db: TestDatabase['db'], now?: () => Date) {
  const real = createUsageLedger(db, now ? { now } : {});
  const seen = { reserves: 0, granted: 0, blocks: [] as string[], dead: false };
  const alive = () => {
    if (seen.dead) throw new Error('this instance is gone');
  };
  const ledger: UsageLedger = {
    async reserve(scope, request) {
      alive();
      seen.reserves++;
      const r = await real.reserve(scope, request);
      if (r.ok) seen.granted++;
      if (r.ok && r.block) seen.blocks.push(r.id);
      return r;
    },
    settle: async (scope, input) => (alive(), real.settle(scope, input)),
    renew: async (items, leaseMs) => (alive(), real.renew(items, leaseMs)),
  };
  return { ledger, seen, kill: () => void (seen.dead = true) };
}

describe.each(drivers)('block reservations (%s)', (driver) => {
  let db: TestDatabase;
  const { server, track } = useFakeProvider();

  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await db?.close();
  });

  const counter = async (workspaceId: string, subject = '') =>
    (await db.db.select().from(budgetCounters).where(and(eq(budgetCounters.workspaceId, workspaceId), eq(budgetCounters.subject, subject)))).find(
      (r) => r.period === periodsOf(new Date()).day,
    );
  const reservations = (workspaceId: string) => db.db.select().from(budgetReservations).where(eq(budgetReservations.workspaceId, workspaceId));
  /** What the fake provider reported, priced, and in tokens. */
  const reportedCost = () => server.requests.reduce((sum, r) => sum + r.usage!.input * PRICE.input + r.usage!.output * PRICE.output, 0);
  const reportedTokens = () => server.requests.reduce((sum, r) => sum + r.usage!.input + r.usage!.output, 0);

  function instance(ws: Awaited<ReturnType<typeof workspaceIn>>, ledger: UsageLedger, extra: Parameters<typeof gateFor>[1] = {}) {
    return track(
      gateFor(server, {
        settings: (scope) => ws.turns.settings(scope),
        ledger,
        prices: { [MAIN]: PRICE },
        outputReserveTokens: RESERVE,
        fallbackModel: null,
        ...extra,
      }),
    );
  }

  it('never lets two instances sharing a dollar budget take spend past it, whatever the answers’ lengths', async () => {
    const ws = await workspaceIn(db.db, 'blocks2');
    const people = [ws.principalId];
    for (const id of ['u-b2', 'u-b3']) people.push((await ws.turns.resolvePrincipal(ws.scope, { id }, { platformRole: 'member', deleted: false })).id);
    const budget = 60_000; // about 58 calls at their most: blocks while room lasts, then each call for itself
    await ws.setSettings({ dailyMicroUsd: budget, concurrency: 40 });
    const a = observedLedger(db.db);
    const b = observedLedger(db.db);
    const gates = [instance(ws, a.ledger), instance(ws, b.ledger)];
    server.script = (r) => ({ kind: 'answer', delayMs: r.index % 5, promptTokens: 5, completionTokens: 'random' });
    // Waves of 20 calls at once, spread over both instances and three people, until well past the budget.
    const outcomes = [];
    for (let wave = 0; wave < 10; wave++) {
      outcomes.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => gates[i % 2]!.generate(callOf(ws.scope, people[i % 3]!, 'blocks2'))))));
    }

    const answered = outcomes.filter((o) => o.kind === 'answer').length;
    const refused = outcomes.filter((o) => o.kind === 'refused');
    expect(answered).toBe(server.requests.length);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((o) => o.kind === 'refused' && o.reason === 'budget' && o.message.includes("This workspace's daily spending budget"))).toBe(true);
    // Both instances drew from blocks: fewer reservations made in the database than calls answered.
    expect(a.seen.blocks.length).toBeGreaterThan(0);
    expect(b.seen.blocks.length).toBeGreaterThan(0);
    expect(a.seen.granted + b.seen.granted).toBeLessThan(answered);
    expect(server.requests.every((r) => maxOutputOf(r.body)! <= RESERVE)).toBe(true);
    // What the provider reported stays within the budget.
    expect(reportedCost()).toBeLessThanOrEqual(budget);
    // Closed, both instances give their blocks back: the counter is what was really spent.
    for (const gate of gates) await gate.close();
    expect(await reservations(ws.scope.workspaceId)).toEqual([]);
    expect((await counter(ws.scope.workspaceId))?.spentMicroUsd).toBe(reportedCost());
  });

  it('gives the undrawn part of its blocks back on close, so the counters hold the settled use only', async () => {
    const ws = await workspaceIn(db.db, 'blockclose');
    await ws.setSettings({ dailyTokens: 1_000_000, userMonthlyMicroUsd: 1_000_000_000 });
    const { ledger, seen } = observedLedger(db.db);
    const gate = instance(ws, ledger);
    server.script = () => ({ kind: 'answer', promptTokens: 5, completionTokens: 'random' });
    for (let i = 0; i < 5; i++) expect((await gate.generate(callOf(ws.scope, ws.principalId, 'blockclose'))).kind).toBe('answer');
    // One block served all five calls; it still holds its undrawn part.
    expect(seen.reserves).toBe(1);
    expect(seen.blocks).toHaveLength(1);
    const [block] = await reservations(ws.scope.workspaceId);
    expect(block!.id).toBe(seen.blocks[0]);
    expect((await counter(ws.scope.workspaceId))!.spentTokens).toBe(reportedTokens() + block!.tokens);
    await gate.close();
    expect(await reservations(ws.scope.workspaceId)).toEqual([]);
    expect((await counter(ws.scope.workspaceId))!.spentTokens).toBe(reportedTokens());
    expect((await counter(ws.scope.workspaceId, ws.principalId))!.spentTokens).toBe(reportedTokens());
  });

  it('gives an idle block back, and does not draw from a block past the end of its budget day', async () => {
    const ws = await workspaceIn(db.db, 'blockidle');
    await ws.setSettings({ dailyTokens: 1_000_000 });
    // The ledger's day ends 300 ms after its clock, which stands still: every block is good for 300 ms.
    const { ledger, seen } = observedLedger(db.db, () => new Date('2026-03-31T23:59:59.700Z'));
    const gate = instance(ws, ledger, { budgetBlockIdleMs: 1_000 });
    server.script = () => ({ kind: 'answer', promptTokens: 5, completionTokens: 10 });
    const call = callOf(ws.scope, ws.principalId, 'blockidle');
    expect((await gate.generate(call)).kind).toBe('answer');
    const first = seen.blocks.length;
    expect(first).toBeGreaterThan(0);
    // Once the day is over, the next call retires the block it would have drawn from and takes a new one.
    await new Promise((r) => setTimeout(r, 350));
    expect((await gate.generate(call)).kind).toBe('answer');
    expect(seen.blocks.length).toBeGreaterThan(first);
    const rows = await reservations(ws.scope.workspaceId);
    expect(rows.every((r) => r.id === seen.blocks.at(-1))).toBe(true);
    // Unused, the last block goes back by itself.
    for (let i = 0; i < 200 && (await reservations(ws.scope.workspaceId)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await reservations(ws.scope.workspaceId)).toEqual([]);
    const [counter] = await db.db.select().from(budgetCounters).where(and(eq(budgetCounters.workspaceId, ws.scope.workspaceId), eq(budgetCounters.subject, ''), eq(budgetCounters.period, '2026-03-31')));
    expect(counter!.spentTokens).toBe(2 * 15);
  });

  it('retires a block when an admin lowers the budget: the next call gets what the new budget leaves', async () => {
    const ws = await workspaceIn(db.db, 'blocklower');
    await ws.setSettings({ dailyTokens: 1_000_000 });
    const { ledger, seen } = observedLedger(db.db);
    const gate = instance(ws, ledger);
    const call = callOf(ws.scope, ws.principalId, 'blocklower');
    const prompt = estimatePromptTokens(call.messages);
    server.script = () => ({ kind: 'answer', promptTokens: prompt, completionTokens: 30 });
    expect((await gate.generate(call)).kind).toBe('answer');
    expect(seen.blocks).toHaveLength(1);
    // Lowered to leave room for 40 output tokens after what was spent: the block's room is no longer there.
    await ws.setSettings({ dailyTokens: prompt + 30 + prompt + 40 });
    expect((await gate.generate(call)).kind).toBe('answer');
    expect(maxOutputOf(server.requests[1]!.body)).toBe(40);
    expect(seen.blocks).toHaveLength(1);
    expect(await reservations(ws.scope.workspaceId)).toEqual([]);
    expect((await counter(ws.scope.workspaceId))!.spentTokens).toBe(reportedTokens());
    expect(await gate.generate(call)).toMatchObject({ kind: 'refused', reason: 'budget' });
  });

  it('stops the user who spent their own budget through blocks, and not another', async () => {
    const ws = await workspaceIn(db.db, 'blockuser');
    const other = await ws.turns.resolvePrincipal(ws.scope, { id: 'u-blockuser-2' }, { platformRole: 'member', deleted: false });
    const call = callOf(ws.scope, ws.principalId, 'blockuser');
    const budget = 40 * (estimatePromptTokens(call.messages) + RESERVE);
    await ws.setSettings({ userDailyTokens: budget });
    const { ledger, seen } = observedLedger(db.db);
    const gate = instance(ws, ledger);
    server.script = () => ({ kind: 'answer', promptTokens: 5, completionTokens: 'random' });
    let outcome = await gate.generate(call);
    for (let i = 0; i < 300 && outcome.kind === 'answer'; i++) outcome = await gate.generate(call);
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'budget' });
    expect(outcome.kind === 'refused' ? outcome.message : '').toMatch(/^Your daily token budget/);
    expect(seen.blocks.length).toBeGreaterThan(0);
    expect(reportedTokens()).toBeLessThanOrEqual(budget);
    expect(await gate.generate(callOf(ws.scope, other.id, 'blockuser'))).toMatchObject({ kind: 'answer' });
  });

  it("frees a killed instance's block when its lease runs out", async () => {
    const ws = await workspaceIn(db.db, 'blockdead');
    const limit = 1_000_000;
    await ws.setSettings({ dailyTokens: limit });
    const dying = observedLedger(db.db);
    const dead = instance(ws, dying.ledger, { reservationLeaseMs: 300 });
    server.script = () => ({ kind: 'answer', promptTokens: 5, completionTokens: 10 });
    expect((await dead.generate(callOf(ws.scope, ws.principalId, 'blockdead'))).kind).toBe('answer');
    const [block] = await reservations(ws.scope.workspaceId);
    expect(block!.id).toBe(dying.seen.blocks[0]);
    // The instance dies holding its block (nothing it does reaches the database any more), and the
    // rest of the day's budget is spent elsewhere: only the dead block's room is left.
    dying.kill();
    await db.db
      .update(budgetCounters)
      .set({ spentTokens: limit })
      .where(and(eq(budgetCounters.workspaceId, ws.scope.workspaceId), eq(budgetCounters.subject, ''), eq(budgetCounters.period, block!.day)));
    const alive = instance(ws, createUsageLedger(db.db));
    let outcome = await alive.generate(callOf(ws.scope, ws.principalId, 'blockdead'));
    for (let i = 0; i < 200 && outcome.kind !== 'answer'; i++) {
      expect(outcome).toMatchObject({ kind: 'refused', reason: 'budget' });
      await new Promise((r) => setTimeout(r, 20));
      outcome = await alive.generate(callOf(ws.scope, ws.principalId, 'blockdead'));
    }
    expect(outcome.kind).toBe('answer');
    const left = await reservations(ws.scope.workspaceId);
    expect(left.map((r) => r.id)).not.toContain(block!.id);
    // The dead block's remainder went back; the live instance's call is counted (with whatever it holds).
    const held = left.reduce((sum, r) => sum + r.tokens, 0);
    expect((await counter(ws.scope.workspaceId))!.spentTokens).toBe(limit - block!.tokens + 15 + held);
  });
});
