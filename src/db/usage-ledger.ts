/**
 * UsageLedger on drizzle: today's token spend per workspace (budget_days) and usage rows per
 * workspace, user, model and day. The day is the database's `current_date` for both tables so
 * that budgets and usage reports agree.
 */
import { sql } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { UsageEntry, UsageLedger } from '../core/ports.js';
import { rowsOf, type Db } from './client.js';
import { budgetDays, usage } from './schema.js';

export function createUsageLedger(db: Db): UsageLedger {
  return {
    async reserve(scope: Scope, tokens: number, dailyTokens: number): Promise<boolean> {
      // A first insert always fits once this holds; later ones fit only through the WHERE below.
      if (tokens > dailyTokens) return false;
      // One statement: the row lock orders concurrent reservations and the WHERE is re-checked
      // against the newest row, so twenty concurrent calls cannot all see room for one more.
      const rows = await db
        .insert(budgetDays)
        .values({ workspaceId: scope.workspaceId, day: sql`current_date`, spentTokens: tokens })
        .onConflictDoUpdate({
          target: [budgetDays.workspaceId, budgetDays.day],
          set: { spentTokens: sql`${budgetDays.spentTokens} + excluded.spent_tokens` },
          setWhere: sql`${budgetDays.spentTokens} + excluded.spent_tokens <= ${dailyTokens}`,
        })
        .returning({ spent: budgetDays.spentTokens });
      return rows.length > 0;
    },

    async settle(scope, input) {
      const used = input.entries.reduce((sum, e) => sum + e.usage.inputTokens + e.usage.outputTokens, 0);
      const delta = used - input.reservedTokens;
      // greatest(0, …): a reservation made yesterday and settled after midnight must not go negative.
      const newSpent = sql`greatest(0, ${budgetDays.spentTokens} + ${delta})`;
      const warnAt = input.warnAt;
      const budget = db
        .insert(budgetDays)
        .values({
          workspaceId: scope.workspaceId,
          day: sql`current_date`,
          spentTokens: used,
          warnedAt: warnAt !== null && used >= warnAt ? sql`now()` : null,
        })
        .onConflictDoUpdate({
          target: [budgetDays.workspaceId, budgetDays.day],
          set: {
            spentTokens: newSpent,
            // Only the one call that sets warned_at crosses the warning: admins are told once a day.
            ...(warnAt === null
              ? {}
              : { warnedAt: sql`case when ${budgetDays.warnedAt} is null and ${newSpent} >= ${warnAt} then now() else ${budgetDays.warnedAt} end` }),
          },
        })
        .returning({
          spent: sql`${budgetDays.spentTokens}`.as('spent'),
          crossed: sql`coalesce(${budgetDays.warnedAt} = now(), false)`.as('crossed'),
        });
      const rows = usageRows(scope, input.principalId, input.entries);
      // One statement, one round trip: the spend and the usage rows move together or not at all.
      const result = await db.execute(
        rows.length === 0
          ? sql`with b as (${budget.getSQL()}) select spent, crossed from b`
          : sql`with b as (${budget.getSQL()}), u as (${db
              .insert(usage)
              .values(rows)
              .onConflictDoUpdate({
                target: [usage.workspaceId, usage.principalId, usage.day, usage.model],
                set: {
                  calls: sql`${usage.calls} + excluded.calls`,
                  inputTokens: sql`${usage.inputTokens} + excluded.input_tokens`,
                  outputTokens: sql`${usage.outputTokens} + excluded.output_tokens`,
                  costMicroUsd: sql`${usage.costMicroUsd} + excluded.cost_micro_usd`,
                },
              })
              .getSQL()}) select spent, crossed from b`,
      );
      const [row] = rowsOf<{ spent: string | number; crossed: boolean }>(result);
      return { spentTokens: row ? Number(row.spent) : used, crossedWarning: row?.crossed === true };
    },
  };
}

/** One row per model (an upsert may touch a key only once), calls counted per entry. */
function usageRows(scope: Scope, principalId: string, entries: UsageEntry[]) {
  const byModel = new Map<string, { calls: number; inputTokens: number; outputTokens: number; costMicroUsd: number }>();
  for (const e of entries) {
    const sum = byModel.get(e.model) ?? { calls: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 };
    sum.calls += 1;
    sum.inputTokens += e.usage.inputTokens;
    sum.outputTokens += e.usage.outputTokens;
    sum.costMicroUsd += e.costMicroUsd;
    byModel.set(e.model, sum);
  }
  return [...byModel].map(([model, sum]) => ({ workspaceId: scope.workspaceId, principalId, day: sql`current_date`, model, ...sum }));
}
