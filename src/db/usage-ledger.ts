/**
 * UsageLedger on drizzle: today's token spend per workspace (budget_days) and usage rows per
 * workspace, user, model and day. The day is the database's `current_date` for both tables so
 * that budgets and usage reports agree.
 */
import { and, eq, gte, isNull, sql } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { UsageLedger } from '../core/ports.js';
import type { Db } from './client.js';
import { addUsage } from './turn-store.js';
import { budgetDays } from './schema.js';

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
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(budgetDays)
          .values({ workspaceId: scope.workspaceId, day: sql`current_date`, spentTokens: used })
          .onConflictDoUpdate({
            target: [budgetDays.workspaceId, budgetDays.day],
            // greatest(0, …): a reservation made yesterday and settled after midnight must not go negative.
            set: { spentTokens: sql`greatest(0, ${budgetDays.spentTokens} + ${used - input.reservedTokens})` },
          })
          .returning({ spent: budgetDays.spentTokens });
        for (const entry of input.entries) {
          await addUsage(
            tx,
            scope,
            input.principalId,
            entry.model,
            entry.usage.inputTokens,
            entry.usage.outputTokens,
            entry.costMicroUsd,
          );
        }
        let crossedWarning = false;
        if (input.warnAt !== null) {
          // Only the one call that flips warned_at gets a row back: admins are told once a day.
          const flipped = await tx
            .update(budgetDays)
            .set({ warnedAt: sql`now()` })
            .where(
              and(
                eq(budgetDays.workspaceId, scope.workspaceId),
                eq(budgetDays.day, sql`current_date`),
                isNull(budgetDays.warnedAt),
                gte(budgetDays.spentTokens, input.warnAt),
              ),
            )
            .returning({ spent: budgetDays.spentTokens });
          crossedWarning = flipped.length > 0;
        }
        return { spentTokens: row?.spent ?? used, crossedWarning };
      });
    },
  };
}
