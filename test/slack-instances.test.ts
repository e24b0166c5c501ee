/**
 * The load test in its short form: two instances of the real service (child processes) on one
 * PostgreSQL, 500 signed Slack events across 20 workspaces sent to both: 500 replies, none twice,
 * as the fake Slack recorded them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeSlackApi } from './fakes/slack-api.js';
import { startChild, type Child } from './support/child.js';
import { openTestDatabase, type TestDatabase } from './support/db.js';
import { answersByEvent, fleetEnv, installFleet, signedDm } from './support/slack-fleet.js';
import { waitFor } from './support/wait.js';
import { describeWith } from './support/services.js';

const WORKSPACES = 20;
const EVENTS = 500;

describeWith('postgres', 'two instances behind one Slack app (postgres, child processes)', () => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  const children: Child[] = [];

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    api = await new FakeSlackApi().start();
    await installFleet(db.url!, api, WORKSPACES);
  });
  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGKILL');
      await c.exited;
    }
    await api?.stop();
    await db?.close();
  });

  it('answers 500 events across 20 workspaces once each', { timeout: 300_000 }, async () => {
    for (let i = 0; i < 2; i++)
      children.push(
        startChild({
          ...fleetEnv(api),
          DATABASE_URL: db.url!,
          DATA_DIR: `/tmp/quorum-fleet-${process.pid}-${i}`,
          NODE_ENV: 'production',
          LOG_LEVEL: 'info',
          WORKSPACE_RPM: '100000',
        }),
      );
    const urls = await Promise.all(children.map((c) => c.ready()));
    const statuses: number[] = [];
    // Bounded concurrency, like a platform's delivery workers.
    let next = 0;
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < EVENTS) {
          const n = next++;
          const { body, headers } = signedDm(n % WORKSPACES, n, 'fleet');
          const res = await fetch(`${urls[n % 2]}/slack/events`, { method: 'POST', headers, body });
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await waitFor(() => answersByEvent(api, 'fleet').answers.size === EVENTS, { timeoutMs: 240_000, everyMs: 500 });
    const { answers, duplicated } = answersByEvent(api, 'fleet');
    expect(answers.size).toBe(EVENTS);
    expect(duplicated).toBe(0);
    // Each workspace's replies used that workspace's own token.
    for (const call of api.calls.filter((c) => c.method === 'chat.postMessage')) {
      const w = Number(/^D(\d+)U/.exec(call.params.channel ?? '')?.[1]);
      expect(call.token).toBe(`xoxb-fleet-${w}`);
    }
  });
});
