/**
 * Scheduled deletions that must survive restarts: message retention per workspace and the purge
 * of uninstalled workspaces after the grace period. The schedule lives in scheduled_jobs; an
 * instance runs a job only if its single-statement claim (next_run_at <= now) wins, so several
 * instances never run the same job twice, and a restart picks up where the schedule stands.
 */
import { and, eq, isNotNull, lt, lte, sql } from 'drizzle-orm';
import type { ConfirmationStore, Logger } from '../core/ports.js';
import type { Db } from './client.js';
import { appendAudit } from './audit-store.js';
import { signerOf } from './audit-signing.js';
import { auditLog, knowledgeChunks, knowledgeFileJobs, messages, scheduledJobs, workspaceSettings, workspaces } from './schema.js';
import { RETENTION_JOB } from './admin-store.js';
import { scopeOf } from './turn-store.js';

export const PURGE_JOB = 'uninstall-purge';
const JOB_PERIOD = '1 hour';

export interface SweepResult {
  retention: { workspaces: number; messages: number; knowledge: number } | null;
  purgedWorkspaces: number | null;
}

/** Takes a due job: moves its next run forward in the same statement that checks it is due. */
async function claim(db: Db, name: string): Promise<boolean> {
  await db.insert(scheduledJobs).values({ name, nextRunAt: sql`now()` }).onConflictDoNothing();
  const rows = await db
    .update(scheduledJobs)
    .set({ nextRunAt: sql`now() + ${JOB_PERIOD}::interval`, lastRunAt: sql`now()` })
    .where(and(eq(scheduledJobs.name, name), lte(scheduledJobs.nextRunAt, sql`now()`)))
    .returning({ name: scheduledJobs.name });
  return rows.length > 0;
}

export async function applyRetention(db: Db): Promise<{ workspaces: number; messages: number; knowledge: number }> {
  const due = await db
    .select({ id: workspaces.id, platform: workspaces.platform, days: workspaceSettings.retentionDays })
    .from(workspaceSettings)
    .innerJoin(workspaces, eq(workspaces.id, workspaceSettings.workspaceId))
    .where(isNotNull(workspaceSettings.retentionDays));
  let total = 0;
  let knowledge = 0;
  for (const ws of due) {
    const scope = scopeOf(ws);
    const deleted = await db.transaction(async (tx) => {
      const older = sql`now() - ${`${ws.days} days`}::interval`;
      const rows = await tx
        .delete(messages)
        .where(and(eq(messages.workspaceId, scope.workspaceId), lt(messages.createdAt, older)))
        .returning({ id: messages.id });
      // The knowledge index keeps nothing longer than the messages it was read from.
      const chunks = await tx
        .delete(knowledgeChunks)
        .where(and(eq(knowledgeChunks.workspaceId, scope.workspaceId), lt(knowledgeChunks.sourceAt, older)))
        .returning({ id: knowledgeChunks.id });
      knowledge += chunks.length;
      // And the files shared that long ago: not read (again) after their chunks expired.
      const files = await tx
        .delete(knowledgeFileJobs)
        .where(and(eq(knowledgeFileJobs.workspaceId, scope.workspaceId), lt(knowledgeFileJobs.sharedAt, older)))
        .returning({ fileId: knowledgeFileJobs.fileId });
      // Content kept in the audit log (`/agent content on`) expires with the messages; its hash stays, so the chain still verifies.
      const redacted = await tx
        .update(auditLog)
        .set({ content: null })
        .where(and(eq(auditLog.workspaceId, scope.workspaceId), isNotNull(auditLog.content), lt(auditLog.at, older)))
        .returning({ id: auditLog.id });
      if (rows.length > 0 || redacted.length > 0 || chunks.length > 0 || files.length > 0)
        await appendAudit(tx, scope, {
          action: 'erasure',
          outcome: 'ok',
          detail: { kind: 'retention', days: ws.days, messages: rows.length, auditContent: redacted.length, knowledge: chunks.length, knowledgeFiles: files.length },
        }, signerOf(db));
      return rows.length;
    });
    total += deleted;
  }
  return { workspaces: due.length, messages: total, knowledge };
}

/** Deletes workspaces removed more than graceDays ago; everything of theirs goes with them (cascade). */
export async function purgeUninstalled(db: Db, graceDays: number): Promise<number> {
  const rows = await db
    .delete(workspaces)
    .where(and(isNotNull(workspaces.uninstalledAt), lt(workspaces.uninstalledAt, sql`now() - ${`${graceDays} days`}::interval`)))
    .returning({ id: workspaces.id });
  return rows.length;
}

/** Runs the jobs that are due; `force` runs them regardless of the schedule (tests, operators). */
export async function runDueJobs(db: Db, options: { uninstallGraceDays: number; force?: boolean }): Promise<SweepResult> {
  const result: SweepResult = { retention: null, purgedWorkspaces: null };
  if (options.force || (await claim(db, RETENTION_JOB))) result.retention = await applyRetention(db);
  if (options.force || (await claim(db, PURGE_JOB))) result.purgedWorkspaces = await purgeUninstalled(db, options.uninstallGraceDays);
  return result;
}

export interface Sweeper {
  stop(): Promise<void>;
}

/** Checks for due jobs every `everyMs` (a minute by default). */
/** Decided confirmations are kept this long after they expired, then deleted (they hold the request's envelope). */
const CONFIRMATIONS_KEPT_MS = 24 * 3_600_000;

export function startSweeper(
  db: Db,
  options: { uninstallGraceDays: number; log: Logger; everyMs?: number; confirmations?: ConfirmationStore | undefined },
): Sweeper {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = runDueJobs(db, options)
      .then(async (r) => {
        // Pending confirmations past their time become expired (a later click says so).
        const expired = (await options.confirmations?.sweep(new Date(), CONFIRMATIONS_KEPT_MS)) ?? 0;
        if (expired) options.log.info({ event: 'sweep.confirmations_expired', expired }, 'confirmations expired');
        if (r.retention || r.purgedWorkspaces !== null)
          options.log.info({ event: 'sweep.done', retention: r.retention, purged: r.purgedWorkspaces }, 'scheduled deletions ran');
      })
      .catch((err: unknown) => options.log.warn({ event: 'sweep.failed', err: (err as Error).message }, 'scheduled deletions failed; will retry'))
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(tick, options.everyMs ?? 60_000);
          timer.unref?.();
        }
      });
  };
  timer = setTimeout(tick, 1_000);
  timer.unref?.();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
