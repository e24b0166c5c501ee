/**
 * Teams intake: channel-message activities through POST /api/messages (mapping, reference
 * store, inbox write on PostgreSQL when DATABASE_URL is set) against a plain botbuilder
 * CloudAdapter handler that does nothing, same machine, same run. Auth off on both sides (JWT
 * verification costs the same on both). The inbox worker is stopped: this measures intake only.
 * Targets: Quorum >= 50% of the plain handler's requests/s; p99 <= 50 ms at 200 activities/s.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { createCloudAdapter } from '../adapters/teams/auth.js';
import { loadConfig } from '../src/config.js';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { benchConfig, print } from './_support.js';

const DURATION_S = 10;
const CONNECTIONS = 20;

/** A new activity id per request (autocannon's idReplacement loses the connection here). */
function channelActivityBody(): () => string {
  const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/teams/activities/channel_mention.json', import.meta.url), 'utf8'));
  fixture.serviceUrl = 'http://127.0.0.1:9/';
  const template = JSON.stringify(fixture);
  const root = fixture.id as string;
  let n = 0;
  return () => template.replaceAll(root, `${root}${String(++n).padStart(9, '0')}`);
}

interface Result {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
}

function cannon(url: string, body: () => string, extra: Record<string, unknown> = {}): Promise<Result> {
  return autocannon({
    url,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: body() }),
      },
    ],
    connections: CONNECTIONS,
    duration: DURATION_S,
    ...extra,
  });
}

/** The baseline: botbuilder's CloudAdapter behind node:http, with the minimal req/res an express host would give. */
async function startPlainHandler(): Promise<{ url: string; close(): Promise<void> }> {
  // botbuilder's own CloudAdapter (auth off, as on the Quorum side); imported through adapters/teams
  // so that every botbuilder import stays in that folder.
  const adapter = createCloudAdapter({ appType: 'SingleTenant', production: false, serviceUrlHosts: [] });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const shimReq = { method: req.method, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
      const shimRes = {
        socket: null,
        status(code: number) {
          res.statusCode = code;
          return shimRes;
        },
        header(name: string, value: unknown) {
          res.setHeader(name, String(value));
          return shimRes;
        },
        send(body: unknown) {
          res.write(typeof body === 'string' ? body : JSON.stringify(body));
          return shimRes;
        },
        end() {
          res.end();
          return shimRes;
        },
      };
      adapter.process(shimReq as never, shimRes as never, async () => {}).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/api/messages`, close: () => new Promise((r) => server.close(() => r())) };
}

async function benchDatabase(): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const base = loadConfig().DATABASE_URL;
  if (!base) return { url: undefined, drop: async () => {} };
  const name = `quorum_bench_teams_${process.pid}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export async function run(): Promise<void> {
  const body = channelActivityBody();
  const database = await benchDatabase();
  const config = benchConfig('teams', database.url ? { DATABASE_URL: database.url } : {});
  const running = await startQuorum(config, { log: createLogger('silent') });
  await running.worker.stop(0);
  const plain = await startPlainHandler();
  try {
    const quorumUrl = `http://127.0.0.1:${running.port}/api/messages`;
    // Warm-up: JIT, connection pools, the workspace and conversation references.
    await cannon(quorumUrl, body, { duration: 2 });
    await cannon(plain.url, body, { duration: 2 });

    const base = await cannon(plain.url, body);
    const ours = await cannon(quorumUrl, body);
    const paced = await cannon(quorumUrl, body, { overallRate: 200, connections: 10 });

    const ratio = ours.requests.average / base.requests.average;
    const store = database.url ? 'PostgreSQL' : 'PGlite (set DATABASE_URL for PostgreSQL)';
    print(`\nTeams intake (/api/messages, channel mentions, inbox on ${store}; ${CONNECTIONS} connections, ${DURATION_S}s)`);
    print(`  plain CloudAdapter (does nothing): ${base.requests.average.toFixed(0)} req/s, p50 ${base.latency.p50} ms, p99 ${base.latency.p99} ms, non-2xx ${base.non2xx}`);
    print(`  Quorum intake:                     ${ours.requests.average.toFixed(0)} req/s, p50 ${ours.latency.p50} ms, p99 ${ours.latency.p99} ms, non-2xx ${ours.non2xx}`);
    print(`  ratio: ${(ratio * 100).toFixed(0)}% of the plain handler (target >= 50%) ${ratio >= 0.5 ? 'OK' : 'MISSED'}`);
    print(
      `  paced at 200 activities/s: ${paced.requests.average.toFixed(0)} req/s, p50 ${paced.latency.p50} ms, p99 ${paced.latency.p99} ms, non-2xx ${paced.non2xx} (target p99 <= 50 ms) ${paced.latency.p99 <= 50 ? 'OK' : 'MISSED'}`,
    );
  } finally {
    await plain.close();
    await running.stop();
    await database.drop();
  }
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  void run();
}
