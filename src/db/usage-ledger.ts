/**
 * UsageLedger on drizzle: today's token spend per workspace (budget_days) and usage rows per
 * workspace, user, model and day. The day is the database's `current_date` for both tables so
 * that budgets and usage reports agree.
 */
import { sql } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { UsageEntry, UsageLedger } from '../core/ports.js';
import { z } from 'zod';
import { builtOnce, type Db } from './client.js';
import { col, decodeRows, scoped, scopedBatch } from './raw.js';
import { groupCommit } from './group-commit.js';
import { budgetDays } from './schema.js';

export function createUsageLedger(db: Db): UsageLedger {
  // Every model call reserves and settles: built once / written as plain SQL (see builtOnce).
  const reserve = builtOnce(() =>
    db
      .insert(budgetDays)
      .values({ workspaceId: sql.placeholder('workspaceId'), day: sql`current_date`, spentTokens: sql.placeholder('tokens') })
      .onConflictDoUpdate({
        target: [budgetDays.workspaceId, budgetDays.day],
        set: { spentTokens: sql`${budgetDays.spentTokens} + excluded.spent_tokens` },
        setWhere: sql`${budgetDays.spentTokens} + excluded.spent_tokens <= ${sql.placeholder('dailyTokens')}::bigint`,
      })
      .returning({ spent: budgetDays.spentTokens })
      .prepare('budget_reserve'),
  );
  const settle = groupCommit((batch: Settlement[]) => settleBatch(db, batch), { retryAlone: true });
  return {
    async reserve(scope: Scope, tokens: number, dailyTokens: number): Promise<boolean> {
      // A first insert always fits once this holds; later ones fit only through the WHERE below.
      if (tokens > dailyTokens) return false;
      // One statement: the row lock orders concurrent reservations and the WHERE is re-checked
      // against the newest row, so twenty concurrent calls cannot all see room for one more.
      const rows = await reserve().execute({ workspaceId: scope.workspaceId, tokens, dailyTokens });
      return rows.length > 0;
    },

    settle: (scope, input) => settle({ scope, input }),
  };
}

const settledRow = z.object({ ws: z.string(), spent: col.number, crossed: z.boolean() });

type Settlement = { scope: Scope; input: Parameters<UsageLedger['settle']>[1] };

/**
 * Settles calls that finish together in one statement (group-commit.ts). An upsert may touch a
 * row only once, so the batch is summed per workspace (spend) and per workspace, user and model
 * (usage) first; every call of a workspace then learns the same new total, and only its first
 * call learns that the warning was crossed, so admins are still told once a day.
 */
async function settleBatch(db: Db, batch: Settlement[]): Promise<{ spentTokens: number; crossedWarning: boolean }[]> {
  const spend = new Map<string, { scope: Scope; values: { used: number; delta: number; warnAt: number | null } }>();
  for (const { scope, input } of batch) {
    const used = input.entries.reduce((sum, e) => sum + e.usage.inputTokens + e.usage.outputTokens, 0);
    const row = spend.get(scope.workspaceId) ?? { scope, values: { used: 0, delta: 0, warnAt: input.warnAt } };
    row.values.used += used;
    row.values.delta += used - input.reservedTokens;
    spend.set(scope.workspaceId, row);
  }
  const spent = scopedBatch('v', { used: 'bigint', delta: 'bigint', warnAt: 'bigint' }, [...spend.values()]);
  const usage = scopedBatch(
    'u',
    { principal: 'uuid', model: 'text', calls: 'int', inputTokens: 'bigint', outputTokens: 'bigint', costMicroUsd: 'bigint' },
    [...groupBy(batch, ({ scope, input }) => `${scope.workspaceId}/${input.principalId}`).values()].flatMap((calls) =>
      usageRows(calls.flatMap((c) => c.input.entries)).map((u) => ({ scope: calls[0]!.scope, values: { principal: calls[0]!.input.principalId, ...u } })),
    ),
  );
  // greatest(0, …): a reservation made yesterday and settled after midnight must not go negative.
  // Only the statement that sets warned_at crosses the warning. The spend and the usage rows move
  // together or not at all.
  const statement = scoped(spent, (ws) =>
    scoped(
      usage,
      (usageWs) => sql`with v as (select * from ${spent.from}),
      b as (
        insert into budget_days (workspace_id, day, spent_tokens, warned_at)
        select ${ws}, current_date, v.used, case when v."warnAt" is not null and v.used >= v."warnAt" then now() end from v order by v.ws
        on conflict (workspace_id, day) do update set
          spent_tokens = greatest(0, budget_days.spent_tokens + (select v.delta from v where v.ws = excluded.workspace_id)),
          warned_at = case
            when budget_days.warned_at is null
              and (select v."warnAt" from v where v.ws = excluded.workspace_id) is not null
              and greatest(0, budget_days.spent_tokens + (select v.delta from v where v.ws = excluded.workspace_id))
                >= (select v."warnAt" from v where v.ws = excluded.workspace_id) then now()
            else budget_days.warned_at end
        returning workspace_id as ws, spent_tokens as spent, coalesce(warned_at = now(), false) as crossed),
      u as (
        insert into usage (workspace_id, principal_id, day, model, calls, input_tokens, output_tokens, cost_micro_usd)
        select ${usageWs}, u.principal, current_date, u.model, u.calls, u."inputTokens", u."outputTokens", u."costMicroUsd"
        from ${usage.from}
        on conflict (workspace_id, principal_id, day, model) do update set
          calls = usage.calls + excluded.calls,
          input_tokens = usage.input_tokens + excluded.input_tokens,
          output_tokens = usage.output_tokens + excluded.output_tokens,
          cost_micro_usd = usage.cost_micro_usd + excluded.cost_micro_usd)
      select ws, spent, crossed from b`,
    ),
  );
  const rows = decodeRows(settledRow, await db.execute(statement));
  const totals = new Map(rows.map((r) => [r.ws, { spentTokens: r.spent, crossedWarning: r.crossed }]));
  const told = new Set<string>();
  return batch.map(({ scope }) => {
    const total = totals.get(scope.workspaceId);
    const used = spend.get(scope.workspaceId)!.values.used;
    if (!total) return { spentTokens: used, crossedWarning: false };
    const first = !told.has(scope.workspaceId);
    told.add(scope.workspaceId);
    return { spentTokens: total.spentTokens, crossedWarning: total.crossedWarning && first };
  });
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** One row per model (an upsert may touch a key only once), calls counted per entry. */
function usageRows(entries: UsageEntry[]) {
  const byModel = new Map<string, { calls: number; inputTokens: number; outputTokens: number; costMicroUsd: number }>();
  for (const e of entries) {
    const sum = byModel.get(e.model) ?? { calls: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 };
    sum.calls += 1;
    sum.inputTokens += e.usage.inputTokens;
    sum.outputTokens += e.usage.outputTokens;
    sum.costMicroUsd += e.costMicroUsd;
    byModel.set(e.model, sum);
  }
  return [...byModel].map(([model, sum]) => ({ model, ...sum }));
}
