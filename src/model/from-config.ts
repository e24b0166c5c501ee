/** Builds the throttling gate from the parsed config (used by main.ts). */
import type { Config } from '../config.js';
import type { AuditLog, BudgetAlertSink, Logger, TurnStore, UsageLedger } from '../core/ports.js';
import { createModelGate, type GateObserver, type ThrottlingGate } from './gate.js';
import { createModelFactory, fallbackSourceFor, modelNameFor } from './providers.js';
import { openSharedRedis, type SharedRedis } from '../limiter/redis-connection.js';
import { chooserOf, priceTableOf } from './choices.js';

export interface GateDeps {
  turns: Pick<TurnStore, 'settings'>;
  ledger: UsageLedger;
  audit: AuditLog;
  alerts?: BudgetAlertSink;
  observer?: GateObserver;
  log: Logger;
  /** The process's shared Redis (main.ts opens it once, the tools' rate limit uses it too); closed by whoever opened it. */
  redis?: SharedRedis | undefined;
}

/** The gate, plus a readiness check of its shared Redis (null when limits are local only). */
export function createGateFromConfig(config: Config, deps: GateDeps): ThrottlingGate & { redisCheck: (() => Promise<void>) | null } {
  const own = !deps.redis && config.REDIS_URL ? openSharedRedis(config.REDIS_URL, deps.log) : undefined;
  const redis = deps.redis ?? own;
  const fallback = config.MODEL_FALLBACK_NAME ?? null;
  const gate = createModelGate({
    provider: config.MODEL_PROVIDER,
    model: createModelFactory(config),
    modelName: (tier) => modelNameFor(config, tier),
    choose: chooserOf(config),
    fallbackModel: fallback,
    // Null when the fallback is a model of the main provider's endpoint.
    fallbackSource: fallbackSourceFor(config),
    settings: (scope) => deps.turns.settings(scope),
    ledger: deps.ledger,
    audit: deps.audit,
    alerts: deps.alerts,
    defaults: {
      rpm: config.WORKSPACE_RPM,
      concurrency: config.WORKSPACE_CONCURRENCY,
      dailyTokens: config.WORKSPACE_DAILY_TOKENS,
    },
    global: { rpm: config.MODEL_RPM, concurrency: config.MODEL_CONCURRENCY },
    prices: priceTableOf(config),
    outputReserveTokens: config.MODEL_MAX_OUTPUT_TOKENS,
    resilience: { timeoutMs: config.MODEL_TIMEOUT_MS },
    redis,
    observer: deps.observer,
    log: deps.log,
  });
  return {
    ...gate,
    redisCheck: redis
      ? async () => {
          if ((await redis.client.ping()) !== 'PONG') throw new Error('Redis did not answer PING');
        }
      : null,
    async close() {
      await gate.close();
      await own?.close();
    },
  };
}
