/**
 * UsageLedger on drizzle: today's token spend per workspace (budget_days) and usage rows per
 * workspace, user, model and day. The day is the database's `current_date` for both tables so
 * that budgets and usage reports agree.
 */
import { sql } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { UsageEntry, UsageLedger } from '../core/ports.js';
import { builtOnce, rowsOf, type Db } from './client.js';
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
  return {
    async reserve(scope: Scope, tokens: number, dailyTokens: number): Promise<boolean> {
      // A first insert always fits once this holds; later ones fit only through the WHERE below.
      if (tokens > dailyTokens) return false;
      // One statement: the row lock orders concurrent reservations and the WHERE is re-checked
      // against the newest row, so twenty concurrent calls cannot all see room for one more.
      const rows = await reserve().execute({ workspaceId: scope.workspaceId, tokens, dailyTokens });
      return rows.length > 0;
    },

    async settle(scope, input) {
      const used = input.entries.reduce((sum, e) => sum + e.usage.inputTokens + e.usage.outputTokens, 0);
      const delta = used - input.reservedTokens;
      const warnAt = input.warnAt;
      const ws = scope.workspaceId;
      const usageValues = usageRows(input.entries).map(
        (u) => sql`(${ws}, ${input.principalId}, current_date, ${u.model}, ${u.calls}, ${u.inputTokens}, ${u.outputTokens}, ${u.costMicroUsd})`,
      );
      const usageUpsert =
        usageValues.length === 0
          ? sql``
          : sql`, u as (insert into usage (workspace_id, principal_id, day, model, calls, input_tokens, output_tokens, cost_micro_usd)
              values ${sql.join(usageValues, sql`, `)}
              on conflict (workspace_id, principal_id, day, model) do update set
                calls = usage.calls + excluded.calls,
                input_tokens = usage.input_tokens + excluded.input_tokens,
                output_tokens = usage.output_tokens + excluded.output_tokens,
                cost_micro_usd = usage.cost_micro_usd + excluded.cost_micro_usd)`;
      // One statement, one round trip: the spend and the usage rows move together or not at all.
      // greatest(0, …): a reservation made yesterday and settled after midnight must not go negative.
      // Only the one call that sets warned_at crosses the warning: admins are told once a day.
      const result = await db.execute(sql`with b as (
          insert into budget_days (workspace_id, day, spent_tokens, warned_at)
          values (${ws}, current_date, ${used}, case when ${warnAt}::bigint is not null and ${used} >= ${warnAt}::bigint then now() end)
          on conflict (workspace_id, day) do update set
            spent_tokens = greatest(0, budget_days.spent_tokens + ${delta}),
            warned_at = case
              when budget_days.warned_at is null and ${warnAt}::bigint is not null
                and greatest(0, budget_days.spent_tokens + ${delta}) >= ${warnAt}::bigint then now()
              else budget_days.warned_at end
          returning spent_tokens as spent, coalesce(warned_at = now(), false) as crossed)${usageUpsert}
        select spent, crossed from b`);
      const [row] = rowsOf<{ spent: string | number; crossed: boolean }>(result);
      return { spentTokens: row ? Number(row.spent) : used, crossedWarning: row?.crossed === true };
    },
  };
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
