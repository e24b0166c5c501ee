/**
 * Ack throughput and latency of signed app_mention events through Quorum's /slack/events (inbox
 * write on PostgreSQL, or PGlite without DATABASE_URL, before the ack) against a plain Bolt HTTPReceiver app that acks and does
 * nothing. Same machine, same load generator (autocannon), one run. Prints figures and the ratio.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/slack.ts
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import autocannon from 'autocannon';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { FakeSlackApi } from '../test/fakes/slack-api.js';
import { benchConfig, benchServices, freshPostgres, print, signedSlackRequest } from './_support.js';

const SECRET = 'bench-signing-secret';
const DURATION_S = 10;
const RATE = 500;
const template = JSON.parse(readFileSync(new URL('../test/fixtures/slack/events/app_mention.json', import.meta.url), 'utf8'));

let seq = 0;
/** A fresh, signed app_mention per request: a new event_id (so every one is a real inbox write) and a fresh timestamp. */
function signedRequest(): { body: string; headers: Record<string, string> } {
  seq += 1;
  const body = JSON.stringify({ ...template, event_id: `EvB${process.pid}x${seq}`, event: { ...template.event, ts: `1767260000.${seq}` } });
  return signedSlackRequest(body, SECRET);
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, options: { connections: number; overallRate?: number }): Promise<Figures> {
  const result = await autocannon({
    url: `${url}/slack/events`,
    method: 'POST',
    connections: options.connections,
    duration: DURATION_S,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [{ setupRequest: (req: any) => ({ ...req, ...signedRequest() }) }],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function plainBolt(apiUrl: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const receiver = new HTTPReceiver({ signingSecret: SECRET, logLevel: LogLevel.ERROR });
  const app = new App({ receiver, token: 'xoxb-bench', logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: apiUrl } });
  app.event('app_mention', async () => {});
  const server = (await app.start(0)) as unknown as import('node:http').Server;
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, stop: async () => { await app.stop(); } };
}

export async function run(): Promise<void> {
  // PostgreSQL when DATABASE_URL is set (a throwaway database beside it), PGlite in DATA_DIR otherwise.
  const pg = benchServices.postgres ? await freshPostgres(benchServices.postgres, `quorum_bench_slack_${randomBytes(4).toString('hex')}`) : null;
  const store = pg ? 'PostgreSQL' : 'PGlite (set DATABASE_URL for PostgreSQL)';

  const api = await new FakeSlackApi().start();
  const config = benchConfig('slack', {
    LOG_LEVEL: 'error',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: api.url,
  });
  const quorum = await startQuorum(config, { log: createLogger('error') });
  const bolt = await plainBolt(api.url);
  const quorumUrl = `http://127.0.0.1:${quorum.port}`;
  try {
    // Warm both up (auth.test, connection pools, JIT).
    await load(quorumUrl, { connections: 4, overallRate: 100 }).catch(() => undefined);
    // The ack path alone: workers paused (in production they may run on other instances); the
    // same figures with this process also working the turns are printed after.
    await quorum.worker.stop(1_000);
    const boltMax = await load(bolt.url, { connections: 50 });
    const quorumMax = await load(quorumUrl, { connections: 50 });
    const boltRated = await load(bolt.url, { connections: 50, overallRate: RATE });
    const quorumRated = await load(quorumUrl, { connections: 50, overallRate: RATE });
    quorum.worker.start();
    const busyMax = await load(quorumUrl, { connections: 50 });
    const busyRated = await load(quorumUrl, { connections: 50, overallRate: RATE });
    await quorum.worker.stop(1_000);

    const row = (name: string, max: Figures, rated: Figures) =>
      `${name.padEnd(22)} max ${max.rps.toFixed(0).padStart(6)} req/s (p99 ${max.p99} ms, non-2xx ${max.non2xx}) | at ${RATE}/s: ${rated.rps.toFixed(0)} req/s, p50 ${rated.p50} ms, p99 ${rated.p99} ms, non-2xx ${rated.non2xx}`;
    print(`\nSlack ack benchmark (${DURATION_S}s per run, 50 connections, signed app_mention, inbox on ${store})`);
    print(row('plain Bolt HTTPReceiver', boltMax, boltRated));
    print(row('Quorum /slack/events', quorumMax, quorumRated));
    print(row('Quorum + turns running', busyMax, busyRated));
    const ratio = quorumMax.rps / boltMax.rps;
    print(
      `ratio ${(ratio * 100).toFixed(0)}% of plain Bolt (target >= 50%), ${((busyMax.rps / boltMax.rps) * 100).toFixed(0)}% with turns running; ` +
        `p99 at ${RATE}/s ${quorumRated.p99} ms (target <= 50 ms)`,
    );
  } finally {
    await bolt.stop();
    await quorum.stop();
    await api.stop();
    await pg?.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
