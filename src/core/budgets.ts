/**
 * Budgets: what a workspace may spend, in tokens or US dollars (kept as micro-USD), per UTC day
 * or calendar month, for the whole workspace or for each user. Pure: which budgets apply, how
 * much output a call may be given under the tightest one, and what the user and the admins are
 * told (naming the budget). The ledger (src/db) holds the spend; the gate (src/model) reserves.
 */
import type { WorkspaceSettings } from './ports.js';

export type BudgetUnit = 'tokens' | 'usd';
export type BudgetPeriod = 'day' | 'month';
export type BudgetSubject = 'workspace' | 'user';

export interface BudgetKind {
  subject: BudgetSubject;
  period: BudgetPeriod;
  unit: BudgetUnit;
}

/** One budget in force: `limit` is tokens, or micro-USD for a money budget. */
export interface Budget extends BudgetKind {
  limit: number;
}

/** The workspace settings column that holds each budget (`dailyTokens` is the original one). */
export const BUDGET_SETTINGS = {
  'workspace/day/tokens': 'dailyTokens',
  'workspace/month/tokens': 'monthlyTokens',
  'workspace/day/usd': 'dailyMicroUsd',
  'workspace/month/usd': 'monthlyMicroUsd',
  'user/day/tokens': 'userDailyTokens',
  'user/month/tokens': 'userMonthlyTokens',
  'user/day/usd': 'userDailyMicroUsd',
  'user/month/usd': 'userMonthlyMicroUsd',
} as const satisfies Record<string, keyof WorkspaceSettings>;

export type BudgetSetting = (typeof BUDGET_SETTINGS)[keyof typeof BUDGET_SETTINGS];

export function budgetSetting(kind: BudgetKind): BudgetSetting {
  return BUDGET_SETTINGS[`${kind.subject}/${kind.period}/${kind.unit}`];
}

export const BUDGET_KINDS: readonly BudgetKind[] = Object.keys(BUDGET_SETTINGS).map((key) => {
  const [subject, period, unit] = key.split('/') as [BudgetSubject, BudgetPeriod, BudgetUnit];
  return { subject, period, unit };
});

/** The budgets in force for a workspace: its own settings, and WORKSPACE_DAILY_TOKENS where it set no daily token budget. */
export function budgetsOf(settings: Partial<WorkspaceSettings>, defaultDailyTokens?: number | null): Budget[] {
  const budgets: Budget[] = [];
  for (const kind of BUDGET_KINDS) {
    const setting = budgetSetting(kind);
    const own = settings[setting] ?? null;
    const limit = own ?? (setting === 'dailyTokens' ? (defaultDailyTokens ?? null) : null);
    if (limit !== null) budgets.push({ ...kind, limit });
  }
  return budgets;
}

/** USD per million tokens is micro-USD per token. */
export interface TokenPrice {
  input: number;
  output: number;
}

/** What a call needs its budgets for: the prompt's (generous) estimate and the output it would like. */
export interface OutputPlanInput {
  budgets: readonly Budget[];
  /** Spend of each budget's period so far (settled and reserved), in the budget's unit. */
  spent: (kind: BudgetKind) => number;
  promptTokens: number;
  maxOutputTokens: number;
  price: TokenPrice;
  /** Below this, an answer is not worth starting: the budget counts as used up. */
  minOutputTokens: number;
}

export type OutputPlan =
  | { ok: true; maxOutputTokens: number; tokens: number; microUsd: number }
  | { ok: false; budget: Budget };

/**
 * The most output a call may be given so that its prompt and output fit every budget, and what it
 * reserves: prompt + that output, in tokens and at the price. A budget that leaves less than
 * `minOutputTokens` refuses the call; the tightest such budget is named.
 */
export function planOutput(input: OutputPlanInput): OutputPlan {
  let allowed = input.maxOutputTokens;
  let tightest: { budget: Budget; room: number } | null = null;
  for (const budget of input.budgets) {
    const remaining = budget.limit - input.spent(budget);
    const room = budget.unit === 'tokens' ? remaining - input.promptTokens : outputWithin(remaining, input.promptTokens, input.price);
    if (!tightest || room < tightest.room) tightest = { budget, room };
    allowed = Math.min(allowed, room);
  }
  const floor = Math.min(input.minOutputTokens, input.maxOutputTokens);
  if (tightest && allowed < floor) return { ok: false, budget: tightest.budget };
  const maxOutputTokens = Math.max(0, Math.floor(allowed));
  return { ok: true, maxOutputTokens, tokens: input.promptTokens + maxOutputTokens, microUsd: callCost(input.price, input.promptTokens, maxOutputTokens) };
}

/** How a block reservation (one reservation that several calls of one user draw from) is sized. */
export interface BlockPlanInput extends OutputPlanInput {
  /** Calls like this one the block is sized for at most. */
  calls: number;
  /** The most of any budget's remaining room one block may take (so other instances and users keep theirs). */
  share: number;
  /** Fewer calls than this: not worth a block (the call reserves for itself). */
  minCalls: number;
}

export type BlockPlan = { ok: true; calls: number; tokens: number; microUsd: number } | { ok: false };

/**
 * Room for up to `calls` calls at their full output (prompt + maxOutputTokens each, at the price),
 * within `share` of every budget's remaining room; none when fewer than `minCalls` fit.
 */
export function planBlock(input: BlockPlanInput): BlockPlan {
  const tokens = input.promptTokens + input.maxOutputTokens;
  const microUsd = callCost(input.price, input.promptTokens, input.maxOutputTokens);
  let calls = input.calls;
  for (const budget of input.budgets) {
    const each = budget.unit === 'tokens' ? tokens : microUsd;
    if (each > 0) calls = Math.min(calls, Math.floor(((budget.limit - input.spent(budget)) * input.share) / each));
  }
  if (calls < input.minCalls) return { ok: false };
  return { ok: true, calls, tokens: calls * tokens, microUsd: calls * microUsd };
}

/** The most a call can cost, rounded up (the settled cost rounds, so it never exceeds this). */
export function callCost(price: TokenPrice, inputTokens: number, outputTokens: number): number {
  return Math.ceil(inputTokens * price.input + outputTokens * price.output);
}

function outputWithin(remainingMicroUsd: number, promptTokens: number, price: TokenPrice): number {
  const left = remainingMicroUsd - Math.ceil(promptTokens * price.input);
  if (left < 0) return -1;
  return price.output > 0 ? Math.floor(left / price.output) : Number.MAX_SAFE_INTEGER;
}

/** Dollars with cents, or with as many decimals as a small amount needs (up to micro-USD): $200.00, $0.012, $0.000042. */
export function formatUsd(microUsd: number): string {
  const usd = microUsd / 1_000_000;
  if (usd === 0 || Math.abs(usd) >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(6).replace(/0+$/, '').replace(/\.(\d)$/, '.$10')}`;
}

/** The budget's amount as an admin writes it: `200000 tokens/day`, `$5.00/month`. */
export function budgetAmount(budget: Budget): string {
  const amount = budget.unit === 'tokens' ? `${budget.limit.toLocaleString('en-US')} tokens` : formatUsd(budget.limit);
  return `${amount}/${budget.period}`;
}

/** "this workspace's daily token budget", "the per-user monthly spending budget". */
export function budgetName(kind: BudgetKind): string {
  const period = kind.period === 'day' ? 'daily' : 'monthly';
  const what = kind.unit === 'tokens' ? 'token' : 'spending';
  return kind.subject === 'workspace' ? `this workspace's ${period} ${what} budget` : `the per-user ${period} ${what} budget`;
}

/** The answer to a call no budget leaves room for, naming the budget. */
export function budgetUsedUpMessage(budget: Budget): string {
  const command = `/agent budget ${budget.subject === 'user' ? 'user ' : ''}${budget.unit} N/${budget.period}`;
  const resets = budget.period === 'day' ? 'it resets tomorrow' : 'it resets on the 1st of next month';
  // The original daily token budget keeps its original words.
  if (budget.subject === 'workspace' && budget.period === 'day' && budget.unit === 'tokens') {
    return "Today's token budget for this workspace is used up. An admin can raise it with `/agent budget tokens N/day`; otherwise it resets tomorrow.";
  }
  const whose = budget.subject === 'workspace' ? `This workspace's ${budget.period === 'day' ? 'daily' : 'monthly'}` : `Your ${budget.period === 'day' ? 'daily' : 'monthly'}`;
  const what = budget.unit === 'tokens' ? 'token' : 'spending';
  return `${whose} ${what} budget (${budgetAmount(budget)}${budget.subject === 'user' ? ' per person' : ''}) is used up. An admin can raise it with \`${command}\`; otherwise ${resets} (UTC).`;
}

/** What admins are told when a budget's spend crosses 80%. Numbers only, never content. */
export function budgetWarningText(workspace: string, alert: BudgetAlert): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const percent = Math.floor((alert.spent / alert.budget.limit) * 100);
  const b = alert.budget;
  if (b.subject === 'workspace' && b.unit === 'tokens' && b.period === 'day') {
    return (
      `Heads up: ${workspace} has used ${n(alert.spent)} of its ${n(b.limit)} tokens today (${percent}%). ` +
      'Model calls stop at the budget; an admin can raise it with `/agent budget tokens N/day`.'
    );
  }
  const amount = (v: number) => (b.unit === 'tokens' ? `${n(v)} tokens` : formatUsd(v));
  const when = b.period === 'day' ? 'today' : 'this month';
  const who = b.subject === 'workspace' ? workspace : `a user of ${workspace} (${alert.userId ?? 'unknown'})`;
  return (
    `Heads up: ${who} has used ${amount(alert.spent)} of ${budgetName(b)} of ${amount(b.limit)} ${when} (${percent}%). ` +
    `Model calls stop at the budget; an admin can raise it with \`/agent budget ${b.subject === 'user' ? 'user ' : ''}${b.unit} N/${b.period}\`.`
  );
}

/** What a user is told privately when their own (per-user) budget crosses 80%. Numbers only, never content. */
export function budgetWarningForUserText(alert: BudgetAlert): string {
  const b = alert.budget;
  const percent = Math.floor((alert.spent / b.limit) * 100);
  const amount = (v: number) => (b.unit === 'tokens' ? `${v.toLocaleString('en-US')} tokens` : formatUsd(v));
  const what = `${b.period === 'day' ? 'daily' : 'monthly'} ${b.unit === 'tokens' ? 'token' : 'spending'} budget`;
  const resets = b.period === 'day' ? 'it resets tomorrow' : 'it resets on the 1st of next month';
  return (
    `Heads up: you have used ${amount(alert.spent)} of your ${what} of ${amount(b.limit)} ${b.period === 'day' ? 'today' : 'this month'} (${percent}%). ` +
    `Quorum stops answering you at the budget and ${resets} (UTC); a workspace admin can raise it.`
  );
}

/** One budget crossing 80% of its period, once per period (and per user for user budgets). */
export interface BudgetAlert {
  budget: Budget;
  spent: number;
  /** For a user budget: the principal who crossed it. */
  principalId?: string;
  /** For a user budget: their platform id, when known (shown to admins). */
  userId?: string;
}
