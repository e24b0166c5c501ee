/** Builds a throttling gate against the fake OpenAI-compatible server, at a per-second time scale. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { BudgetAlert } from '../../src/core/budgets.js';
import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Scope } from '../../src/core/identity.js';
import type {
  AuditEntryInput,
  AuditLog,
  BudgetAlertSink,
  Logger,
  ModelCall,
  Reservation,
  ReserveRequest,
  UsageLedger,
  WorkspaceSettings,
} from '../../src/core/ports.js';
import type { Db } from '../../src/db/client.js';
import { workspaceSettings } from '../../src/db/schema.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { createModelGate, type ModelGateOptions, type ThrottlingGate } from '../../src/model/gate.js';
import { createModelFactory } from '../../src/model/providers.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { FakeOpenAIServer } from '../fakes/openai-server.js';
import type { FakeProviderServer } from '../fakes/provider-server.js';

export const MAIN = 'main-model';
export const FALLBACK = 'fallback-model';

/** A logger that keeps structured events, to assert on warnings. */
export class RecordingLogger implements Logger {
  readonly events: Array<{ level: string; obj: Record<string, unknown>; msg?: string | undefined }> = [];
  debug(obj: object, msg?: string) { this.events.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }); }
  info(obj: object, msg?: string) { this.events.push({ level: 'info', obj: obj as Record<string, unknown>, msg }); }
  warn(obj: object, msg?: string) { this.events.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }); }
  error(obj: object, msg?: string) { this.events.push({ level: 'error', obj: obj as Record<string, unknown>, msg }); }
  named(event: string) { return this.events.filter((e) => e.obj.event === event); }
}

/** In-memory ledger and settings, for tests where the database does not matter. */
export class MemoryLedger implements UsageLedger {
  settled: Array<Parameters<UsageLedger['settle']>[1]> = [];
  async reserve(_scope: Scope, request: ReserveRequest): Promise<Reservation> {
    return { ok: true, id: randomUUID(), maxOutputTokens: request.maxOutputTokens, tokens: 0, microUsd: 0 };
  }
  async settle(_scope: Scope, input: Parameters<UsageLedger['settle']>[1]) {
    this.settled.push(input);
    return { crossed: [] };
  }
  async renew() {}
}

export class RecordingAudit implements AuditLog {
  readonly entries: AuditEntryInput[] = [];
  async append(_scope: Scope, entry: AuditEntryInput) { this.entries.push(entry); }
  async list() { return []; }
}

export class RecordingAlerts implements BudgetAlertSink {
  readonly alerts: Array<{ workspaceId: string; spent: number; limit: number; budget: string; principalId?: string | undefined }> = [];
  async budgetWarning(scope: Scope, alert: BudgetAlert) {
    const b = alert.budget;
    this.alerts.push({ workspaceId: scope.workspaceId, spent: alert.spent, limit: b.limit, budget: `${b.subject}/${b.period}/${b.unit}`, principalId: alert.principalId });
  }
}

export const noSettings: WorkspaceSettings = {
  storeContent: false, rpm: null, concurrency: null, dailyTokens: null, retentionDays: null, guestsEnabled: true,
};

export function fakeScope(id = randomBytes(4).toString('hex')): Scope {
  return { workspaceId: `00000000-0000-4000-8000-${id.padStart(12, '0')}`, platform: 'console' } as Scope;
}

export function gateFor(server: FakeProviderServer, options: Partial<ModelGateOptions> = {}): ThrottlingGate {
  return createModelGate({
    provider: 'openai',
    model: createModelFactory({ MODEL_PROVIDER: 'openai', MODEL_BASE_URL: server.baseUrl, MODEL_API_KEY: 'test-key' }),
    modelName: () => MAIN,
    fallbackModel: FALLBACK,
    settings: async () => noSettings,
    ledger: new MemoryLedger(),
    defaults: { rpm: 1000, concurrency: 10 },
    global: {},
    resilience: { timeoutMs: 15_000, retries: 2, backoffInitialMs: 10, backoffMaxMs: 50, breakerThreshold: 100, breakerCooldownMs: 200 },
    log: new RecordingLogger(),
    // Limits per second instead of per minute keep the suite fast.
    windowMs: 1_000,
    prefix: `t${randomBytes(6).toString('hex')}`,
    heartbeatMs: 50,
    ...options,
  });
}

/** A port on 127.0.0.1 with nothing listening: connecting to it is refused. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function callOf(scope: Scope, principalId: string, tag: string, extra: Partial<ModelCall> = {}): ModelCall {
  return { scope, principalId, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: `[${tag}] hello` }], ...extra };
}

/** A real workspace and principal in the test database, and a way to set its settings row. */
export async function workspaceIn(db: Db, name: string) {
  const turns = createTurnStore(db);
  const scope = await turns.resolveWorkspace({ platform: 'console', externalId: `${name}-${randomBytes(4).toString('hex')}` });
  const principal = await turns.resolvePrincipal(scope, { id: `u-${name}` }, { platformRole: 'member', deleted: false });
  return {
    scope,
    principalId: principal.id,
    turns,
    /** What `/agent limit …` and `/agent budget …` write. */
    async setSettings(values: Partial<typeof workspaceSettings.$inferInsert>) {
      await db
        .insert(workspaceSettings)
        .values({ workspaceId: scope.workspaceId, ...values })
        .onConflictDoUpdate({ target: workspaceSettings.workspaceId, set: { ...values, updatedAt: sql`now()` } });
    },
  };
}

/**
 * A fake provider (OpenAI-compatible unless another is given) for one describe block, and gates
 * that are closed after each test (their limiters and timers would otherwise outlive it). The
 * server's script is reset between tests.
 */
export function useFakeProvider(): { server: FakeOpenAIServer; track: <T extends ThrottlingGate>(gate: T) => T };
export function useFakeProvider<S extends FakeProviderServer>(server: S): { server: S; track: <T extends ThrottlingGate>(gate: T) => T };
export function useFakeProvider(server: FakeProviderServer = new FakeOpenAIServer()) {
  const gates: ThrottlingGate[] = [];
  beforeAll(() => server.start());
  afterEach(async () => {
    for (const gate of gates.splice(0)) await gate.close();
    server.reset();
  });
  afterAll(() => server.stop());
  return { server, track: <T extends ThrottlingGate>(gate: T) => (gates.push(gate), gate) };
}
