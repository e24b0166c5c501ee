/**
 * Isolation, as a property: ≥500 random scenarios through the real core on a real database
 * (one database, a workspace set per scenario), with a recording model: the path main.ts wires
 * (runTurn with the agent, the real stores). See isolation-model.ts. One test file per driver
 * (isolation.test.ts, isolation-postgres.test.ts): the two halves are the suite's longest, and
 * as two files they run on both workers at once instead of one after the other.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CoreDeps } from '../../src/core/turn.js';
import type { StoredMessage, TurnStore } from '../../src/core/ports.js';
import { createAdminStore } from '../../src/db/admin-store.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { agentDeps } from '../support/agent-deps.js';
import { openTestDatabase, type Driver, type TestDatabase } from '../support/db.js';
import { RecordingModelGate, ScopedFakePlatform, runScenario, scenarioArb } from './isolation-model.js';

const RUNS = Number(process.env.ISOLATION_RUNS ?? 500);

/** The property's tests on one driver's database, inside the caller's describe block. */
export function isolationTests(driver: Driver): void {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await db?.close();
  });

  function depsWith(turns: TurnStore) {
    const model = new RecordingModelGate();
    const platform = new ScopedFakePlatform();
    const deps: CoreDeps = { ...agentDeps(db, model, platform), turns, admin: createAdminStore(db.db) };
    return { deps, model, platform };
  }

  it(`no canary reaches an audience that may not see it (${RUNS} scenarios)`, async () => {
    const { deps, model, platform } = depsWith(createTurnStore(db.db));
    let scenarios = 0;
    let turns = 0;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const r = await runScenario(s, deps, model, platform, `s${scenarios++}`);
        turns += r.turns;
        checked += r.canariesChecked;
      }),
      { numRuns: RUNS, seed: Number(process.env.ISOLATION_SEED ?? 20261130) },
    );
    console.log(`isolation (${driver}): ${scenarios} scenarios, ${turns} turns, ${checked} canaries checked`);
    expect(scenarios).toBeGreaterThanOrEqual(RUNS);
    // The scenarios did reach prompts with earlier canaries in them (the check was exercised).
    expect(turns).toBeGreaterThan(RUNS);
    expect(checked).toBeGreaterThan(RUNS / 10);
    // ~25 s per driver on an idle 2-core machine; the margin is for loaded CI runners.
  }, 240_000);

  it('catches a store that leaks history across conversations (the property can fail)', async () => {
    const real = createTurnStore(db.db);
    const seen = new Set<string>();
    // Hands every turn the history of every conversation it has seen.
    const leaky: TurnStore = {
      ...real,
      async openTurn(scope, input) {
        const opened = await real.openTurn(scope, input);
        seen.add(opened.conversation.id);
        const all: StoredMessage[] = [];
        for (const id of seen) all.push(...(await real.listHistory(scope, id, input.historyLimit)));
        return { ...opened, history: all };
      },
    };
    const { deps, model, platform } = depsWith(leaky);
    let n = 0;
    const failure = await fc
      .assert(
        fc.asyncProperty(scenarioArb, (s) => runScenario(s, deps, model, platform, `leak${n++}`).then(() => undefined)),
        { numRuns: 100, seed: 7, endOnFailure: true },
      )
      .then(
        () => null,
        (err: Error) => err,
      );
    expect(failure).not.toBeNull();
    expect(String((failure as Error & { cause?: Error }).cause?.message ?? failure?.message)).toMatch(/canary CANARY-leak\d+-\d+ from .* reached/);
  });
}
