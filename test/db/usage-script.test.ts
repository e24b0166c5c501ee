/** `npm run usage`: every workspace's calls, tokens and cost per model, from the configured database, as CSV, JSON or a table. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { createUsageLedger } from '../../src/db/usage-ledger.js';
import { drivers, openScriptDatabase } from '../support/db.js';

const run = promisify(execFile);

async function usage(env: Record<string, string>, args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/usage.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

describe.each(drivers)('npm run usage (%s)', (driver) => {
  let database: Database;
  let env: Record<string, string>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ database, env, close } = await openScriptDatabase(driver));
    const turns = createTurnStore(database.db);
    const ledger = createUsageLedger(database.db);
    for (const [team, model, n] of [['T0USAGEA', 'gpt-x', 3], ['T0USAGEB', 'claude-y', 2]] as const) {
      const scope = await turns.resolveWorkspace({ platform: 'slack', externalId: team });
      const who = await turns.resolvePrincipal(scope, { id: 'U1' }, { platformRole: 'member', deleted: false });
      for (let i = 0; i < n; i++) {
        await ledger.settle(scope, { principalId: who.id, reservationId: null, budgets: [], entries: [{ model, usage: { inputTokens: 100, outputTokens: 10 }, costMicroUsd: 1_500 }] });
      }
    }
    // PGlite on disk is one process's at a time: the child opens it next.
    if (driver === 'pglite') await database.close();
  });
  afterAll(async () => {
    if (driver !== 'pglite') await close?.();
  });

  it('prints CSV, JSON and a table of the same sums, and refuses bad arguments', async () => {
    const asCsv = await usage(env, ['--since', '30d', '--format', 'csv']);
    expect(asCsv.code).toBe(0);
    expect(asCsv.out.trim().split('\n')).toEqual([
      'platform,workspace,model,calls,input_tokens,output_tokens,cost_usd',
      'slack,T0USAGEA,gpt-x,3,300,30,0.004500',
      'slack,T0USAGEB,claude-y,2,200,20,0.003000',
    ]);
    const asJson = await usage(env, ['--since', 'month', '--format', 'json']);
    expect(JSON.parse(asJson.out).rows).toEqual([
      { platform: 'slack', workspace: 'T0USAGEA', key: 'gpt-x', calls: 3, inputTokens: 300, outputTokens: 30, costMicroUsd: 4_500 },
      { platform: 'slack', workspace: 'T0USAGEB', key: 'claude-y', calls: 2, inputTokens: 200, outputTokens: 20, costMicroUsd: 3_000 },
    ]);
    const asTable = await usage(env, []);
    expect(asTable.out).toMatch(/\ntotal\s+5\s+500\s+50\s+\$0\.0075\n/);
    const bad = await usage(env, ['--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('Usage: npm run usage');
  }, 120_000);
});
