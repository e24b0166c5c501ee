/** The audit hash chain: `npm run audit:verify` finds an edited row and deleted newest entries. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/db/audit-store.js';
import { verifyAllChains } from '../../src/db/audit-verify.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { auditLog, workspaces } from '../../src/db/schema.js';
import { upsertWorkspace } from '../../src/db/turn-store.js';
import { drivers, openScriptDatabase } from '../support/db.js';

const run = promisify(execFile);

/** Runs the real script; the exit code and output are the result. */
async function auditVerify(env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe.each(drivers)('audit:verify (%s)', (driver) => {
  let database: Database;
  let env: Record<string, string>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ database, env, close } = await openScriptDatabase(driver));
    const audit = createAuditLog(database.db);
    for (const ext of ['T1', 'T2']) {
      const scope = await upsertWorkspace(database.db, { platform: 'slack', externalId: ext });
      for (let i = 0; i < 5; i++)
        await audit.append(scope, { action: 'turn', outcome: 'ok', content: `text ${i}`, model: 'm', inputTokens: i, detail: { i } });
    }
  });
  afterAll(async () => {
    // On PGlite `reopen` replaced the database the helper opened: close the one open now.
    await (driver === 'pglite' ? database?.close() : close?.());
  });

  const workspaceId = async (ext: string) =>
    (await database.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.externalId, ext)))[0]!.id;

  const reopen = async <T>(fn: () => Promise<T>): Promise<T> => {
    // PGlite on disk is one process's at a time: close around the child run, then open again.
    if (driver !== 'pglite') return fn();
    await database.close();
    try {
      return await fn();
    } finally {
      database = await openDatabase({ dataDir: env.DATA_DIR! });
    }
  };

  it('passes an intact chain', async () => {
    expect((await verifyAllChains(database.db)).map((r) => r.ok)).toEqual([true, true]);
    const result = await reopen(() => auditVerify(env));
    expect(result.code).toBe(0);
    expect(result.out).toContain('2 chains intact');
  }, 90_000);

  it('reports the first broken link when one row is edited, with a non-zero exit', async () => {
    const ws = await workspaceId('T2');
    await database.db.update(auditLog).set({ inputTokens: 999 }).where(and(eq(auditLog.workspaceId, ws), eq(auditLog.seq, 3)));
    const reports = await verifyAllChains(database.db);
    expect(reports.find((r) => r.externalId === 'T2')).toMatchObject({ ok: false, brokenAtSeq: 3, reason: 'entry was changed' });
    expect(reports.find((r) => r.externalId === 'T1')).toMatchObject({ ok: true });
    const result = await reopen(() => auditVerify(env));
    expect(result.code).toBe(1);
    expect(result.out).toContain('BROKEN  slack:T2  first broken link at seq 3: entry was changed');
  }, 90_000);

  it('detects deleted newest entries through the chain head', async () => {
    const ws = await workspaceId('T1');
    await database.db.delete(auditLog).where(and(eq(auditLog.workspaceId, ws), eq(auditLog.seq, 5)));
    expect((await verifyAllChains(database.db)).find((r) => r.externalId === 'T1')).toMatchObject({ ok: false, brokenAtSeq: 5 });
    // An edited kept content shows as well.
    await database.db.update(auditLog).set({ content: 'forged' }).where(and(eq(auditLog.workspaceId, ws), eq(auditLog.seq, 2)));
    expect((await verifyAllChains(database.db)).find((r) => r.externalId === 'T1')).toMatchObject({ ok: false, brokenAtSeq: 2, reason: 'content was changed' });
  });
});
