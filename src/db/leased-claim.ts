/**
 * The claim of the index's leased work tables (the backfill's channels, the shared files to read):
 * the oldest due row of an installed workspace, taken in one statement by one worker of any
 * instance (`for update skip locked`) and leased to it. Due: its state is open, its lease ran out
 * (or it has none: the instance that held it died) and its retry time has come.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { WorkspaceRef } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { Db } from './client.js';
import { decodeRows } from './raw.js';
import { scopeOf } from './turn-store.js';

export interface LeasedTable {
  table: 'knowledge_channels' | 'knowledge_file_jobs';
  /** The row's key columns after the workspace (all rows here are keyed by workspace first). */
  keys: readonly string[];
  /** The state column and the value a claim sets. */
  state: string;
  running: string;
  /** The states a row may be claimed in. */
  open: readonly string[];
  /** A further condition on the row (alias `q`). */
  also?: SQL;
  /** The row's own columns the claim answers, besides the workspace and the channel. */
  returning: readonly string[];
}

/** What every claim answers: the workspace and the channel, beside the table's own columns. */
export const claimedBase = z.object({
  workspace_id: z.string(),
  platform: z.enum(['slack', 'teams', 'console']),
  external_id: z.string(),
  enterprise_id: z.string().nullable(),
  channel_external_id: z.string(),
  channel_kind: z.enum(['dm', 'group', 'channel']),
});

export async function claimLeased<T extends z.ZodRawShape>(
  db: Db,
  t: LeasedTable,
  row: z.ZodObject<T>,
  worker: { workerId: string; leaseMs: number },
): Promise<z.infer<z.ZodObject<T>> | null> {
  const keys = ['workspace_id', ...t.keys];
  const id = (name: string) => sql.raw(name);
  const same = sql.join(keys.map((k) => sql`q.${id(k)} = due.${id(k)}`), sql` and `);
  const returning = sql.join(
    ['q.workspace_id', 'w.platform', 'w.external_id', 'w.enterprise_id', 'q.channel_external_id', 'q.channel_kind', ...t.returning.map((c) => `q.${c}`)].map(id),
    sql`, `,
  );
  const open = sql.join(t.open.map((s) => sql`${s}`), sql`, `);
  const rows = decodeRows(
    row,
    await db.execute(sql`
      with due as (
        select ${sql.join(keys.map((k) => sql`q.${id(k)}`), sql`, `)}
        from ${id(t.table)} q
        join workspaces w on w.id = q.workspace_id and w.uninstalled_at is null
        where q.${id(t.state)} in (${open}) ${t.also ? sql`and ${t.also}` : sql``}
          and (q.lease_until is null or q.lease_until < now())
          and (q.not_before is null or q.not_before <= now())
        order by q.updated_at
        limit 1
        for update of q skip locked
      )
      update ${id(t.table)} q
      set ${id(t.state)} = ${t.running}, claimed_by = ${worker.workerId}, lease_until = now() + ${`${worker.leaseMs} milliseconds`}::interval, updated_at = now()
      from due, workspaces w
      where ${same} and w.id = q.workspace_id
      returning ${returning}`),
  );
  return rows[0] ?? null;
}

/** The claimed row's workspace, as the core names it. */
export function claimedWorkspace(row: z.infer<typeof claimedBase>): { scope: Scope; workspace: WorkspaceRef } {
  return {
    scope: scopeOf({ id: row.workspace_id, platform: row.platform }),
    workspace: { platform: row.platform, externalId: row.external_id, ...(row.enterprise_id ? { enterpriseId: row.enterprise_id } : {}) },
  };
}
