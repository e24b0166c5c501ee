/**
 * UsageLedger on drizzle: spend per budget period (budget_counters: the workspace's and each
 * user's, per UTC day and month, tokens and micro-USD), the reservations of calls in flight
 * (budget_reservations, with a lease), and usage rows per workspace, user, model, channel and day.
 * Counters always hold settled use + what reservations still hold.
 *
 * A reservation is a call's own (prompt + its capped output; settling deletes it) or a block that
 * an instance's calls of one user draw from in memory (src/model/spend-blocks.ts): sized by
 * planBlock within a share of every budget's room, shrunk by each drawn call's settlement by what
 * it drew, its undrawn part given back by a settlement with no entries, and deleted with the last.
 *
 * Every reservation and settlement touches the same four counters (workspace and user, day and
 * month) in the same order, so a reservation's row locks order concurrent calls of a workspace on
 * every instance, and releasing a reservation knows exactly what it had added.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { planBlock, planOutput, type Budget, type BudgetAlert, type BudgetKind } from '../core/budgets.js';
import type { Scope } from '../core/identity.js';
import type { Reservation, ReserveRequest, SettleInput, UsageEntry, UsageLedger } from '../core/ports.js';
import type { Db } from './client.js';
import { col, decodeRows, scoped, scopedBatch } from './raw.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Executor = Db | Tx;

export interface LedgerOptions {
  /** The clock budget periods and usage days are taken from (UTC); tests move it across a day or a month. */
  now?: () => Date;
}

/** The UTC day and calendar month of an instant: the keys of the budget periods. */
export function periodsOf(at: Date): { day: string; month: string } {
  const day = at.toISOString().slice(0, 10);
  return { day, month: day.slice(0, 7) };
}

const counterRow = z.object({ subject: z.string(), period: z.string(), tokens: col.number, usd: col.number });
const settledRow = counterRow.extend({ crossedTokens: z.boolean(), crossedUsd: z.boolean() });

/** The four counters a call of `principalId` touches, in lock order. */
function counterKeys(principalId: string, periods: { day: string; month: string }) {
  return [
    { subject: '', period: periods.month },
    { subject: '', period: periods.day },
    { subject: principalId, period: periods.month },
    { subject: principalId, period: periods.day },
  ].sort((a, b) => (a.subject === b.subject ? a.period.localeCompare(b.period) : a.subject.localeCompare(b.subject)));
}

function keyOf(kind: Pick<BudgetKind, 'subject' | 'period'>, principalId: string, periods: { day: string; month: string }) {
  return `${kind.subject === 'workspace' ? '' : principalId}/${kind.period === 'day' ? periods.day : periods.month}`;
}

/** Locks the four counters (creating them at 0) and reads their spend as it is now. */
async function lockCounters(tx: Tx, scope: Scope, principalId: string, periods: { day: string; month: string }) {
  const keys = counterKeys(principalId, periods);
  const values = sql.join(
    keys.map((k) => sql`(${scope.workspaceId}::uuid, ${k.subject}, ${k.period})`),
    sql`, `,
  );
  const result = await tx.execute(sql`insert into budget_counters (workspace_id, subject, period) values ${values}
    on conflict (workspace_id, subject, period) do update set spent_tokens = budget_counters.spent_tokens
    returning subject, period, spent_tokens as tokens, spent_micro_usd as usd`);
  return new Map(decodeRows(counterRow, result).map((r) => [`${r.subject}/${r.period}`, r]));
}

/** Gives back what reservations whose lease ran out (their process died) still hold; answers how many. */
async function releaseExpired(tx: Executor, scope: Scope): Promise<number> {
  const result = await tx.execute(sql`with gone as (
      delete from budget_reservations where workspace_id = ${scope.workspaceId} and lease_until < now()
      returning principal_id::text as p, day, month, tokens, micro_usd),
    parts as (
      select '' as subject, day as period, tokens, micro_usd from gone
      union all select '', month, tokens, micro_usd from gone
      union all select p, day, tokens, micro_usd from gone
      union all select p, month, tokens, micro_usd from gone),
    sums as (select subject, period, sum(tokens) as t, sum(micro_usd) as u from parts group by subject, period),
    upd as (
      update budget_counters c set spent_tokens = greatest(0, c.spent_tokens - sums.t), spent_micro_usd = greatest(0, c.spent_micro_usd - sums.u)
      from sums where c.workspace_id = ${scope.workspaceId} and c.subject = sums.subject and c.period = sums.period
      returning 1)
    select (select count(*) from gone)::int as n`);
  return decodeRows(z.object({ n: col.number }), result)[0]?.n ?? 0;
}

type Counters = Map<string, z.infer<typeof counterRow>>;

/** Each budget's spend so far (settled and reserved), from the locked counters. */
function spentIn(request: ReserveRequest, counters: Counters, periods: { day: string; month: string }) {
  return (kind: BudgetKind) => {
    const row = counters.get(keyOf(kind, request.principalId, periods));
    return kind.unit === 'tokens' ? (row?.tokens ?? 0) : (row?.usd ?? 0);
  };
}

/** Milliseconds from `at` to the next UTC midnight, where the day's budget period (and perhaps the month's) ends. */
function untilNextDay(at: Date): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1) - at.getTime();
}

export function createUsageLedger(db: Db, options: LedgerOptions = {}): UsageLedger {
  const now = options.now ?? (() => new Date());

  function plan(request: ReserveRequest, counters: Counters, periods: { day: string; month: string }) {
    return planOutput({ ...request, spent: spentIn(request, counters, periods) });
  }

  return {
    async reserve(scope, request): Promise<Reservation> {
      const at = now();
      const periods = periodsOf(at);
      return db.transaction(async (tx) => {
        let counters = await lockCounters(tx, scope, request.principalId, periods);
        let planned = plan(request, counters, periods);
        // No room: a dead process's reservations (blocks too) may be what fills it.
        if (!planned.ok && (await releaseExpired(tx, scope)) > 0) {
          counters = await lockCounters(tx, scope, request.principalId, periods);
          planned = plan(request, counters, periods);
        }
        if (!planned.ok) return planned;
        const block = request.block ? planBlock({ ...request, ...request.block, spent: spentIn(request, counters, periods) }) : null;
        const held = block?.ok ? block : planned;
        const keys = counterKeys(request.principalId, periods);
        const pairs = sql.join(keys.map((k) => sql`(${k.subject}, ${k.period})`), sql`, `);
        const result = await tx.execute(sql`with r as (
            insert into budget_reservations (workspace_id, principal_id, day, month, tokens, micro_usd, lease_until)
            values (${scope.workspaceId}, ${request.principalId}, ${periods.day}, ${periods.month}, ${held.tokens}, ${held.microUsd},
              now() + ${request.leaseMs} * interval '1 millisecond')
            returning id),
          c as (
            update budget_counters set spent_tokens = spent_tokens + ${held.tokens}, spent_micro_usd = spent_micro_usd + ${held.microUsd}
            where workspace_id = ${scope.workspaceId} and (subject, period) in (${pairs})
            returning 1)
          select id from r`);
        const [row] = decodeRows(z.object({ id: z.string() }), result);
        const grant = block?.ok ? { block: { calls: block.calls, validForMs: untilNextDay(at) } } : {};
        return { ok: true as const, id: row!.id, maxOutputTokens: planned.maxOutputTokens, tokens: held.tokens, microUsd: held.microUsd, ...grant };
      });
    },

    async settle(scope, input) {
      const result = await db.execute(settleStatement(scope, input, periodsOf(now())));
      return { crossed: crossings(decodeRows(settledRow, result), input) };
    },

    async renew(reservations, leaseMs) {
      if (reservations.length === 0) return;
      const batch = scopedBatch('b', { id: 'uuid' }, reservations.map(({ scope, id }) => ({ scope, values: { id } })));
      await db.execute(
        scoped(batch, (ws) => sql`update budget_reservations r set lease_until = now() + ${leaseMs} * interval '1 millisecond'
          from ${batch.from} where r.workspace_id = ${ws} and r.id = b.id`),
      );
    },
  };
}

/**
 * One statement: the reservation goes, or a block shrinks by what the call drew (unless its lease
 * already gave it back), the four counters get the real use minus that, the 80% lines are stamped once per period,
 * and the usage rows are added.
 */
function settleStatement(scope: Scope, input: SettleInput, periods: { day: string; month: string }) {
  const usedTokens = input.entries.reduce((sum, e) => sum + e.usage.inputTokens + e.usage.outputTokens, 0);
  const usedUsd = input.entries.reduce((sum, e) => sum + e.costMicroUsd, 0);
  const warnAt = (subject: Budget['subject'], period: Budget['period'], unit: Budget['unit']) => {
    const b = input.budgets.find((x) => x.subject === subject && x.period === period && x.unit === unit);
    return b ? Math.ceil(b.limit * 0.8) : null;
  };
  const keys = (['workspace', 'user'] as const).flatMap((subject) =>
    (['month', 'day'] as const).map((period) => ({
      subject: subject === 'workspace' ? '' : input.principalId,
      period,
      wt: warnAt(subject, period, 'tokens'),
      wu: warnAt(subject, period, 'usd'),
    })),
  );
  const values = sql.join(
    keys.map(
      (k) =>
        sql`(${k.subject}, coalesce((select ${sql.raw(k.period)} from gone), ${k.period === 'day' ? periods.day : periods.month}), ${k.wt}::bigint, ${k.wu}::bigint)`,
    ),
    sql`, `,
  );
  const usage = usageRows(input.entries);
  const ws = scope.workspaceId;
  const spentT = sql`greatest(0, budget_counters.spent_tokens + excluded.spent_tokens - coalesce((select tokens from gone), 0))`;
  const spentU = sql`greatest(0, budget_counters.spent_micro_usd + excluded.spent_micro_usd - coalesce((select micro_usd from gone), 0))`;
  const line = (column: 'wt' | 'wu') => sql`(select k.${sql.raw(column)} from k where k.subject = excluded.subject and k.period = excluded.period)`;
  // A draw from a block shrinks the block by what the call drew (the rest of it stays reserved);
  // a call's own reservation goes whole. Either way the counters lose exactly what the row lost.
  const gone = input.drawn
    ? sql`update budget_reservations set tokens = tokens - ${input.drawn.tokens}, micro_usd = micro_usd - ${input.drawn.microUsd}
      where workspace_id = ${ws} and id = ${input.reservationId}::uuid
      returning ${input.drawn.tokens}::bigint as tokens, ${input.drawn.microUsd}::bigint as micro_usd, day, month`
    : sql`delete from budget_reservations where workspace_id = ${ws} and id = ${input.reservationId}::uuid
      returning tokens, micro_usd, day, month`;
  return sql`with gone as (${gone}),
    k (subject, period, wt, wu) as (values ${values}),
    c as (
      insert into budget_counters (workspace_id, subject, period, spent_tokens, spent_micro_usd, warned_tokens_at, warned_usd_at)
      select ${ws}::uuid, k.subject, k.period, ${usedTokens}::bigint, ${usedUsd}::bigint,
        case when k.wt is not null and ${usedTokens} >= k.wt then now() end,
        case when k.wu is not null and ${usedUsd} >= k.wu then now() end
      from k order by k.subject, k.period
      on conflict (workspace_id, subject, period) do update set
        spent_tokens = ${spentT},
        spent_micro_usd = ${spentU},
        warned_tokens_at = case when budget_counters.warned_tokens_at is null and ${line('wt')} is not null and ${spentT} >= ${line('wt')}
          then now() else budget_counters.warned_tokens_at end,
        warned_usd_at = case when budget_counters.warned_usd_at is null and ${line('wu')} is not null and ${spentU} >= ${line('wu')}
          then now() else budget_counters.warned_usd_at end
      returning subject, period, spent_tokens as tokens, spent_micro_usd as usd,
        coalesce(warned_tokens_at = now(), false) as "crossedTokens", coalesce(warned_usd_at = now(), false) as "crossedUsd"),
    u as (
      insert into usage (workspace_id, principal_id, day, model, channel, calls, input_tokens, output_tokens, cost_micro_usd)
      select ${ws}::uuid, ${input.principalId}::uuid, ${periods.day}::date, e.model, ${input.channelExternalId ?? ''}, e.calls, e.i, e.o, e.c
      from jsonb_to_recordset(${JSON.stringify(usage)}::jsonb) as e(model text, calls int, i bigint, o bigint, c bigint)
      on conflict (workspace_id, principal_id, day, model, channel) do update set
        calls = usage.calls + excluded.calls,
        input_tokens = usage.input_tokens + excluded.input_tokens,
        output_tokens = usage.output_tokens + excluded.output_tokens,
        cost_micro_usd = usage.cost_micro_usd + excluded.cost_micro_usd)
    select subject, period, tokens, usd, "crossedTokens", "crossedUsd" from c`;
}

/** The budgets whose 80% line this settlement stamped. */
function crossings(rows: z.infer<typeof settledRow>[], input: SettleInput): BudgetAlert[] {
  const alerts: BudgetAlert[] = [];
  for (const row of rows) {
    const subject = row.subject === '' ? 'workspace' : 'user';
    const period = row.period.length === 10 ? 'day' : 'month';
    for (const unit of ['tokens', 'usd'] as const) {
      if (!(unit === 'tokens' ? row.crossedTokens : row.crossedUsd)) continue;
      const budget = input.budgets.find((b) => b.subject === subject && b.period === period && b.unit === unit);
      if (!budget) continue;
      alerts.push({ budget, spent: unit === 'tokens' ? row.tokens : row.usd, ...(subject === 'user' ? { principalId: input.principalId } : {}) });
    }
  }
  return alerts;
}

/** One row per model (an upsert may touch a key only once), calls counted per entry. */
function usageRows(entries: UsageEntry[]) {
  const byModel = new Map<string, { model: string; calls: number; i: number; o: number; c: number }>();
  for (const e of entries) {
    const sum = byModel.get(e.model) ?? { model: e.model, calls: 0, i: 0, o: 0, c: 0 };
    sum.calls += 1;
    sum.i += e.usage.inputTokens;
    sum.o += e.usage.outputTokens;
    sum.c += e.costMicroUsd;
    byModel.set(e.model, sum);
  }
  return [...byModel.values()];
}
