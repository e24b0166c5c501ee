/**
 * Which transport carries cache invalidations between instances: Redis pub/sub when REDIS_URL
 * is set (it also works behind a transaction-pooling PgBouncer, which breaks LISTEN), else
 * PostgreSQL LISTEN/NOTIFY, else none (embedded PGlite: one process, delivered in-process).
 */
import type { Config } from '../config.js';
import { createInvalidationBus } from '../core/invalidation.js';
import type { InvalidationBus } from '../core/ports.js';
import type { Logger } from '../core/ports.js';
import { postgresTransport } from './postgres.js';
import { redisTransport } from './redis.js';

export async function openInvalidationBus(config: Pick<Config, 'REDIS_URL' | 'DATABASE_URL'>, log: Logger): Promise<InvalidationBus> {
  const transport = config.REDIS_URL
    ? redisTransport(config.REDIS_URL)
    : config.DATABASE_URL
      ? postgresTransport(config.DATABASE_URL)
      : null;
  return createInvalidationBus(transport, log);
}
