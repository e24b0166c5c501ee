/**
 * Retry and breaker policies (cockatiel), the deadline of one attempt, and the error
 * classification they share.
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
  TaskCancelledError,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
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

/**
 * Runs one attempt with a signal that aborts at the deadline or when `outer` does. At the
 * deadline the promise rejects at once (a TaskCancelledError, as cockatiel's aggressive timeout
 * policy throws), even if the provider never answers. One controller and one timer per attempt:
 * the policy derived a controller, raced two promises, aborted on every return (a DOMException
 * each time) and still needed AbortSignal.any to add the caller's signal.
 */
export function withDeadline<T>(ms: number, outer: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer?.reason);
    const timer = setTimeout(() => {
      const err = new TaskCancelledError(`Operation timed out after ${ms}ms`);
      controller.abort(err);
      settle();
      reject(err);
    }, ms);
    const settle = () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    };
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    attempt(controller.signal).then(
      (value) => {
        settle();
        resolve(value);
      },
      (err: unknown) => {
        settle();
        // Whatever the failed attempt left open (a response body) is let go.
        controller.abort(err);
        reject(err);
      },
    );
  });
}

export { isBrokenCircuitError };
