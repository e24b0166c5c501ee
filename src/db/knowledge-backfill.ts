/**
 * The backfill queue's claim: one due channel of any workspace, taken in one statement
 * (`for update skip locked`), so that instances never work on the same channel, and a channel
 * whose lease ran out (its instance died) is taken again where its stored cursor stands.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { BackfillClaim } from '../core/ports.js';
import type { Db } from './client.js';
import { col, decodeRows } from './raw.js';
import { scopeOf } from './turn-store.js';

const claimedRow = z.object({
  workspace_id: z.string(),
  platform: z.enum(['slack', 'teams', 'console']),
  external_id: z.string(),
  enterprise_id: z.string().nullable(),
  channel_external_id: z.string(),
  channel_kind: z.enum(['dm', 'group', 'channel']),
  cursor: z.string().nullable(),
  pages: col.number,
});

export async function claimBackfill(db: Db, workerId: string, leaseMs: number): Promise<BackfillClaim | null> {
  const rows = decodeRows(
    claimedRow,
    await db.execute(sql`
      with due as (
        select k.workspace_id, k.channel_external_id
        from knowledge_channels k
        join workspaces w on w.id = k.workspace_id and w.uninstalled_at is null
        where k.backfill in ('pending', 'running') and k.enabled
          and (k.lease_until is null or k.lease_until < now())
          and (k.not_before is null or k.not_before <= now())
        order by k.updated_at
        limit 1
        for update of k skip locked
      )
      update knowledge_channels k
      set backfill = 'running', claimed_by = ${workerId}, lease_until = now() + ${`${leaseMs} milliseconds`}::interval, updated_at = now()
      from due, workspaces w
      where k.workspace_id = due.workspace_id and k.channel_external_id = due.channel_external_id and w.id = k.workspace_id
      returning k.workspace_id, w.platform, w.external_id, w.enterprise_id, k.channel_external_id, k.channel_kind, k.cursor, k.pages`),
  );
  const row = rows[0];
  if (!row) return null;
  return {
    scope: scopeOf({ id: row.workspace_id, platform: row.platform }),
    workspace: { platform: row.platform, externalId: row.external_id, ...(row.enterprise_id ? { enterpriseId: row.enterprise_id } : {}) },
    channel: { id: row.channel_external_id, kind: row.channel_kind },
    cursor: row.cursor,
    pages: row.pages,
  };
}
