/**
 * /metrics protected as the operator chooses: a bearer token, a listener of its own, and not served
 * at all in production on a public address with neither. Through the running service over HTTP.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { drivers } from '../support/db.js';
import { useTestApp } from '../support/app.js';
import { useSlackApp } from '../slack/support.js';

const TOKEN = 'metrics-token-0123456789abcdef';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

describe.each(drivers)('/metrics behind METRICS_TOKEN (%s)', (driver) => {
  const t = useTestApp(driver, () => ({ env: { METRICS_TOKEN: TOKEN } }));

  it('answers only with the bearer token', async () => {
    expect((await fetch(`${t.app.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${t.app.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } })).status).toBe(401);
    expect((await fetch(`${t.app.baseUrl}/metrics`, { headers: { authorization: TOKEN } })).status).toBe(401);
    const ok = await fetch(`${t.app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('quorum_intake_total');
  });
});

// Picked before the apps start (a port of its own per driver).
const metricsPorts = { pglite: await freePort(), postgres: await freePort() };

describe.each(drivers)('/metrics on a listener of its own (%s)', (driver) => {
  const t = useTestApp(driver, () => ({ env: { METRICS_PORT: String(metricsPorts[driver]) } }));

  it('is served on METRICS_PORT and not on PORT', async () => {
    expect((await fetch(`${t.app.baseUrl}/metrics`)).status).toBe(404);
    const res = await fetch(`http://127.0.0.1:${t.app.config.METRICS_PORT}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('quorum_inbox_depth');
    expect((await fetch(`http://127.0.0.1:${t.app.config.METRICS_PORT}/healthz`)).status).toBe(404);
  });
});

describe.each(drivers)('/metrics in production on a public address (%s)', (driver) => {
  const s = useSlackApp(driver, () => ({ env: { NODE_ENV: 'production', HOST: '0.0.0.0', SLACK_BOT_TOKEN: 'xoxb-acme-single' } }));

  it('is not served without a token or a listener of its own', async () => {
    expect((await fetch(`${s.app.baseUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${s.app.baseUrl}/healthz`)).status).toBe(200);
  });
});
