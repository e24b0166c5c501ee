/**
 * Budgets in money and tokens, per workspace and per user, and the tokens-per-minute limit,
 * through the gate against the fake OpenAI-compatible and Anthropic servers (which report usage
 * and answer at random lengths up to the maximum output they were sent), on a real database.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetCounters } from '../../src/db/schema.js';
import { createAdminStore } from '../../src/db/admin-store.js';
import { createUsageLedger } from '../../src/db/usage-ledger.js';
import { createModelFactory } from '../../src/model/providers.js';
import { estimatePromptTokens, tpmMessage } from '../../src/model/spend.js';
import { FakeAnthropicServer } from '../fakes/anthropic-server.js';
import { maxOutputOf } from '../fakes/provider-server.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { callOf, gateFor, MAIN, useFakeProvider, workspaceIn } from './helpers.js';

const RESERVE = 100;
const PRICE = { input: 2, output: 10 };

describe.each(drivers)('money budgets, user budgets and tpm (%s)', (driver) => {
  let db: TestDatabase;
  const { server, track } = useFakeProvider();
  const { server: anthropic, track: trackAnthropic } = useFakeProvider(new FakeAnthropicServer());

  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await db?.close();
  });

  async function setup(name: string, extra: Parameters<typeof gateFor>[1] = {}) {
    const ws = await workspaceIn(db.db, name);
    const gate = track(
      gateFor(server, {
        settings: (scope) => ws.turns.settings(scope),
        ledger: createUsageLedger(db.db),
        prices: { [MAIN]: PRICE },
        outputReserveTokens: RESERVE,
        fallbackModel: null,
        ...extra,
      }),
    );
    return { ws, gate };
  }

  const spentOf = async (workspaceId: string) =>
    (await db.db.select().from(budgetCounters).where(and(eq(budgetCounters.workspaceId, workspaceId), eq(budgetCounters.subject, ''))))
      .filter((r) => r.period.length === 10)
      .map((r) => r.spentMicroUsd)[0] ?? 0;

  it('never lets 30 concurrent calls of random real length take spend past a dollar budget', async () => {
    const { ws, gate } = await setup('usd30');
    const budget = 12_000; // $0.012: about ten calls at their most
    await ws.setSettings({ dailyMicroUsd: budget, concurrency: 30 });
    server.script = (r) => ({ kind: 'answer', delayMs: r.index % 7, promptTokens: 5, completionTokens: 'random' });
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => gate.generate(callOf(ws.scope, ws.principalId, 'usd30'))));

    const answered = outcomes.filter((o) => o.kind === 'answer');
    const refused = outcomes.filter((o) => o.kind === 'refused');
    expect(answered.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((o) => o.kind === 'refused' && o.reason === 'budget' && o.message.includes("This workspace's daily spending budget ($0.012/day)"))).toBe(true);
    // What the provider reported, priced, stays within the budget; so does the ledger's count.
    const cost = server.requests.reduce((sum, r) => sum + r.usage!.input * PRICE.input + r.usage!.output * PRICE.output, 0);
    expect(cost).toBeLessThanOrEqual(budget);
    expect(await spentOf(ws.scope.workspaceId)).toBe(cost);
    expect(server.requests.every((r) => maxOutputOf(r.body)! <= RESERVE)).toBe(true);
  });

  it('sends the provider the output that the remaining budget allows (OpenAI-compatible and Anthropic)', async () => {
    for (const provider of ['openai', 'anthropic'] as const) {
      const fake = provider === 'openai' ? server : anthropic;
      const ws = await workspaceIn(db.db, `cap-${provider}`);
      const gate = (provider === 'openai' ? track : trackAnthropic)(
        gateFor(fake, {
          provider,
          model: createModelFactory({ MODEL_PROVIDER: provider, MODEL_BASE_URL: fake.baseUrl, MODEL_API_KEY: 'test-key' }),
          settings: (scope) => ws.turns.settings(scope),
          ledger: createUsageLedger(db.db),
          prices: { [MAIN]: PRICE },
          outputReserveTokens: RESERVE,
          fallbackModel: null,
        }),
      );
      const call = callOf(ws.scope, ws.principalId, `cap-${provider}`);
      const prompt = estimatePromptTokens(call.messages);
      // After a first call that costs 50 × 2 + 20 × 10 = 300, the budget leaves room for 37 output tokens.
      const budget = 300 + prompt * PRICE.input + 37 * PRICE.output;
      await ws.setSettings({ dailyMicroUsd: budget });
      fake.script = () => ({ kind: 'answer', promptTokens: 50, completionTokens: 20 });
      expect((await gate.generate(call)).kind).toBe('answer');
      expect(maxOutputOf(fake.requests[0]!.body)).toBe(Math.floor((budget - prompt * PRICE.input) / PRICE.output));
      fake.script = () => ({ kind: 'answer', promptTokens: prompt, completionTokens: 'random' });
      expect((await gate.generate(call)).kind).toBe('answer');
      expect(maxOutputOf(fake.requests[1]!.body)).toBe(37);
    }
  });

  it('stops the user who spent their own budget and not another', async () => {
    const { ws, gate } = await setup('peruser');
    const other = await ws.turns.resolvePrincipal(ws.scope, { id: 'u-other' }, { platformRole: 'member', deleted: false });
    const prompt = estimatePromptTokens(callOf(ws.scope, ws.principalId, 'peruser').messages);
    await ws.setSettings({ userDailyTokens: 3 * (prompt + 20) });
    server.script = () => ({ kind: 'answer', promptTokens: prompt, completionTokens: 20 });
    const outcomes = [];
    for (let i = 0; i < 10; i++) {
      const outcome = await gate.generate(callOf(ws.scope, ws.principalId, 'peruser'));
      outcomes.push(outcome);
      if (outcome.kind === 'refused') break;
    }
    const last = outcomes.at(-1)!;
    expect(last).toMatchObject({ kind: 'refused', reason: 'budget' });
    expect(last.kind === 'refused' ? last.message : '').toMatch(/^Your daily token budget \([\d,]+ tokens\/day per person\) is used up/);
    expect(outcomes.filter((o) => o.kind === 'answer').length).toBeGreaterThanOrEqual(3);
    expect(await gate.generate(callOf(ws.scope, other.id, 'peruser'))).toMatchObject({ kind: 'answer' });
  });

  it('holds the tokens-per-minute limit under a flood (counted per sliding window at the provider)', async () => {
    const { ws, gate } = await setup('tpm');
    const tpm = 400;
    await ws.setSettings({ tpm, concurrency: 16 });
    server.script = () => ({ kind: 'answer', promptTokens: 5, completionTokens: 'random' });
    const outcomes = await Promise.all(Array.from({ length: 16 }, () => gate.generate(callOf(ws.scope, ws.principalId, 'tpm'))));
    expect(outcomes.every((o) => o.kind === 'answer')).toBe(true);
    expect(server.requests).toHaveLength(16);
    // The gate's window is 1 s in tests ("per minute" scaled down).
    expect(server.busiestTokens(1_000)).toBeLessThanOrEqual(tpm);
    expect(server.requests.every((r) => maxOutputOf(r.body)! <= RESERVE)).toBe(true);
  });

  it('refuses a call larger than the tokens-per-minute limit, naming it', async () => {
    const { ws, gate } = await setup('tpm-small');
    await ws.setSettings({ tpm: 10 });
    expect(await gate.generate(callOf(ws.scope, ws.principalId, 'tpm-small'))).toMatchObject({ kind: 'refused', reason: 'budget', message: tpmMessage(10) });
    expect(server.requests).toHaveLength(0);
  });

  it('sums usage by user, model and channel across a day and a month boundary', async () => {
    let now = new Date('2026-01-31T23:59:00Z');
    const ws = await workspaceIn(db.db, 'boundary');
    const gate = track(
      gateFor(server, {
        modelName: (tier) => (tier === 'small' ? 'small-model' : MAIN),
        settings: (scope) => ws.turns.settings(scope),
        ledger: createUsageLedger(db.db, { now: () => now }),
        prices: { [MAIN]: PRICE, 'small-model': { input: 1, output: 1 } },
        fallbackModel: null,
      }),
    );
    const bea = await ws.turns.resolvePrincipal(ws.scope, { id: 'u-bea' }, { platformRole: 'member', deleted: false });
    server.script = (r) => ({ kind: 'answer', promptTokens: 10 + r.index, completionTokens: 3 + r.index });
    const calls = [
      { who: ws.principalId, channel: 'C1', tier: 'answer' as const },
      { who: bea.id, channel: 'C2', tier: 'small' as const },
      { who: ws.principalId, channel: 'C2', tier: 'answer' as const },
    ];
    for (const c of calls) expect((await gate.generate(callOf(ws.scope, c.who, 'b', { channelExternalId: c.channel, tier: c.tier }))).kind).toBe('answer');
    now = new Date('2026-02-01T00:00:30Z');
    for (const c of calls) expect((await gate.generate(callOf(ws.scope, c.who, 'b', { channelExternalId: c.channel, tier: c.tier }))).kind).toBe('answer');
    const reported = server.requests.map((r, i) => ({ ...calls[i % 3]!, day: i < 3 ? '2026-01-31' : '2026-02-01', model: r.model, usage: r.usage! }));
    const expected = (pick: (x: (typeof reported)[number]) => boolean) => {
      const rows = reported.filter(pick);
      const cost = (x: (typeof reported)[number]) => (x.model === MAIN ? x.usage.input * 2 + x.usage.output * 10 : x.usage.input + x.usage.output);
      return { calls: rows.length, inputTokens: rows.reduce((s, x) => s + x.usage.input, 0), outputTokens: rows.reduce((s, x) => s + x.usage.output, 0), costMicroUsd: rows.reduce((s, x) => s + cost(x), 0) };
    };
    const admin = createAdminStore(db.db);
    const jan31 = { from: '2026-01-31', to: '2026-01-31' };
    const feb = { from: '2026-02-01', to: '2026-02-28' };
    const both = { from: '2026-01-01', to: '2026-02-28' };
    expect(await admin.usage(ws.scope, { ...jan31, by: null })).toEqual([{ key: '', ...expected((x) => x.day === '2026-01-31') }]);
    expect(await admin.usage(ws.scope, { ...feb, by: null })).toEqual([{ key: '', ...expected((x) => x.day === '2026-02-01') }]);
    const byModel = await admin.usage(ws.scope, { ...both, by: 'model' });
    expect(Object.fromEntries(byModel.map((r) => [r.key, r]))).toEqual({
      [MAIN]: { key: MAIN, ...expected((x) => x.model === MAIN) },
      'small-model': { key: 'small-model', ...expected((x) => x.model === 'small-model') },
    });
    const byUser = await admin.usage(ws.scope, { ...feb, by: 'user' });
    expect(Object.fromEntries(byUser.map((r) => [r.key, r]))).toEqual({
      'u-boundary': { key: 'u-boundary', ...expected((x) => x.day === '2026-02-01' && x.who === ws.principalId) },
      'u-bea': { key: 'u-bea', ...expected((x) => x.day === '2026-02-01' && x.who === bea.id) },
    });
    const byChannel = await admin.usage(ws.scope, { ...jan31, by: 'channel' });
    expect(Object.fromEntries(byChannel.map((r) => [r.key, r]))).toEqual({
      C1: { key: 'C1', ...expected((x) => x.day === '2026-01-31' && x.channel === 'C1') },
      C2: { key: 'C2', ...expected((x) => x.day === '2026-01-31' && x.channel === 'C2') },
    });
    // One user's own usage only.
    expect(await admin.usage(ws.scope, { ...both, by: null, principalId: bea.id })).toEqual([{ key: '', ...expected((x) => x.who === bea.id) }]);
  });
});
