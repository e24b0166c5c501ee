/**
 * Fair across workspaces, end to end: signed Slack events to /slack/events, the fake Slack, the
 * real database, the real gate. Workspace 0 floods well past its limits (an admin set it to one
 * model call a minute); workspace 1 then sends a few DMs. Workspace 1's turns are claimed and
 * answered while the flood has been answered once (per instance), with the default worker pool
 * and with WORKER_CONCURRENCY=8 where the flood may even run 8 at once, and with two instances on
 * PostgreSQL. The flood's senders are told they wait; nothing is lost: once the admin lifts the
 * limit, every flood message is answered, once.
 * Order and counts only: the flood cannot be answered a second time within the test (60 s apart).
 */
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inbox, workspaceSettings } from '../src/db/schema.js';
import { createTurnStore } from '../src/db/turn-store.js';
import { FakeSlackApi } from './fakes/slack-api.js';
import { startTestApp, type TestApp } from './support/app.js';
import { drivers, openTestDatabase, type Driver, type TestDatabase } from './support/db.js';
import { answersByEvent, fleetEnv, fleetTeam, installFleetIn, signedDm } from './support/slack-fleet.js';
import { waitFor } from './support/wait.js';
import { describeWith } from './support/services.js';

const FLOOD = 40;
const QUIET = 4;
const FLOODER = 0;
const QUIET_WS = 1;

async function setFloodLimits(db: TestDatabase, values: { rpm: number; concurrency: number | null }) {
  const scope = await createTurnStore(db.db).resolveWorkspace({ platform: 'slack', externalId: fleetTeam(FLOODER) });
  await db.db
    .insert(workspaceSettings)
    .values({ workspaceId: scope.workspaceId, ...values })
    .onConflictDoUpdate({ target: workspaceSettings.workspaceId, set: { ...values, updatedAt: sql`now()` } });
  return scope.workspaceId;
}

async function send(apps: TestApp[], w: number, count: number, label: string) {
  for (let n = 0; n < count; n++) {
    const { body, headers } = signedDm(w, n, label);
    const res = await fetch(`${apps[n % apps.length]!.baseUrl}/slack/events`, { method: 'POST', headers, body });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  }
}

/** The flood's "busy" notices the fake Slack received (in the flood workspace's DMs, with its token). */
function busyNotices(api: FakeSlackApi, w: number) {
  return api.calls.filter((c) => c.method === 'chat.postMessage' && (c.params.text ?? '').includes('Busy right now') && c.token === `xoxb-fleet-${w}`);
}

interface Scenario {
  name: string;
  env: Record<string, string>;
  /** The flood workspace's concurrency (null: WORKSPACE_CONCURRENCY, 4). */
  floodConcurrency: number | null;
  instances: number;
}

async function floodAndQuiet(driver: Driver, scenario: Scenario): Promise<void> {
  const db = await openTestDatabase(driver);
  const api = await new FakeSlackApi().start();
  const apps: TestApp[] = [];
  const start = async () => {
    // Turns still waiting on the flood's limiter are handed back at stop, not waited for.
    const env = { ...fleetEnv(api), SHUTDOWN_GRACE_MS: '200', ...scenario.env };
    for (let i = 0; i < scenario.instances; i++) apps.push(await startTestApp(db, { env }));
  };
  const stopAll = async () => {
    for (const app of apps.splice(0)) await app.stop();
  };
  try {
    await installFleetIn(db.db, api, 2);
    const floodId = await setFloodLimits(db, { rpm: 1, concurrency: scenario.floodConcurrency });
    await start();

    await send(apps, FLOODER, FLOOD, 'flood');
    await send(apps, QUIET_WS, QUIET, 'quiet');
    await waitFor(() => answersByEvent(api, 'quiet').answers.size === QUIET, { timeoutMs: 60_000, everyMs: 100 });
    // One model call a minute per instance: the flood has had its one answer (each) at most.
    expect(answersByEvent(api, 'flood').answers.size).toBeLessThanOrEqual(scenario.instances);
    const floodRows = await db.db.select().from(inbox).where(eq(inbox.workspaceId, floodId));
    expect(floodRows).toHaveLength(FLOOD);
    // Never more claimed than the flood may run, over every instance.
    expect(floodRows.filter((r) => r.status === 'working').length).toBeLessThanOrEqual(scenario.floodConcurrency ?? 4);
    expect(floodRows.filter((r) => r.status === 'dead')).toEqual([]);

    // The flood's waiting senders are told so, each once, with their place; the quiet ones never.
    await waitFor(() => busyNotices(api, FLOODER).length >= 10, { timeoutMs: 30_000, everyMs: 100 });
    const told = busyNotices(api, FLOODER).map((c) => Number(/number (\d+) in the queue/.exec(c.params.text ?? '')?.[1]));
    expect(told.every((n) => n > 1 && n <= FLOOD)).toBe(true);
    expect(busyNotices(api, QUIET_WS)).toEqual([]);

    // The admin lifts the limit: the backlog is worked off, every message answered once.
    await stopAll();
    await setFloodLimits(db, { rpm: 100_000, concurrency: null });
    await start();
    await waitFor(() => answersByEvent(api, 'flood').answers.size === FLOOD, { timeoutMs: 90_000, everyMs: 200 });
    expect(answersByEvent(api, 'flood').duplicated).toBe(0);
    expect(answersByEvent(api, 'quiet').duplicated).toBe(0);
    await waitFor(async () => (await db.db.select().from(inbox).where(and(eq(inbox.workspaceId, floodId), eq(inbox.status, 'done')))).length === FLOOD);
  } finally {
    await stopAll();
    await api.stop();
    await db.close();
  }
}

const oneInstance: Scenario[] = [
  { name: 'the default worker pool', env: {}, floodConcurrency: null, instances: 1 },
  // The flood may run as many turns as the pool has slots: only lending the slots of turns that
  // wait on their limiter leaves room for the quiet workspace.
  { name: 'WORKER_CONCURRENCY=8, the flood allowed 8 at once', env: { WORKER_CONCURRENCY: '8' }, floodConcurrency: 8, instances: 1 },
];

describe.each(drivers)('fair across workspaces through /slack/events (%s)', (driver) => {
  it.each(oneInstance)('a flood does not hold back another workspace: $name', { timeout: 240_000 }, (scenario) => floodAndQuiet(driver, scenario));
});

describeWith('postgres', 'fair across workspaces with two instances (postgres)', () => {
  it('a flood does not hold back another workspace, and its cap counts both instances', { timeout: 240_000 }, () =>
    floodAndQuiet('postgres', { name: 'two instances', env: { WORKER_CONCURRENCY: '8' }, floodConcurrency: 3, instances: 2 }),
  );
});

describe.each(drivers)("Slack's rate limit on one workspace (%s)", (driver) => {
  it("holds back that workspace's replies only", { timeout: 120_000 }, async () => {
    const db = await openTestDatabase(driver);
    const api = await new FakeSlackApi().start();
    let app: TestApp | null = null;
    try {
      await installFleetIn(db.db, api, 2);
      // Slack answers the flood workspace's next post with 429, Retry-After 30 s.
      api.rateLimits.set(`chat.postMessage xoxb-fleet-${FLOODER}`, { times: 1, retryAfter: 30 });
      app = await startTestApp(db, { env: { ...fleetEnv(api), SHUTDOWN_GRACE_MS: '200', WORKER_CONCURRENCY: '8' } });
      await send([app], FLOODER, 1, 'limited');
      await waitFor(() => api.calls.some((c) => c.method === 'chat.postMessage' && c.token === `xoxb-fleet-${FLOODER}`), { timeoutMs: 20_000 });
      await send([app], QUIET_WS, QUIET, 'quiet');
      // Well inside the 30 s: WebClient's own handling would pause every workspace's posts that long.
      await waitFor(() => answersByEvent(api, 'quiet').answers.size === QUIET, { timeoutMs: 20_000, everyMs: 100 });
      expect(answersByEvent(api, 'limited').answers.size).toBe(0);
    } finally {
      await app?.stop();
      await api.stop();
      await db.close();
    }
  });
});
