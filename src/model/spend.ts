/**
 * What a model call may spend, decided before it is sent and settled after (the gate's budget
 * step). Before: the prompt is estimated (tool definitions included), the tokens-per-minute limit
 * and the budgets in force cap its output, the call holds prompt + that output against the budgets
 * in the database (so instances share them), and the provider is sent that output cap
 * (`maxOutputTokens`), so the call cannot cost more than was held. After: the real usage replaces
 * what was held, and an 80% crossing of any budget is audited and told to the admins.
 *
 * The hold is mostly a draw, in memory, from a block reservation this instance holds for the user
 * (spend-blocks.ts: no database round trip before the call); near a limit it is the call's own
 * reservation, exactly as large as the budget's remaining room allows. Reservations and blocks
 * carry a lease, renewed while this process lives; a process that dies holds them for one lease.
 */
import { budgetsOf, budgetUsedUpMessage, budgetName, type Budget, type BudgetAlert } from '../core/budgets.js';
import type { Scope } from '../core/identity.js';
import type { AuditLog, BudgetAlertSink, Logger, ModelCall, PromptMessage, TokenUsage, UsageEntry, UsageLedger, WorkspaceSettings } from '../core/ports.js';
import type { TokenTicket, TokenWindow } from '../limiter/token-window.js';
import { Reservations, type Hold } from './spend-blocks.js';
import { dearest, type Pricing } from './pricing.js';

/** Below this much room for output an answer is not worth starting (unless the call asks for less). */
export const MIN_OUTPUT_TOKENS = 16;

/** Each message's framing (role, separators) as providers count it. */
const PER_MESSAGE_TOKENS = 4;

/**
 * A generous estimate of a call's prompt: characters / 3 (tokenizers average nearer 4) plus each
 * message's framing, plus the tool definitions the provider is sent with it. A budget holds only
 * if the provider counts no more than this, so it errs high.
 */
export function estimatePromptTokens(messages: PromptMessage[], tools?: ModelCall['tools']): number {
  let chars = 0;
  for (const m of messages) {
    chars += m.content.length;
    if (m.role === 'assistant') for (const c of m.toolCalls ?? []) chars += c.toolName.length + JSON.stringify(c.input ?? {}).length;
  }
  let toolChars = 0;
  for (const [name, spec] of Object.entries(tools ?? {})) toolChars += name.length + spec.description.length + schemaChars(spec.inputSchema);
  // A picture costs about as much as a page of text whatever its size (providers scale it down).
  const images = messages.reduce((n, m) => n + (m.role === 'user' ? (m.images?.length ?? 0) : 0), 0);
  return Math.ceil((chars + toolChars) / 3) + PER_MESSAGE_TOKENS * messages.length + images * IMAGE_TOKENS;
}

/** What one image is reserved at in a budget (providers charge roughly 1,000–1,600 tokens for a scaled-down picture). */
const IMAGE_TOKENS = 1_600;

/** A zod schema's JSON form is about as long as its shape's keys and descriptions; a JSON schema is what it is. */
function schemaChars(schema: unknown): number {
  if (typeof (schema as { safeParse?: unknown } | null)?.safeParse === 'function') {
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    return 200 + (shape ? Object.keys(shape).join(',').length * 4 : 200);
  }
  try {
    return JSON.stringify(schema ?? {}).length;
  } catch {
    return 1_000;
  }
}

export interface SpendOptions {
  ledger: UsageLedger;
  pricing: Pricing;
  tokens: TokenWindow;
  audit?: AuditLog | undefined;
  alerts?: BudgetAlertSink | undefined;
  log: Logger;
  /** WORKSPACE_DAILY_TOKENS. */
  defaultDailyTokens?: number | undefined;
  /** The most output a call is given when a budget or the tpm limit applies. */
  maxOutputTokens: number;
  leaseMs: number;
  /** How long a call waits for the tpm window before it is told it waits. */
  noticeMs: number;
  /** How long an unused block reservation is kept (spend-blocks.ts). */
  blockIdleMs?: number | undefined;
}

/** A call cleared to run: the output cap to send (undefined: no budget or tpm applies), and its settlement. */
export interface CallSpend {
  maxOutputTokens: number | undefined;
  settle(answer: { model: string; usage: TokenUsage } | null): Promise<void>;
}

export type SpendDecision = { ok: true; spend: CallSpend } | { ok: false; message: string };

export function tpmMessage(tpm: number): string {
  return `This request is larger than this workspace's limit of ${tpm.toLocaleString('en-US')} tokens per minute. An admin can raise it with \`/agent limit tpm N\`.`;
}

/** Audits each 80% crossing and tells the admins (without holding up the call). */
async function warn(options: SpendOptions, scope: Scope, alerts: BudgetAlert[]): Promise<void> {
const { log } = options;
  for (const alert of alerts) {
    const fields = { workspace: scope.workspaceId, budget: budgetName(alert.budget), spent: alert.spent, limit: alert.budget.limit };
    log.info({ event: 'model.budget_warning', ...fields }, 'a budget is 80% used');
    await options.audit?.append(scope, {
      action: 'budget',
      outcome: 'ok',
      actorPrincipalId: alert.principalId ?? null,
      detail: { event: 'budget.warning', subject: alert.budget.subject, period: alert.budget.period, unit: alert.budget.unit, spent: alert.spent, limit: alert.budget.limit },
    });
    // Telling the admins is the platform's business: the turn that crossed the line does not wait for it.
    void Promise.resolve()
      .then(() => options.alerts?.budgetWarning(scope, alert))
      .catch((err: Error) => log.warn({ event: 'model.budget_alert_failed', err: err.message }, 'budget alert not sent'));
  }
}


export function createSpendControl(options: SpendOptions) {
  const { ledger, log } = options;
  const reservations = new Reservations({ ledger, log, leaseMs: options.leaseMs, idleMs: options.blockIdleMs });
  function settler(call: ModelCall, budgets: Budget[], hold: Hold | null, ticket: TokenTicket | null) {
    return async (answer: { model: string; usage: TokenUsage } | null) => {
      if (ticket) {
        // The window's count is corrected beside the answer, not before it.
        const used = answer ? answer.usage.inputTokens + answer.usage.outputTokens : 0;
        void ticket.settle(used).catch((err: Error) => log.warn({ event: 'model.tpm_settle_failed', err: err.message }, 'tokens per minute not corrected'));
      }
      const reservation = hold ? hold.settleAs(answer !== null) : { reservationId: null };
      if (reservation === null || (reservation.reservationId === null && !answer)) return hold?.settled();
      const entries: UsageEntry[] = answer
        ? [{ model: answer.model, usage: answer.usage, costMicroUsd: options.pricing.costMicroUsd(answer.model, answer.usage.inputTokens, answer.usage.outputTokens) }]
        : [];
      try {
        const result = await ledger.settle(call.scope, { principalId: call.principalId, channelExternalId: call.channelExternalId, ...reservation, entries, budgets });
        await warn(options, call.scope, result.crossed);
      } catch (err) {
        // The answer stands; a lost usage row is logged, not shown to the user (the lease frees the reservation).
        log.error({ event: 'model.settle_failed', workspace: call.scope.workspaceId, err: (err as Error).message }, 'usage not recorded');
      } finally {
        hold?.settled();
      }
    };
  }

  return {
    /** Decides what the call may spend; `models` are the models that may answer it (main, fallback). */
    async open(call: ModelCall, settings: WorkspaceSettings, models: string[], onWait: () => void): Promise<SpendDecision> {
      const budgets = budgetsOf(settings, options.defaultDailyTokens);
      const tpm = settings.tpm ?? null;
      if (budgets.length === 0 && tpm === null) return { ok: true, spend: { maxOutputTokens: undefined, settle: settler(call, budgets, null, null) } };
      const prompt = estimatePromptTokens(call.messages, call.tools);
      let maxOutputTokens = options.maxOutputTokens;
      if (tpm !== null) {
        if (prompt + Math.min(MIN_OUTPUT_TOKENS, maxOutputTokens) > tpm) return { ok: false, message: tpmMessage(tpm) };
        maxOutputTokens = Math.min(maxOutputTokens, tpm - prompt);
      }
      let hold: Hold | null = null;
      if (budgets.length > 0) {
        const price = dearest(models.map((m) => options.pricing.priceOf(m)));
        const taken = await reservations.take(call.scope, {
          principalId: call.principalId,
          budgets,
          promptTokens: prompt,
          maxOutputTokens,
          minOutputTokens: MIN_OUTPUT_TOKENS,
          price,
        });
        if (!taken.ok) return { ok: false, message: budgetUsedUpMessage(taken.budget) };
        hold = taken.hold;
        maxOutputTokens = hold.maxOutputTokens;
      }
      let ticket: TokenTicket | null = null;
      if (tpm !== null) {
        const waiting = setTimeout(onWait, options.noticeMs);
        try {
          ticket = await options.tokens.acquire(call.scope.workspaceId, prompt + maxOutputTokens, tpm, call.signal);
        } catch (err) {
          // Cancelled while waiting for the window: the reservation goes back.
          await settler(call, budgets, hold, null)(null);
          throw err;
        } finally {
          clearTimeout(waiting);
        }
      }
      return { ok: true, spend: { maxOutputTokens, settle: settler(call, budgets, hold, ticket) } };
    },

    /** Gives the undrawn part of this instance's blocks back. */
    close: () => reservations.close(),
  };
}
