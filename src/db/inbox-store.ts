/**
 * The inbox on drizzle: one row per platform delivery, claimed with a lease, fairly across
 * workspaces (see claimFairly).
 */
import { and, count, eq, inArray, lt, min, or, sql, type SQL } from 'drizzle-orm';
import { envelopeSchema } from '../core/envelope.js';
import type { InboxItem, InboxStatus, InboxStore } from '../core/ports.js';
import type { Db } from './client.js';
import { z } from 'zod';
import { col, decodeRows } from './raw.js';
import { groupCommit } from './group-commit.js';
import { inbox } from './schema.js';
import { createWorkspaceCache } from './turn-store.js';

/** The inbox serves every workspace (workers claim across all of them); rows still carry workspace_id. */
export function createInboxStore(db: Db, resolveWorkspace = createWorkspaceCache(db)): InboxStore {
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

    async claim(workerId, limit, leaseMs, perWorkspace): Promise<InboxItem[]> {
      const rows = await claimFairly(db, { workerId, limit, leaseMs, perWorkspace });
      return rows
        .sort((a, b) => a.id - b.id)
        .map((r) => ({ ...r, id: String(r.id), partMessageIds: r.partMessageIds ?? [] }));
    },

    async takeQueuedNotices(olderThanMs, limit, perWorkspace) {
      const rows = decodeRows(
        noticeRow,
        await db.execute(sql`with running as (
            select workspace_id, count(*)::int as n from inbox
            where status = 'working' and lease_until >= now() group by workspace_id
          ), held_back as (
            select r.workspace_id from running r left join workspace_settings s on s.workspace_id = r.workspace_id
            where r.n >= coalesce(s.concurrency, ${perWorkspace}::int)
          ), waiting as (
            select id, workspace_id, queued_notice_at, status_message_id, status, created_at,
              row_number() over (partition by workspace_id order by id) as position
            from inbox where status in ('pending', 'working') and workspace_id in (select workspace_id from held_back)
          ), due as (
            select w.id, w.position from waiting w
            where w.status = 'pending' and w.queued_notice_at is null and w.status_message_id is null
              and w.created_at < now() - ${olderThanMs}::int * interval '1 millisecond'
            order by w.id limit ${limit}
          )
          update inbox set queued_notice_at = now() from due
          where inbox.id = due.id and inbox.queued_notice_at is null and inbox.status = 'pending'
          returning inbox.id, inbox.envelope, due.position`),
      );
      return rows.map((r) => ({ ...r, id: String(r.id) }));
    },

    async rememberQueuedStatus(id, statusMessageId) {
      await db
        .update(inbox)
        .set({ statusMessageId, updatedAt: sql`now()` })
        .where(and(eq(inbox.id, Number(id)), sql`${inbox.statusMessageId} is null`, inArray(inbox.status, ['pending', 'working'])));
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

const claimedRow = z.object({
  id: col.number,
  envelope: envelopeSchema,
  attempts: z.number(),
  statusMessageId: z.string().nullable(),
  partMessageIds: z.array(z.string()).nullable(),
});
const noticeRow = z.object({ id: col.number, envelope: envelopeSchema, position: col.number });

/** Any constant: every instance's claims take this one advisory lock, so that caps count every instance's claims. */
const CLAIM_LOCK = 0x51_0c_1a_17;

/**
 * Fair claiming. A workspace may hold as many leased rows as its concurrency lets it run (its
 * settings row, else the default), counted over every instance; what it may still take is
 * claimed round-robin with every other workspace's (each one's 1st row, then each one's 2nd, …),
 * so one workspace's backlog never stands in front of another's turn. Claims of all instances
 * take one advisory lock for the length of the statement's transaction: two instances claiming at
 * once cannot both see room for the same workspace, nor pick the same row (so no row locks: the
 * update re-checks that each row is still claimable). A claim takes at most each workspace's
 * round-robin share; the worker claims again as turns finish.
 */
async function claimFairly(db: Db, p: { workerId: string; limit: number; leaseMs: number; perWorkspace: number }): Promise<z.infer<typeof claimedRow>[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
    return decodeRows(
      claimedRow,
      await tx.execute(sql`with running as (
          select workspace_id, count(*)::int as n from inbox
          where status = 'working' and lease_until >= now() group by workspace_id
        ), ready as (
          select distinct workspace_id from inbox
          where status = 'pending' or (status = 'working' and lease_until < now())
        ), room as (
          select r.workspace_id, greatest(coalesce(s.concurrency, ${p.perWorkspace}::int) - coalesce(run.n, 0), 0) as free
          from ready r
          left join workspace_settings s on s.workspace_id = r.workspace_id
          left join running run on run.workspace_id = r.workspace_id
        ), share as (
          -- No workspace can get more than its round-robin share of this claim (or its room).
          select ceil(${p.limit}::numeric / greatest(count(*), 1))::int as n from room where free > 0
        ), picked as (
          select room.workspace_id, c.id from room cross join share cross join lateral (
            select i.id from inbox i
            where i.workspace_id = room.workspace_id
              and (i.status = 'pending' or (i.status = 'working' and i.lease_until < now()))
            order by i.id limit least(room.free, share.n)
          ) c
        ), turn as (
          select id from (select id, row_number() over (partition by workspace_id order by id) as rn from picked) ranked
          order by rn, id limit ${p.limit}::int
        )
        update inbox set status = 'working', claimed_by = ${p.workerId}, attempts = inbox.attempts + 1,
          lease_until = now() + ${p.leaseMs}::int * interval '1 millisecond', updated_at = now()
        from turn where inbox.id = turn.id
          and (inbox.status = 'pending' or (inbox.status = 'working' and inbox.lease_until < now()))
        returning inbox.id, inbox.envelope, inbox.attempts, inbox.status_message_id as "statusMessageId", inbox.part_message_ids as "partMessageIds"`),
    );
  });
}
