/**
 * Retry, breaker and timeout policies (cockatiel) and the error classification they share.
 * Retryable: 429, 5xx and network failures. A timeout is not retried (the user already waited
 * the whole timeout) but counts as a failure for the breaker.
 */
import { APICallError } from '@ai-sdk/provider';
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  TimeoutStrategy,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';

export interface ResilienceOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff delay; doubles each retry, with decorrelated jitter. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A provider's Retry-After is honoured up to this long. */
  retryAfterCapMs: number;
  /** Consecutive failures that open a model's breaker. */
  breakerThreshold: number;
  /** How long an open breaker waits before letting one trial call through. */
  breakerCooldownMs: number;
  timeoutMs: number;
}

export function isTimeoutError(err: unknown): boolean {
  // cockatiel 3.2.1's isTaskCancelledError() tests the bulkhead flag by mistake; read the right one.
  if ((err as { isTaskCancelledError?: boolean } | null)?.isTaskCancelledError === true) return true;
  const name = (err as { name?: string } | null)?.name;
  return name === 'TimeoutError' || (name === 'AbortError' && /timeout/i.test(String((err as Error).message)));
}

export function statusOf(err: unknown): number | undefined {
  return APICallError.isInstance(err) ? err.statusCode : undefined;
}

/** 429, 5xx and failures to reach the provider at all. */
export function isRetryable(err: unknown): boolean {
  if (isTimeoutError(err) || isBrokenCircuitError(err)) return false;
  const status = statusOf(err);
  if (status !== undefined) return status === 429 || status >= 500;
  if (APICallError.isInstance(err)) return err.isRetryable;
  // fetch() network failures surface as TypeError ("fetch failed") with a system error cause.
  return err instanceof TypeError || /ECONNRE|ECONNREFUSED|EPIPE|socket|network/i.test(String((err as Error)?.message));
}

/** Retry-After in ms (seconds or an HTTP date), or null. */
export function retryAfterMs(err: unknown, now = Date.now()): number | null {
  if (!APICallError.isInstance(err)) return null;
  const headers = err.responseHeaders ?? {};
  const raw = headers['retry-after'] ?? headers['Retry-After'];
  if (raw === undefined) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

type RetryContext = IRetryBackoffContext<unknown>;

/** Exponential backoff with jitter, replaced by the provider's Retry-After when it sent one. */
function retryAfterAware(inner: IBackoffFactory<unknown>, capMs: number): IBackoffFactory<RetryContext> {
  return {
    next(context: RetryContext): IBackoff<RetryContext> {
      const step = inner.next(context);
      const error = 'error' in context.result ? context.result.error : undefined;
      const asked = retryAfterMs(error);
      return {
        duration: asked === null ? step.duration : Math.min(asked, capMs),
        next: (ctx: RetryContext) => retryAfterAware(step, capMs).next(ctx),
      };
    },
  };
}

export function retryPolicy(options: ResilienceOptions): RetryPolicy {
  return retry(handleWhen(isRetryable), {
    maxAttempts: options.retries,
    backoff: retryAfterAware(
      new ExponentialBackoff({ initialDelay: options.backoffInitialMs, maxDelay: options.backoffMaxMs }),
      options.retryAfterCapMs,
    ),
  });
}

/** Counts provider trouble (retryable errors and timeouts), not bad requests. */
export function breakerPolicy(options: ResilienceOptions): CircuitBreakerPolicy {
  return circuitBreaker(
    handleWhen((err) => isRetryable(err) || isTimeoutError(err)),
    { halfOpenAfter: options.breakerCooldownMs, breaker: new ConsecutiveBreaker(options.breakerThreshold) },
  );
}

/** Aggressive: the attempt's promise settles at the deadline even if the provider never answers. */
export function timeoutPolicy(options: ResilienceOptions): TimeoutPolicy {
  return timeout(options.timeoutMs, TimeoutStrategy.Aggressive);
}

export { isBrokenCircuitError };
