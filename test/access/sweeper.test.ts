/** Retention and uninstall purges: scheduled in the database, so a restart keeps the schedule. */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminStore } from '../../src/db/admin-store.js';
import { createAuditLog } from '../../src/db/audit-store.js';
import { auditLog, channels, conversations, messages, principals, scheduledJobs, workspaces } from '../../src/db/schema.js';
import { runDueJobs } from '../../src/db/sweeper.js';
import { upsertWorkspace } from '../../src/db/turn-store.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

describe.each(drivers)('scheduled deletions (%s)', (driver) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await db?.close();
  });

  async function seed(externalId: string, ages: number[]) {
    const scope = await upsertWorkspace(db.db, { platform: 'slack', externalId });
    const [p] = await db.db.insert(principals).values({ workspaceId: scope.workspaceId, platformUserId: 'U1', platformRole: 'member' }).returning();
    const [c] = await db.db.insert(channels).values({ workspaceId: scope.workspaceId, externalId: 'C1', kind: 'channel' }).returning();
    const [conv] = await db.db
      .insert(conversations)
      .values({ workspaceId: scope.workspaceId, channelId: c!.id, kind: 'channel', threadKey: 't' })
      .returning();
    for (const [i, days] of ages.entries())
      await db.db.insert(messages).values({
        workspaceId: scope.workspaceId,
        conversationId: conv!.id,
        principalId: p!.id,
        role: 'user',
        content: `m${i}`,
        idempotencyKey: `k${i}`,
        createdAt: sql`now() - ${`${days} days`}::interval`,
      });
    return { scope, principalId: p!.id };
  }
  const count = async (workspaceId: string) => (await db.db.select().from(messages).where(eq(messages.workspaceId, workspaceId))).length;

  it('retention DAYS deletes older messages of that workspace only, audited, on a schedule kept in the database', async () => {
    const a = await seed('TRET1', [40, 31, 10, 0]);
    const b = await seed('TRET2', [40, 0]);
    const admin = createAdminStore(db.db);
    await admin.apply(a.scope, { principalId: a.principalId, channelExternalId: 'C1' }, { kind: 'limit', key: 'retentionDays', value: 30 });
    // Setting retention made the job due now; a fresh process (no memory of its own) runs it.
    const first = await runDueJobs(db.db, { uninstallGraceDays: 30 });
    expect(first.retention).toEqual({ workspaces: 1, messages: 2, knowledge: 0 });
    expect(await count(a.scope.workspaceId)).toBe(2);
    expect(await count(b.scope.workspaceId)).toBe(2);
    const entries = await createAuditLog(db.db).list(a.scope, { limit: 1 });
    expect(entries[0]).toMatchObject({ action: 'erasure', detail: { kind: 'retention', days: 30, messages: 2 } });
    // Not due again until the next period: a restart within the hour runs nothing.
    expect((await runDueJobs(db.db, { uninstallGraceDays: 30 })).retention).toBeNull();
    const [job] = await db.db.select().from(scheduledJobs).where(eq(scheduledJobs.name, 'retention'));
    expect(job!.nextRunAt.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    // Once due (time passed), it runs again.
    await db.db.update(scheduledJobs).set({ nextRunAt: sql`now() - interval '1 second'` });
    await seed('TRET3', []);
    expect((await runDueJobs(db.db, { uninstallGraceDays: 30 })).retention).toEqual({ workspaces: 1, messages: 0, knowledge: 0 });
    expect((await db.db.select().from(auditLog).where(eq(auditLog.action, 'erasure'))).length).toBe(1);
  });

  it('retention also clears audit content kept longer than the period, keeping its hash', async () => {
    const w = await seed('TRETAUDIT', []);
    const admin = createAdminStore(db.db);
    const actor = { principalId: w.principalId, channelExternalId: 'C1' };
    await admin.apply(w.scope, actor, { kind: 'content', keep: true });
    const audit = createAuditLog(db.db);
    for (const text of ['old secret plan', 'new plan'])
      await audit.append(w.scope, { action: 'turn', outcome: 'ok', actorPrincipalId: w.principalId, channelExternalId: 'C1', channelKind: 'channel', content: text });
    await db.db.update(auditLog).set({ at: sql`now() - interval '40 days'` }).where(eq(auditLog.content, 'old secret plan'));
    await admin.apply(w.scope, actor, { kind: 'limit', key: 'retentionDays', value: 30 });
    await runDueJobs(db.db, { uninstallGraceDays: 30, force: true });
    const rows = await db.db.select().from(auditLog).where(and(eq(auditLog.workspaceId, w.scope.workspaceId), eq(auditLog.action, 'turn')));
    expect(rows.map((r) => r.content).sort()).toEqual(['new plan', null]);
    expect(rows.every((r) => r.contentHash !== null)).toBe(true);
    const [erasure] = await audit.list(w.scope, { limit: 1 });
    expect(erasure).toMatchObject({ action: 'erasure', detail: { kind: 'retention', auditContent: 1 } });
  });

  it('purges a workspace uninstalled longer ago than the grace period, with all its data', async () => {
    const gone = await seed('TGONE', [1]);
    const recent = await seed('TRECENT', [1]);
    await db.db.update(workspaces).set({ uninstalledAt: sql`now() - interval '31 days'` }).where(eq(workspaces.id, gone.scope.workspaceId));
    await db.db.update(workspaces).set({ uninstalledAt: sql`now() - interval '29 days'` }).where(eq(workspaces.id, recent.scope.workspaceId));
    const result = await runDueJobs(db.db, { uninstallGraceDays: 30, force: true });
    expect(result.purgedWorkspaces).toBe(1);
    expect(await db.db.select().from(workspaces).where(eq(workspaces.id, gone.scope.workspaceId))).toHaveLength(0);
    expect(await count(gone.scope.workspaceId)).toBe(0);
    expect(await db.db.select().from(principals).where(eq(principals.workspaceId, gone.scope.workspaceId))).toHaveLength(0);
    expect(await count(recent.scope.workspaceId)).toBe(1);
  });
});
