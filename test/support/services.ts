/**
 * The services some tests need beyond Node: PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).
 * A test that needs one is declared with `describeWith` / `itWith`: without the service it is
 * skipped, and the run ends with a list of what was skipped and how to run it
 * (test/support/skip-reporter.ts reads the mark these put in the test's name).
 */
import { describe, inject, it } from 'vitest';

export type Service = 'postgres' | 'redis';

export const SERVICES: Record<Service, { label: string; variable: string; example: string }> = {
  postgres: { label: 'PostgreSQL', variable: 'DATABASE_URL', example: 'postgres://postgres@127.0.0.1:5432/test' },
  redis: { label: 'Redis', variable: 'REDIS_URL', example: 'redis://127.0.0.1:6379' },
};

/** The mark in a test's name that says what it needs; the reporter groups skipped tests by it. */
export const needsMark = (service: Service) => `[needs ${SERVICES[service].variable}]`;

/** Whether the service is there: PostgreSQL when DATABASE_URL is set, Redis when REDIS_URL is set and answered (global setup). */
export function available(service: Service): boolean {
  return service === 'postgres' ? Boolean(process.env.DATABASE_URL) : inject('redisUrl') !== null;
}

/** The Redis URL global setup reached (throws where Redis is not available: use inside `describeWith('redis', ...)`). */
export function redisUrl(): string {
  const url = inject('redisUrl');
  if (!url) throw new Error('Redis is not available (set REDIS_URL)');
  return url;
}

export function describeWith(service: Service, name: string, fn: () => void): void {
  describe.skipIf(!available(service))(`${name} ${needsMark(service)}`, fn);
}

export function itWith(service: Service, name: string, fn: () => Promise<void>, timeout?: number): void {
  it.skipIf(!available(service))(`${name} ${needsMark(service)}`, fn, timeout);
}
