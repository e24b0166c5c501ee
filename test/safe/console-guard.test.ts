/**
 * The console answers only under a loopback Host (DNS rebinding) and takes changes only from its own
 * page or from no page (cross-site posts): through the real HTTP server, with exact headers.
 */
import { describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { useTestApp } from '../support/app.js';
import { drivers } from '../support/db.js';
import { rawRequest } from '../support/raw-http.js';

const message = JSON.stringify({ user: 'ava', channel: 'general', text: 'What did we decide?' });

describe.each(drivers)('console Host and Origin checks (%s)', (driver) => {
  const t = useTestApp(driver);
  const port = () => Number(new URL(t.app.baseUrl).port);
  const post = (headers: Record<string, string>) =>
    rawRequest(port(), { method: 'POST', path: '/console/api/messages', headers: { 'content-type': 'application/json', ...headers }, body: message });
  const stored = async () => (await t.db.db.select().from(messages)).length;

  it('answers its own page and scripts on loopback names', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`]) {
      expect((await rawRequest(port(), { path: '/', headers: { host } })).status).toBe(200);
    }
    const own = await post({ host: `localhost:${port()}`, origin: `http://localhost:${port()}`, 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(200);
    const script = await post({});
    expect(script.status).toBe(200);
  });

  it.each([
    ['a rebound DNS name', { host: `attacker.example:${'PORT'}` }],
    ['a LAN address', { host: `192.168.1.20:${'PORT'}` }],
    ['a name that starts like loopback', { host: `127.0.0.1.nip.io:${'PORT'}` }],
    ['a name that ends like loopback', { host: `attacker.localhost.example:${'PORT'}` }],
  ])('refuses %s in Host, for reads and writes, and stores nothing', async (_name, headers) => {
    const before = await stored();
    const host = headers.host.replace('PORT', String(port()));
    expect((await rawRequest(port(), { path: '/', headers: { host } })).status).toBe(403);
    expect((await rawRequest(port(), { path: '/console/api/replies?user=ava', headers: { host } })).status).toBe(403);
    const res = await post({ host });
    expect(res.status).toBe(403);
    expect(await stored()).toBe(before);
  });

  it.each([
    ['another site', { origin: 'https://attacker.example' }],
    ['another local port', { origin: 'http://localhost:1' }],
    ['an opaque origin', { origin: 'null' }],
    ['a cross-site fetch', { 'sec-fetch-site': 'cross-site' }],
    ['a same-site fetch from another port', { 'sec-fetch-site': 'same-site' }],
  ])('refuses a change from %s, and stores nothing', async (_name, headers) => {
    const before = await stored();
    const res = await post(headers);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).error).toMatch(/cross-site/);
    expect(await stored()).toBe(before);
  });
});
