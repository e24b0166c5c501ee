/**
 * Every `npm start` recipe of the README, started as written (its variables, NODE_ENV left as it
 * says), then probed as a stranger would: nothing unauthenticated reaches the console or Teams
 * unless Quorum listens on loopback and the request comes from there.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadConfig } from '../../src/config.js';
import { isQuorumError } from '../../src/core/errors.js';
import { inbox } from '../../src/db/schema.js';
import { isLoopbackAddress } from '../../src/http/loopback.js';
import { createLogger } from '../../src/log.js';
import { startQuorum, type RunningQuorum } from '../../src/main.js';
import { FakeBotIdentity } from '../fakes/bot-openid.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { rawRequest } from '../support/raw-http.js';
import { startChild } from '../support/child.js';
import { activity, APP_ID, CONTOSO } from '../teams/helpers.js';
import { ENCRYPTION_KEY, SIGNING_SECRET } from '../slack/support.js';

/** `KEY=value … npm start` lines of the README's sh blocks, continuation lines joined. */
export function readmeRecipes(): { line: string; env: Record<string, string> }[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n/g, ' '));
  const lines = blocks.flatMap((b) => b.split('\n')).filter((l) => /\bnpm start\b/.test(l));
  return lines.map((line) => {
    const before = line.slice(0, line.indexOf('npm start')).split(/&&|;/).pop()!;
    const env: Record<string, string> = {};
    for (const m of before.matchAll(/([A-Z][A-Z0-9_]*)=(<[^>]*>|\$\([^)]*\)|\S+)/g)) env[m[1]!] = m[2]!;
    return { line: line.trim(), env };
  });
}

/** Placeholders (`xoxb-…`, `<app id>`, `$(openssl …)`) get test values; everything else stays as written. */
const testValues: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-recipe',
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_APP_TOKEN: 'xapp-recipe',
  QUORUM_ENCRYPTION_KEY: ENCRYPTION_KEY,
  MICROSOFT_APP_ID: APP_ID,
  MICROSOFT_APP_PASSWORD: 'recipe-password',
  MICROSOFT_APP_TENANT_ID: CONTOSO,
};
const isPlaceholder = (v: string) => /…|^<.*>$|^\$\(/.test(v);

describe('README recipes', () => {
  it('are found: the quick start, Slack over Socket Mode and HTTP, and Teams', () => {
    const recipes = readmeRecipes();
    expect(recipes.length).toBeGreaterThanOrEqual(4);
    expect(recipes.some((r) => r.env.HOST && !isLoopbackAddress(r.env.HOST))).toBe(true);
  });
});

describe('npm start on a public address with nothing but the conveniences', () => {
  it('exits 1 and says why and what to set, before opening anything', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'quorum-recipe-')), 'never');
    const child = startChild({ HOST: '0.0.0.0', DATA_DIR: dataDir });
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(/HOST=0\.0\.0\.0 is reachable from other machines.*Set HOST=127\.0\.0\.1/s);
    expect(child.output()).not.toContain('Quorum console');
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);
});

describe.each(drivers)('README recipes started as written (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let identity: FakeBotIdentity;
  let wss: WebSocketServer;
  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    identity = new FakeBotIdentity(APP_ID);
    await identity.start();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const address = wss.address();
    api.socketUrl = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    wss.on('connection', (ws) => ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0QRMAPP01' } })));
  });
  afterAll(async () => {
    await new Promise((resolve) => wss?.close(resolve));
    await identity?.stop();
    await api?.stop();
    await db?.close();
  });

  const start = async (written: Record<string, string>): Promise<RunningQuorum> => {
    const env = Object.fromEntries(Object.entries(written).map(([k, v]) => [k, isPlaceholder(v) ? (testValues[k] ?? 'recipe-value') : v]));
    const config = loadConfig({
      ...env,
      // Plumbing only: a free port, a private data folder, the test database, the fakes.
      PORT: '0',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'quorum-recipe-')),
      LOG_LEVEL: 'silent',
      SLACK_API_URL: api.url,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
    });
    return startQuorum(config, {
      log: createLogger('silent'),
      model: new RecordingModelGate(),
      ...(db.pglite ? { pglite: db.pglite } : {}),
      teams: { settings: identity.settings(), credentialsFactory: identity.credentialsFactory() },
    });
  };

  it.each(readmeRecipes().map((r) => [r.line, r.env] as const))('%s', async (_line, written) => {
    const loopback = isLoopbackAddress(written.HOST ?? loadConfig({}).HOST);
    const running = await start(written);
    try {
      const port = running.port;
      const stranger = { host: `quorum.example.com:${port}` };
      const before = (await db.db.select().from(inbox)).length;
      const consolePost = (headers: Record<string, string>) =>
        rawRequest(port, {
          method: 'POST',
          path: '/console/api/messages',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ user: 'ava', channel: 'general', text: '/agent role @dev admin' }),
        });
      const teamsPost = (headers: Record<string, string>) =>
        rawRequest(port, {
          method: 'POST',
          path: '/api/messages',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(activity('personal_message', 'https://attacker.example/', (a) => (a.id = `recipe-${Math.random()}`))),
        });

      // From another machine (a public Host name): the console and unsigned Teams never answer.
      expect([403, 404]).toContain((await rawRequest(port, { path: '/', headers: stranger })).status);
      expect([403, 404]).toContain((await consolePost(stranger)).status);
      expect([401, 403, 404]).toContain((await teamsPost(stranger)).status);
      // An unsigned Slack request is refused wherever it comes from.
      const slack = await rawRequest(port, { method: 'POST', path: '/slack/events', headers: { 'content-type': 'application/json' }, body: '{"type":"url_verification","challenge":"x"}' });
      expect([401, 404]).toContain(slack.status);
      expect((await db.db.select().from(inbox)).length).toBe(before);

      if (!loopback) {
        // Listening beyond loopback: the conveniences are off even for a loopback Host.
        expect((await rawRequest(port, { path: '/' })).status).toBe(404);
        expect((await consolePost({})).status).toBe(404);
        expect([401, 404]).toContain((await teamsPost({})).status);
      } else {
        // On loopback the console is there for the person at the machine.
        expect((await rawRequest(port, { path: '/' })).status).toBe(200);
      }
      if (written.MICROSOFT_APP_ID) expect([401, 403]).toContain((await teamsPost({})).status);
    } finally {
      await running.stop();
    }
  });

  it('refuses to start on a public address with nothing but the conveniences, and says what to set', async () => {
    const err = await start({ HOST: '0.0.0.0' }).then(
      (r) => r.stop().then(() => null),
      (e: unknown) => e,
    );
    expect(isQuorumError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/HOST=0\.0\.0\.0.*loopback.*HOST=127\.0\.0\.1/s);
  });
});
