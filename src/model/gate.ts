/**
 * The throttling ModelGate: every model call in Quorum goes through here.
 *
 *   budget reserve → [retry → breaker → workspace limiter → provider limiter → timeout → call]
 *   → fallback model if the breaker is open or retries ran out → settle usage → outcome
 *
 * The fallback model may live on another provider (its own source): breakers are kept per
 * source and model, so one provider being down never opens the other's breaker.
 *
 * Every attempt (retries and the fallback too) passes the limiters, so retrying never exceeds
 * a workspace's or the provider's limits. Provider trouble becomes an outcome, never a throw.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Scope } from '../core/identity.js';
import type {
  AuditLog,
  BudgetAlertSink,
  Logger,
  ModelCall,
  ModelGate,
  ModelOutcome,
  PromptMessage,
  UsageLedger,
  WorkspaceSettings,
} from '../core/ports.js';
import { attemptModel, failureOf, type GatedCall, INTERRUPTED_MESSAGE, streamTracker, TIMEOUT_MESSAGE, UNREACHABLE_MESSAGE } from './model-call.js';
import { createWorkspaceLimiter } from '../limiter/bottleneck-limiter.js';
import { lendSlotWhileWaiting } from '../limiter/slot.js';
import type { WorkspaceLimiter, WorkspaceLimits } from '../limiter/workspace-limiter.js';
import { createPricing, type PriceTable } from './pricing.js';
import { createSpendControl, estimatePromptTokens } from './spend.js';
import { createTokenWindow } from '../limiter/token-window.js';
import { budgetUsedUpMessage } from '../core/budgets.js';
import type { SharedRedis } from '../limiter/redis-connection.js';
import {
  breakerPolicy,
  isBrokenCircuitError,
  isRetryable,
  isTimeoutError,
  statusOf,
  retryPolicy,
  withDeadline,
  type ResilienceOptions,
} from './resilience.js';
import { CircuitState, TaskCancelledError, type CircuitBreakerPolicy } from 'cockatiel';

/** The answer when the workspace's daily token budget is used up (each budget has its own: core/budgets.ts). */
export const BUDGET_MESSAGE = budgetUsedUpMessage({ subject: 'workspace', period: 'day', unit: 'tokens', limit: 0 });

export type { PriceTable } from './pricing.js';

/** A provider endpoint and its models by name. */
export interface ModelSource {
  /** offline | openai | anthropic: for logs and the audit, never a URL or a key. */
  provider: string;
  model: (modelId: string) => LanguageModelV3;
}

export interface ModelGateOptions {
  provider: string;
  model: (modelId: string) => LanguageModelV3;
  modelName: (tier: 'answer' | 'small') => string;
  /** A MODEL_CHOICES name (ModelCall.model) → its source and model id; undefined for a name no longer listed. */
  choose?: ((name: string) => { on: 'main' | 'fallback'; modelId: string; tools: boolean } | undefined) | undefined;
  /** Used when the main model's breaker is open or its retries ran out. */
  fallbackModel?: string | null | undefined;
  /** Where the fallback model lives when not on the main provider (MODEL_FALLBACK_PROVIDER …). */
  fallbackSource?: ModelSource | null | undefined;
  /** The workspace's settings row, read per call (cached for settingsTtlMs) so admin changes apply at once. */
  settings: (scope: Scope) => Promise<WorkspaceSettings>;
  ledger: UsageLedger;
  audit?: AuditLog | undefined;
  alerts?: BudgetAlertSink | undefined;
  /** WORKSPACE_RPM, WORKSPACE_CONCURRENCY, WORKSPACE_DAILY_TOKENS. */
  defaults: { rpm: number; concurrency: number; dailyTokens?: number | undefined };
  /** MODEL_RPM, MODEL_CONCURRENCY. */
  global: { rpm?: number | undefined; concurrency?: number | undefined };
  prices?: PriceTable | undefined;
  resilience: Partial<ResilienceOptions> & { timeoutMs: number };
  redis?: SharedRedis | undefined;
  /** Feeds the limiter gauges (/metrics); optional so that src/model stays free of prom-client. */
  observer?: GateObserver | undefined;
  log: Logger;
  /** Test and bench knobs. */
  windowMs?: number;
  idleMs?: number;
  queueNoticeMs?: number;
  settingsTtlMs?: number;
  prefix?: string;
  heartbeatMs?: number;
  /** The most output a call is given (and reserved for) when a budget or the tpm limit applies. */
  outputReserveTokens?: number;
  /** How long a budget reservation holds without renewal (renewed while its call runs). */
  reservationLeaseMs?: number;
  /** How long an unused block of budget reservation is kept before its undrawn part goes back. */
  budgetBlockIdleMs?: number;
}

export interface GateObserver {
  /** Calls of this instance now waiting for a limiter. */
  queueLength(n: number): void;
  /** How long one attempt waited in the limiters before it ran. */
  waited(seconds: number): void;
}

export interface ThrottlingGate extends ModelGate {
  limiters: WorkspaceLimiter;
  /** 'Closed' | 'Open' | 'HalfOpen' | 'Isolated' for a model's breaker, on the main or the fallback source. */
  breakerState(modelId: string, source?: 'main' | 'fallback'): string;
  close(): Promise<void>;
}

const defaultResilience: Omit<ResilienceOptions, 'timeoutMs'> = {
  retries: 2,
  backoffInitialMs: 250,
  backoffMaxMs: 10_000,
  retryAfterCapMs: 30_000,
  breakerThreshold: 5,
  breakerCooldownMs: 30_000,
};

/** What a call may cost at most before it runs: its prompt's estimate plus room for the answer. */
export function estimateCallTokens(messages: PromptMessage[], outputReserveTokens: number): number {
  return estimatePromptTokens(messages) + outputReserveTokens;
}

/** One model on one source. */
interface Target {
  source: ModelSource;
  modelId: string;
}

type Attempt =
  | Extract<ModelOutcome, { kind: 'answer' }>
  | { kind: 'failed'; why: 'timeout' | 'open' | 'exhausted' | 'fatal' | 'interrupted'; error?: unknown };

/** A streamed answer broke after some of its text went out: retrying or falling back would show text twice. */
class StreamInterruptedError extends Error {
  override readonly name = 'StreamInterruptedError';
}

function whyFailed(err: unknown): Extract<Attempt, { kind: 'failed' }>['why'] {
  if (err instanceof StreamInterruptedError) return 'interrupted';
  if (isTimeoutError(err)) return 'timeout';
  if (isBrokenCircuitError(err)) return 'open';
  return isRetryable(err) ? 'exhausted' : 'fatal';
}

/** A call not started this long after it entered the limiters waits without its worker slot (src/limiter/slot.ts). */
const LEND_SLOT_AFTER_MS = 5;

export function createModelGate(options: ModelGateOptions): ThrottlingGate {
  const resilience: ResilienceOptions = { ...defaultResilience, ...options.resilience };
  const windowMs = options.windowMs ?? 60_000;
  const queueNoticeMs = options.queueNoticeMs ?? 2_000;
  const settingsTtlMs = options.settingsTtlMs ?? 0;
  const log = options.log;

  const limiters = createWorkspaceLimiter({
    provider: options.provider,
    global: options.global,
    windowMs,
    idleMs: options.idleMs ?? 5 * 60_000,
    redis: options.redis,
    prefix: options.prefix ?? 'quorum',
    heartbeatMs: options.heartbeatMs ?? 100,
    log,
  });
  const leaseMs = options.reservationLeaseMs ?? 60_000;
  const spend = createSpendControl({
    ledger: options.ledger,
    pricing: createPricing(options.prices),
    tokens: createTokenWindow({ windowMs, leaseMs, redis: options.redis, prefix: options.prefix ?? 'quorum' }),
    audit: options.audit,
    alerts: options.alerts,
    log,
    defaultDailyTokens: options.defaults.dailyTokens,
    maxOutputTokens: options.outputReserveTokens ?? 4_096,
    leaseMs,
    noticeMs: queueNoticeMs,
    blockIdleMs: options.budgetBlockIdleMs,
  });
  const retry = retryPolicy(resilience);
  const mainSource: ModelSource = { provider: options.provider, model: options.model };
  const fallbackSource = options.fallbackSource ?? mainSource;
  // Each model's breaker and provider object, made once. Keyed by the source object, then the
  // model: two endpoints of one provider kind stay apart too.
  const models = new Map<ModelSource, Map<string, { breaker: CircuitBreakerPolicy; model: LanguageModelV3 }>>();
  const modelOf = ({ source, modelId }: Target) => {
    let bySource = models.get(source);
    if (!bySource) models.set(source, (bySource = new Map()));
    let entry = bySource.get(modelId);
    if (!entry) {
      const fields = { provider: source.provider, model: modelId };
      const breaker = breakerPolicy(resilience);
      breaker.onBreak(() => log.warn({ event: 'model.breaker_open', ...fields }, 'breaker opened'));
      breaker.onReset(() => log.info({ event: 'model.breaker_closed', ...fields }, 'breaker closed'));
      bySource.set(modelId, (entry = { breaker, model: source.model(modelId) }));
    }
    return entry;
  };

  const settingsCache = new Map<string, { at: number; value: WorkspaceSettings }>();
  async function settingsOf(scope: Scope): Promise<WorkspaceSettings> {
    const cached = settingsCache.get(scope.workspaceId);
    if (cached && Date.now() - cached.at < settingsTtlMs) return cached.value;
    const value = await options.settings(scope);
    if (settingsTtlMs > 0) settingsCache.set(scope.workspaceId, { at: Date.now(), value });
    return value;
  }

  // Calls of this instance waiting for a limiter, per workspace, in arrival order (for "number N in the queue").
  const waiting = new Map<string, Set<object>>();
  let waitingTotal = 0;

  async function attempt(
    call: GatedCall,
    target: Target,
    limits: WorkspaceLimits,
    notice: { sent: boolean },
    count: { n: number },
    stream: { readonly emitted: boolean },
  ): Promise<Attempt> {
    const ws = call.scope.workspaceId;
    const { provider } = target.source;
    const modelId = target.modelId;
    // The breaker counts the provider's own error; the retry sees it as final once text went out.
    const untilStreamed = (err: unknown) => {
      throw stream.emitted && !isTimeoutError(err) ? new StreamInterruptedError('the answer stream broke', { cause: err }) : err;
    };
    try {
      const { breaker, model } = modelOf(target);
      return await retry.execute(() =>
        breaker.execute(async () => {
          const ticket = {};
          const queue = waiting.get(ws) ?? new Set<object>();
          waiting.set(ws, queue);
          queue.add(ticket);
          const enqueued = performance.now();
          let left = false;
          const slotBack = lendSlotWhileWaiting(LEND_SLOT_AFTER_MS);
          options.observer?.queueLength(++waitingTotal);
          const timer = setTimeout(() => {
            if (notice.sent || !queue.has(ticket)) return;
            notice.sent = true;
            call.onQueued?.([...queue].indexOf(ticket) + 1);
          }, queueNoticeMs);
          const leave = () => {
            if (!left) options.observer?.queueLength(--waitingTotal);
            left = true;
            slotBack();
            clearTimeout(timer);
            queue.delete(ticket);
            if (queue.size === 0 && waiting.get(ws) === queue) waiting.delete(ws);
          };
          try {
            return await limiters.schedule(ws, limits, () => {
              leave();
              options.observer?.waited((performance.now() - enqueued) / 1000);
              count.n++;
              return withDeadline(resilience.timeoutMs, call.signal, async (signal) => {
                try {
                  return await attemptModel(model, call, signal);
                } catch (err) {
                  // The abort can surface as the provider's AbortError before the deadline's own error.
                  if (signal.aborted && !call.signal?.aborted) throw new TaskCancelledError();
                  throw err;
                }
              });
            });
          } catch (err) {
            // One line per failed attempt; never the provider's message (it can quote the prompt).
            log.warn(
              { event: 'model.failed', provider, model: modelId, status: statusOf(err), kind: isTimeoutError(err) ? 'timeout' : (err as Error).name },
              'model attempt failed',
            );
            throw err;
          } finally {
            leave();
          }
        }).catch(untilStreamed),
      );
    } catch (err) {
      const why = whyFailed(err);
      log.warn({ event: 'model.gave_up', provider, model: modelId, why, attempts: count.n }, 'model call failed');
      return { kind: 'failed', why, error: err };
    }
  }

  return {
    limiters,
    breakerState: (modelId, source = 'main') =>
      CircuitState[models.get(source === 'main' ? mainSource : fallbackSource)?.get(modelId)?.breaker.state ?? CircuitState.Closed],
    close: async () => {
      await spend.close();
      await limiters.close();
    },

    async generate(call: ModelCall): Promise<ModelOutcome> {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const chosen = call.model ? options.choose?.(call.model) : undefined;
      const primary = chosen?.modelId ?? options.modelName(call.tier ?? 'answer');
      const main: Target = { source: chosen?.on === 'fallback' ? fallbackSource : mainSource, modelId: primary };
      // A model that takes no tools is sent none, whatever the caller offered.
      if (chosen && !chosen.tools) call = { ...call, tools: undefined, toolChoice: undefined };
      const fallback: Target | null =
        options.fallbackModel && !(fallbackSource === main.source && options.fallbackModel === primary)
          ? { source: fallbackSource, modelId: options.fallbackModel }
          : null;
      const settings = call.settings ?? (await settingsOf(call.scope));
      const limits = {
        rpm: settings.rpm ?? options.defaults.rpm,
        concurrency: settings.concurrency ?? options.defaults.concurrency,
      };
      const notice = { sent: false };
      const decision = await spend.open(call, settings, fallback ? [primary, fallback.modelId] : [primary], () => {
        if (notice.sent) return;
        notice.sent = true;
        call.onQueued?.(1);
      });
      if (!decision.ok) return { kind: 'refused', reason: 'budget', message: decision.message, model: primary, latencyMs: elapsed() };
      const { maxOutputTokens } = decision.spend;

      const count = { n: 0 };
      const stream = streamTracker(maxOutputTokens === undefined ? call : { ...call, maxOutputTokens });
      let result: Attempt | null = null;
      let answeredBy = main;
      try {
        result = await attempt(stream.call, main, limits, notice, count, stream);
        // 'interrupted' never falls back: text already went out (see StreamInterruptedError).
        if (result.kind === 'failed' && (result.why === 'open' || result.why === 'exhausted') && fallback) {
          log.warn(
            { event: 'model.fallback', from: primary, to: fallback.modelId, fromProvider: main.source.provider, toProvider: fallback.source.provider, why: result.why },
            'using the fallback model',
          );
          answeredBy = fallback;
          result = await attempt(stream.call, fallback, limits, notice, count, stream);
        }
      } finally {
        await decision.spend.settle(result?.kind === 'answer' ? result : null);
      }

      if (result.kind === 'answer') {
        const usedFallback = answeredBy === fallback;
        if (count.n > 1 || usedFallback) {
          // Degraded but answered: worth a line in the audit (refusals are audited by the core).
          await options.audit
            ?.append(call.scope, {
              action: 'model_call',
              outcome: 'ok',
              actorPrincipalId: call.principalId,
              model: result.model,
              latencyMs: elapsed(),
              detail: { attempts: count.n, fallback: usedFallback, provider: answeredBy.source.provider },
            })
            .catch((err: Error) => log.warn({ event: 'model.audit_failed', err: err.message }, 'audit failed'));
        }
        return { ...result, latencyMs: elapsed() };
      }
      if (result.why === 'timeout') return { kind: 'refused', reason: 'timeout', message: TIMEOUT_MESSAGE, model: primary, latencyMs: elapsed() };
      // A provider that cannot be reached says so; one that answered is named for what it did.
      const failure = result.why === 'fatal' ? failureOf(result.error, false) : { reason: 'unavailable' as const, message: UNREACHABLE_MESSAGE };
      if (result.why === 'interrupted') failure.message = INTERRUPTED_MESSAGE;
      return { kind: 'refused', ...failure, model: primary, latencyMs: elapsed() };
    },
  };
}
