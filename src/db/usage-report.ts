/**
 * Usage reports from the usage ledger (the `usage` table): calls, tokens and cost per user, model
 * or channel over a range of UTC days. `/agent usage` reads one workspace (scoped); the operator's
 * `npm run usage` reads every workspace, which is what it is for.
 */
import { and, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { UsageQuery, UsageRow } from '../core/ports.js';
import type { Db } from './client.js';
import { principals, usage, workspaces } from './schema.js';

const totals = {
  calls: sql<number>`coalesce(sum(${usage.calls}), 0)::int`,
  inputTokens: sql<string>`coalesce(sum(${usage.inputTokens}), 0)::bigint`,
  outputTokens: sql<string>`coalesce(sum(${usage.outputTokens}), 0)::bigint`,
  costMicroUsd: sql<string>`coalesce(sum(${usage.costMicroUsd}), 0)::bigint`,
};

function groupKey(by: UsageQuery['by']): SQL<string> {
  if (by === 'user') return sql<string>`coalesce(${principals.platformUserId}, '?')`;
  if (by === 'model') return sql<string>`${usage.model}`;
  if (by === 'channel') return sql<string>`${usage.channel}`;
  return sql<string>`''`;
}

const rowOf = (r: { key: string; calls: number; inputTokens: string | number; outputTokens: string | number; costMicroUsd: string | number }): UsageRow => ({
  key: r.key,
  calls: Number(r.calls),
  inputTokens: Number(r.inputTokens),
  outputTokens: Number(r.outputTokens),
  costMicroUsd: Number(r.costMicroUsd),
});

/** One workspace's usage, one row per group, dearest first (ties by name). */
export async function workspaceUsage(db: Db, scope: Scope, query: UsageQuery): Promise<UsageRow[]> {
  const key = groupKey(query.by);
  const base = db
    .select({ key, ...totals })
    .from(usage)
    .leftJoin(principals, and(eq(principals.id, usage.principalId), eq(principals.workspaceId, usage.workspaceId)))
    .where(
      and(
        eq(usage.workspaceId, scope.workspaceId),
        gte(usage.day, query.from),
        lte(usage.day, query.to),
        query.principalId ? eq(usage.principalId, query.principalId) : undefined,
      ),
    );
  // Without a grouping the whole range is one row.
  const rows = query.by === null ? await base : await base.groupBy(key).orderBy(sql`sum(${usage.costMicroUsd}) desc`, key);
  return rows.filter((r) => Number(r.calls) > 0).map(rowOf);
}

export interface AllWorkspacesRow extends UsageRow {
  platform: string;
  workspace: string;
}

/** Every workspace's usage since `from` (a UTC day), per workspace and model: for operators (`npm run usage`). */
export async function usageOfAllWorkspaces(db: Db, from: string, to: string): Promise<AllWorkspacesRow[]> {
  const rows = await db
    .select({ platform: workspaces.platform, workspace: workspaces.externalId, key: usage.model, ...totals })
    .from(usage)
    .innerJoin(workspaces, eq(workspaces.id, usage.workspaceId))
    .where(and(gte(usage.day, from), lte(usage.day, to)))
    .groupBy(workspaces.platform, workspaces.externalId, usage.model)
    .orderBy(workspaces.platform, workspaces.externalId, usage.model);
  return rows.map((r) => ({ platform: r.platform, workspace: r.workspace, ...rowOf(r) }));
}
