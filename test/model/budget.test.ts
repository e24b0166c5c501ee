import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, usage } from '../../src/db/schema.js';
import { createUsageLedger } from '../../src/db/usage-ledger.js';
import { BUDGET_MESSAGE, estimateCallTokens } from '../../src/model/gate.js';
import { createAuditLog } from '../../src/db/audit-store.js';
import { postJson, startTestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { callOf, gateFor, MAIN, RecordingAlerts, useFakeProvider, workspaceIn } from './helpers.js';

const RESERVE = 100;

describe.each(drivers)('token budgets and usage (%s)', (driver) => {
  let db: TestDatabase;
  const { server, track } = useFakeProvider();

  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await db?.close();
  });

  async function setup(name: string, extra: Parameters<typeof gateFor>[1] = {}) {
    const ws = await workspaceIn(db.db, name);
    const alerts = new RecordingAlerts();
    const gate = track(
      gateFor(server, {
        settings: (scope) => ws.turns.settings(scope),
        ledger: createUsageLedger(db.db),
        audit: createAuditLog(db.db),
        alerts,
        outputReserveTokens: RESERVE,
        ...extra,
      }),
    );
    const estimate = estimateCallTokens(callOf(ws.scope, ws.principalId, name).messages, RESERVE);
    return { ws, gate, alerts, estimate };
  }

  const usageOf = (workspaceId: string) => db.db.select().from(usage).where(eq(usage.workspaceId, workspaceId));

  it('runs at most what the budget fits when 20 calls arrive at once, and refuses the rest', async () => {
    const { ws, gate, estimate } = await setup('twenty');
    // The provider reports exactly the estimate, so settling neither frees nor takes room.
    server.script = () => ({ kind: 'answer', delayMs: 20, promptTokens: estimate - 7, completionTokens: 7 });
    await ws.setSettings({ dailyTokens: estimate * 10, concurrency: 20 });

    const outcomes = await Promise.all(Array.from({ length: 20 }, () => gate.generate(callOf(ws.scope, ws.principalId, 'twenty'))));
    const answered = outcomes.filter((o) => o.kind === 'answer');
    const refused = outcomes.filter((o) => o.kind === 'refused');
    expect(answered).toHaveLength(10);
    expect(refused).toHaveLength(10);
    expect(refused.every((o) => o.kind === 'refused' && o.reason === 'budget' && o.message === BUDGET_MESSAGE)).toBe(true);
    expect(server.requests).toHaveLength(10);

    const rows = await usageOf(ws.scope.workspaceId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      model: MAIN,
      principalId: ws.principalId,
      calls: 10,
      inputTokens: server.reported.promptTokens,
      outputTokens: server.reported.completionTokens,
    });
  });

  it('settles the real count, prices it, and tells admins once at 80%', async () => {
    const { ws, gate, alerts, estimate } = await setup('warn', { prices: { [MAIN]: { input: 2, output: 10 } } });
    server.script = () => ({ kind: 'answer', promptTokens: 30, completionTokens: 10 });
    // 40 tokens a call against 450: the 9th call crosses 360 (80%) once its reservation is counted.
    expect(estimate).toBeLessThanOrEqual(130);
    const budget = 450;
    await ws.setSettings({ dailyTokens: budget });
    let answered = 0;
    for (let i = 0; i < 20; i++) {
      const outcome = await gate.generate(callOf(ws.scope, ws.principalId, 'warn'));
      if (outcome.kind !== 'answer') {
        expect(outcome).toMatchObject({ kind: 'refused', reason: 'budget', message: BUDGET_MESSAGE });
        break;
      }
      answered++;
    }
    // Near the end the calls are sent with less room for output, until none is worth starting.
    const caps = server.requests.map((r) => r.body.max_tokens as number);
    expect(caps[0]).toBe(RESERVE);
    expect(caps.at(-1)).toBeLessThan(RESERVE);
    expect(answered).toBe(server.requests.length);
    expect(answered * 40).toBeLessThanOrEqual(budget);
    expect(alerts.alerts).toHaveLength(1);
    expect(alerts.alerts[0]).toMatchObject({ workspaceId: ws.scope.workspaceId, limit: budget, budget: 'workspace/day/tokens' });
    expect(alerts.alerts[0]!.spent).toBeGreaterThanOrEqual(budget * 0.8);
    const audits = await db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, ws.scope.workspaceId), eq(auditLog.action, 'budget')));
    expect(audits).toHaveLength(1);

    const [row] = await usageOf(ws.scope.workspaceId);
    expect(row).toMatchObject({ calls: answered, inputTokens: 30 * answered, outputTokens: 10 * answered, costMicroUsd: answered * (30 * 2 + 10 * 10) });
  });

  it('answers again once an admin raises the budget', async () => {
    const { ws, gate, estimate } = await setup('raise');
    server.script = () => ({ kind: 'answer', promptTokens: estimate, completionTokens: 0 });
    await ws.setSettings({ dailyTokens: estimate });
    expect(await gate.generate(callOf(ws.scope, ws.principalId, 'raise'))).toMatchObject({ kind: 'answer' });
    expect(await gate.generate(callOf(ws.scope, ws.principalId, 'raise'))).toMatchObject({ kind: 'refused', reason: 'budget' });
    await ws.setSettings({ dailyTokens: estimate * 3 });
    expect(await gate.generate(callOf(ws.scope, ws.principalId, 'raise'))).toMatchObject({ kind: 'answer' });
  });

  it('gives a refused call its reservation back', async () => {
    const { ws, gate, estimate } = await setup('giveback', { fallbackModel: null, resilience: { timeoutMs: 15_000, retries: 0 } });
    await ws.setSettings({ dailyTokens: estimate });
    server.script = () => ({ kind: 'status', status: 500 });
    expect(await gate.generate(callOf(ws.scope, ws.principalId, 'giveback'))).toMatchObject({ kind: 'refused', reason: 'unavailable' });
    server.script = () => ({ kind: 'answer' });
    expect(await gate.generate(callOf(ws.scope, ws.principalId, 'giveback'))).toMatchObject({ kind: 'answer' });
  });

  it('counts a turn through the service once (the gate settles usage, recordTurn does not)', async () => {
    server.script = () => ({ kind: 'answer', text: 'fake answer', promptTokens: 21, completionTokens: 4 });
    const app = await startTestApp(db, {
      env: { MODEL_PROVIDER: 'openai', MODEL_BASE_URL: server.baseUrl, MODEL_API_KEY: 'test-key', MODEL_NAME: MAIN },
    });
    try {
      const before = (await db.db.select().from(usage).where(eq(usage.model, MAIN))).reduce((s, r) => s + r.calls, 0);
      const res = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'hello [svc]' });
      expect(res.body.reply).toMatchObject({ kind: 'answer', text: 'fake answer' });
      const rows = await db.db.select().from(usage).where(eq(usage.model, MAIN));
      expect(rows.reduce((s, r) => s + r.calls, 0) - before).toBe(1);
      const svc = server.requests.filter((r) => r.tag === 'svc');
      expect(svc).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });
});
