/** The inbox on drizzle: one row per platform delivery, claimed with FOR UPDATE SKIP LOCKED and a lease. */
import { and, count, eq, inArray, lt, min, or, sql, type SQL } from 'drizzle-orm';
import { envelopeSchema } from '../core/envelope.js';
import type { InboxItem, InboxStatus, InboxStore } from '../core/ports.js';
import { builtOnce, type Db } from './client.js';
import { groupCommit } from './group-commit.js';
import { inbox } from './schema.js';
import { createWorkspaceCache } from './turn-store.js';

/** The inbox serves every workspace (workers claim across all of them); rows still carry workspace_id. */
export function createInboxStore(db: Db, resolveWorkspace = createWorkspaceCache(db)): InboxStore {
  const leaseFromNow = sql`now() + ${sql.placeholder('leaseMs')}::int * interval '1 millisecond'`;
  // What every turn runs, built once (see builtOnce).
  const claim = builtOnce(() => {
    const claimable = db
      .select({ id: inbox.id })
      .from(inbox)
      .where(or(eq(inbox.status, 'pending'), and(eq(inbox.status, 'working'), lt(inbox.leaseUntil, sql`now()`))))
      .orderBy(inbox.id)
      .limit(sql.placeholder('limit'))
      .for('update', { skipLocked: true });
    return db
      .update(inbox)
      .set({
        status: 'working',
        claimedBy: sql`${sql.placeholder('workerId')}`,
        attempts: sql`${inbox.attempts} + 1`,
        leaseUntil: leaseFromNow,
        updatedAt: sql`now()`,
      })
      .where(inArray(inbox.id, claimable))
      .returning({
        id: inbox.id,
        envelope: inbox.envelope,
        attempts: inbox.attempts,
        statusMessageId: inbox.statusMessageId,
        partMessageIds: inbox.partMessageIds,
      })
      .prepare('inbox_claim');
  });
  // Turns finish together under load: their completions, status ids and part ids each go in one
  // statement (group-commit.ts), matched on the row and the worker that holds it. A completion
  // also ends the lease; the other two only note what was posted.
  type Held = { id: string; workerId: string };
  const noteHeld = (set: SQL, columns: string) =>
    groupCommit<Held & Record<string, unknown>, void>(async (rows) => {
      await db.execute(sql`update inbox set ${set}, updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id bigint, "workerId" text, ${sql.raw(columns)})
        where inbox.id = v.id and inbox.claimed_by = v."workerId"`);
      return rows.map(() => undefined);
    });
  const complete = noteHeld(sql`status = 'done', lease_until = null, platform_message_id = v."platformMessageId"`, '"platformMessageId" text');
  const rememberStatus = noteHeld(sql`status_message_id = v."statusMessageId"`, '"statusMessageId" text');
  // Only long replies write this: one write per part after the first, each before that part's text shows.
  const rememberParts = noteHeld(sql`part_message_ids = v."messageIds"`, '"messageIds" jsonb');
  return {
    async enqueue(envelope) {
      const { workspaceId } = await resolveWorkspace(envelope.workspace);
      const inserted = await db
        .insert(inbox)
        .values({
          workspaceId,
          platform: envelope.workspace.platform,
          idempotencyKey: envelope.idempotencyKey,
          envelope,
        })
        .onConflictDoNothing({ target: [inbox.platform, inbox.idempotencyKey] })
        .returning({ id: inbox.id });
      return inserted.length > 0 ? 'accepted' : 'duplicate';
    },

    async claim(workerId, limit, leaseMs): Promise<InboxItem[]> {
      const rows = await claim().execute({ workerId, limit, leaseMs });
      return rows
        .sort((a, b) => a.id - b.id)
        .map((r) => ({
          id: String(r.id),
          envelope: envelopeSchema.parse(r.envelope),
          attempts: r.attempts,
          statusMessageId: r.statusMessageId,
          partMessageIds: r.partMessageIds ?? [],
        }));
    },

    complete: (id, workerId, platformMessageId) => complete({ id, workerId, platformMessageId }),

    async renew(ids, workerId, leaseMs) {
      if (ids.length === 0) return;
      await db
        .update(inbox)
        .set({ leaseUntil: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
        .where(and(inArray(inbox.id, ids.map(Number)), eq(inbox.claimedBy, workerId), eq(inbox.status, 'working')));
    },

    rememberStatus: (id, workerId, statusMessageId) => rememberStatus({ id, workerId, statusMessageId }),

    rememberParts: (id, workerId, messageIds) => rememberParts({ id, workerId, messageIds }),

    async release(id, workerId, error, maxAttempts): Promise<InboxStatus> {
      const [row] = await db
        .update(inbox)
        .set({
          status: sql`case when ${inbox.attempts} >= ${maxAttempts} then 'dead' else 'pending' end`,
          leaseUntil: null,
          claimedBy: null,
          lastError: error.slice(0, 500),
          updatedAt: sql`now()`,
        })
        .where(and(eq(inbox.id, Number(id)), eq(inbox.claimedBy, workerId)))
        .returning({ status: inbox.status });
      return row?.status ?? 'pending';
    },

    async prune(doneMs, deadMs) {
      const deleted = await db
        .delete(inbox)
        .where(
          or(
            and(eq(inbox.status, 'done'), lt(inbox.updatedAt, sql`now() - ${`${doneMs} milliseconds`}::interval`)),
            and(eq(inbox.status, 'dead'), lt(inbox.updatedAt, sql`now() - ${`${deadMs} milliseconds`}::interval`)),
          ),
        )
        .returning({ id: inbox.id });
      return deleted.length;
    },

    async depth() {
      const [row] = await db
        .select({ pending: count(), oldest: min(inbox.createdAt) })
        .from(inbox)
        .where(inArray(inbox.status, ['pending', 'working']));
      return {
        pending: Number(row?.pending ?? 0),
        oldestPendingAgeMs: row?.oldest ? Math.max(0, Date.now() - new Date(row.oldest).getTime()) : null,
      };
    },
  };
}
