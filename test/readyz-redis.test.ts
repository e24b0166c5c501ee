/** /readyz covers Redis when REDIS_URL is set: ready with real Redis, not ready when it is unreachable. */
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from './support/app.js';
import { describeWith, redisUrl } from './support/services.js';
import { waitFor } from './support/wait.js';

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describeWith('redis', 'readiness with shared limits (pglite, real Redis)', () => {
  describe('Redis up', () => {
    const t = useTestApp('pglite', () => ({ env: { REDIS_URL: redisUrl() } }));
    it('reports the database and Redis ready', async () => {
      const body = await waitFor(async () => {
        const res = await fetch(`${t.app.baseUrl}/readyz`);
        return res.status === 200 ? ((await res.json()) as { checks: Record<string, string> }) : null;
      });
      expect(body.checks).toEqual({ database: 'ok', redis: 'ok' });
    });
  });
});

// Needs no Redis: REDIS_URL names a port where nothing listens.
describe('readiness with shared limits (pglite, Redis unreachable)', () => {
  describe('Redis unreachable', () => {
    let port = 0;
    beforeAll(async () => {
      port = await closedPort();
    });
    const t = useTestApp('pglite', () => ({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } }));
    it('answers 503 naming Redis, while health stays 200', async () => {
      const res = await fetch(`${t.app.baseUrl}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ checks: { database: 'ok', redis: 'unavailable' } });
      expect((await fetch(`${t.app.baseUrl}/healthz`)).status).toBe(200);
    });
  });
});
