/** Starts the real service in-process on 127.0.0.1 with a port of its own, on a test database. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startQuorum, type RunningQuorum, type StartOptions } from '../../src/main.js';
import { createLogger } from '../../src/log.js';
import { useDatabaseWith, type Driver, type TestDatabase } from './db.js';

export interface TestApp {
  running: RunningQuorum;
  baseUrl: string;
  config: Config;
  stop(): Promise<void>;
}

export function testConfig(db: TestDatabase, env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'quorum-data-')),
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ...env,
  });
}

export async function startTestApp(db: TestDatabase, options: StartOptions & { env?: Record<string, string> } = {}): Promise<TestApp> {
  const config = testConfig(db, options.env);
  const running = await startQuorum(config, {
    log: createLogger(config.LOG_LEVEL),
    ...(db.pglite ? { pglite: db.pglite } : {}),
    ...options,
  });
  return {
    running,
    config,
    baseUrl: `http://127.0.0.1:${running.port}`,
    stop: () => running.stop(),
  };
}

/** POSTs JSON to the app and returns status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * Opens a test database and starts the service on it for one describe block, stopping both
 * afterwards. Options are a function so that they can use objects made in the block.
 */
export function useTestApp(
  driver: Driver,
  options: () => StartOptions & { env?: Record<string, string> } = () => ({}),
): { db: TestDatabase; app: TestApp } {
  return useDatabaseWith(driver, async (db, cleanup) => {
    const app = await startTestApp(db, options());
    cleanup(() => app.stop());
    return { app };
  });
}
