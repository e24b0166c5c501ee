/**
 * Cross-instance revocation: two Quorum instances on one PostgreSQL behind one Slack app. Each
 * trial caches a channel's roster on instance B, sends a signed member_left_channel to instance
 * A, and times from sending the event to the first "not a member" from B's membership port (what
 * B's next turn would ask). Target: p99 <= 1 s. Over PostgreSQL LISTEN/NOTIFY, and over Redis
 * pub/sub as well when REDIS_URL is set.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- revocation
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { MembershipSource } from '../src/core/ports.js';
import { createLogger } from '../src/log.js';
import { startQuorum, type RunningQuorum } from '../src/main.js';
import { FakeSlackApi } from '../test/fakes/slack-api.js';
import { benchConfig, fmt, freshPostgres, print, signedSlackRequest, summarize } from './_support.js';

const SECRET = 'bench-signing-secret';
const TRIALS = 100;
/** A trial that has not seen the denial after this long counts as missed (and stops waiting). */
const GIVE_UP_MS = 5_000;
const WS = { platform: 'slack' as const, externalId: 'T0ACME0001' };
const template = JSON.parse(readFileSync(new URL('../test/fixtures/slack/events/member_left_channel.json', import.meta.url), 'utf8'));

function signedLeave(n: number, channel: string, user: string): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ ...template, event_id: `EvRev${process.pid}x${n}`, event: { ...template.event, channel, user } });
  return signedSlackRequest(body, SECRET);
}

async function instance(databaseUrl: string, api: FakeSlackApi, redisUrl: string | undefined): Promise<RunningQuorum> {
  const config = benchConfig('rev', {
    DATABASE_URL: databaseUrl,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: api.url,
    QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  });
  return startQuorum(config, { log: createLogger('silent') });
}

async function trials(label: string, databaseUrl: string, redisUrl: string | undefined): Promise<void> {
  const api = await new FakeSlackApi().start();
  const [a, b] = [await instance(databaseUrl, api, redisUrl), await instance(databaseUrl, api, redisUrl)];
  const onB = b.deps.platforms.slack!.membership as MembershipSource;
  const samples: number[] = [];
  const acks: number[] = [];
  let missed = 0;
  try {
    for (let i = 0; i < TRIALS; i++) {
      const channel = { id: `CREV${i}`, kind: 'channel' as const };
      api.rosters.set(channel.id, ['UREVMEM1', 'UREVMEM2']);
      if (!(await onB.isMember(WS, channel, 'UREVMEM1'))) throw new Error('roster not cached on B');
      const { body, headers } = signedLeave(i, channel.id, 'UREVMEM1');
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${a.port}/slack/events`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`event answered ${res.status}`);
      acks.push(performance.now() - t0);
      let denied = false;
      while (!denied && performance.now() - t0 < GIVE_UP_MS) {
        denied = !(await onB.isMember(WS, channel, 'UREVMEM1'));
        if (!denied) await new Promise((r) => setImmediate(r));
      }
      if (denied) samples.push(performance.now() - t0);
      else missed++;
    }
  } finally {
    await a.stop();
    await b.stop();
    await api.stop();
  }
  const s = summarize(samples);
  const ack = summarize(acks);
  print(
    `revocation (${label}): event on A → first denial on B p50 ${fmt(s.p50)}, p99 ${fmt(s.p99)}, mean ${fmt(s.mean)} over ${s.n} trials` +
      ` (${missed} missed after ${GIVE_UP_MS} ms); A's ack p50 ${fmt(ack.p50)}, p99 ${fmt(ack.p99)}; target p99 <= 1000 ms: ${s.p99 <= 1000 && missed === 0 ? 'met' : 'NOT met'}`,
  );
}

export async function run(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    print('revocation: skipped (set DATABASE_URL: two instances need PostgreSQL; PGlite is one process)');
    return;
  }
  const db = await freshPostgres(base, `quorum_bench_revocation_${process.pid}`);
  try {
    // Migrations run once before the two instances race for them.
    const api = await new FakeSlackApi().start();
    await (await instance(db.url, api, undefined)).stop();
    await api.stop();
    await trials('PostgreSQL LISTEN/NOTIFY', db.url, undefined);
    if (process.env.REDIS_URL) await trials('Redis pub/sub', db.url, process.env.REDIS_URL);
  } finally {
    await db.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
