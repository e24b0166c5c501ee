/**
 * All throttling in Quorum goes through one WorkspaceLimiter: per-workspace limits (rate and
 * concurrency), chained to the provider account's own limits, shared by every instance through
 * Redis when it is configured. The only implementation is Bottleneck's (bottleneck-limiter.ts,
 * patched in bottleneck-patches.ts); nothing outside src/limiter imports Bottleneck.
 */
export interface WorkspaceLimits {
  /** Model requests per window ("per minute"); calls are spaced window / rpm apart. */
  rpm: number;
  /** Model calls of the workspace running at once. */
  concurrency: number;
}

export interface WorkspaceLimiter {
  /** Runs `job` once the workspace's and the provider's limits allow; `job` must not throw. */
  schedule<T>(workspaceId: string, limits: WorkspaceLimits, job: () => Promise<T>): Promise<T>;
  /** Jobs of this workspace scheduled on this instance that have not started yet. */
  queued(workspaceId: string): number;
  /** Which limiters the next call uses: Redis-shared ones, or this instance's own. */
  mode(): 'local' | 'shared';
  /** Workspace limiters this instance holds now (idle ones expire). */
  size(): number;
  close(): Promise<void>;
}
