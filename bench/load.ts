/**
 * Sustained load through the real Slack entry point: signed DM events at a fixed rate across
 * 100 workspaces, offline model, PostgreSQL; one instance, then two. Prints ack p50/p99,
 * event-to-reply p50/p99, replies vs events, RSS at the end.
 * Targets (2-core machine): 500 events/s on one instance, ack p99 ≤ 50 ms, event-to-reply p99 ≤ 1 s.
 * LOAD_SECONDS (default 60) and LOAD_RATE (default 500) change the run.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config.js';
import { createInstallationStore } from '../src/db/installation-store.js';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { startQuorum, type RunningQuorum } from '../src/main.js';
import { createSecretBox } from '../src/secrets.js';
import { FakeSlackApi } from '../test/fakes/slack-api.js';
import { fmt, freshPostgres, summarize } from './_support.js';

const WORKSPACES = 100;
const SECRET = 'bench-signing-secret';
const KEY = Buffer.alloc(32, 9).toString('base64');

async function install(url: string, api: FakeSlackApi): Promise<void> {
  const db = await openDatabase({ databaseUrl: url, dataDir: tmpdir(), poolSize: 2 });
  const records = createInstallationStore(db.db, createSecretBox(Buffer.from(KEY, 'base64')));
  for (let w = 0; w < WORKSPACES; w++) {
    const team = `TLOAD${String(w).padStart(4, '0')}`;
    const token = `xoxb-load-${w}`;
    api.bots.set(token, { team_id: team, user_id: `UBOT${w}`, bot_id: `BBOT${w}` });
    await records.save({
      platform: 'slack',
      installKey: team,
      workspace: { platform: 'slack', externalId: team },
      secret: JSON.stringify({ team: { id: team }, bot: { token, userId: `UBOT${w}`, id: `BBOT${w}`, scopes: [] }, isEnterpriseInstall: false, appId: 'A0QRMAPP01', tokenType: 'bot' }),
      data: { teamId: team },
    });
  }
  await db.close();
}

function dmEvent(w: number, n: number, label: string) {
  const team = `TLOAD${String(w).padStart(4, '0')}`;
  const ts = `${1767259000 + n}.${String(n % 1_000_000).padStart(6, '0')}`;
  return {
    token: 'x',
    team_id: team,
    api_app_id: 'A0QRMAPP01',
    event: { type: 'message', channel_type: 'im', channel: `D${w}U${n % 20}`, user: `U${n % 20}`, text: `${label}-${n}`, ts, event_ts: ts },
    type: 'event_callback',
    event_id: `Ev${label}${n}`,
    event_time: 1767259000,
    authorizations: [{ enterprise_id: null, team_id: team, user_id: `UBOT${w}`, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

async function runLoad(instances: RunningQuorum[], api: FakeSlackApi, label: string, rate: number, seconds: number) {
  const dispatcher = new Agent({ connections: 64, pipelining: 1 });
  const total = rate * seconds;
  const sentAt = new Map<string, number>();
  const acks: number[] = [];
  let failures = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const body = JSON.stringify(dmEvent(n % WORKSPACES, n, label));
    const ts = Math.floor(Date.now() / 1000);
    const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const target = instances[n % instances.length]!;
    const t0 = performance.now();
    sentAt.set(`${label}-${n}`, t0);
    inFlight.push(
      request(`http://127.0.0.1:${target.port}/slack/events`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig },
        body,
      }).then(
        async (res) => {
          await res.body.dump();
          if (res.statusCode !== 200) failures++;
          acks.push(performance.now() - t0);
        },
        () => {
          failures++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const sendSeconds = (performance.now() - started) / 1000;
  // Wait (bounded) for every reply.
  const deadline = performance.now() + 120_000;
  const replyText = (c: { params: Record<string, string> }) => /"(.+?-\d+)"/.exec(c.params.text ?? '')?.[1];
  let replies = new Map<string, number>();
  while (performance.now() < deadline) {
    replies = new Map();
    let duplicates = 0;
    for (const c of api.calls) {
      if (c.method !== 'chat.postMessage' && c.method !== 'chat.update') continue;
      const key = replyText(c);
      if (!key || !key.startsWith(`${label}-`) || !/Offline model/.test(c.params.text ?? '')) continue;
      if (replies.has(key)) duplicates++;
      else replies.set(key, c.at);
    }
    if (replies.size >= total - failures) {
      const lat = [...replies].map(([k, at]) => at - sentAt.get(k)!);
      const a = summarize(acks);
      const e = summarize(lat);
      const rss = process.memoryUsage().rss / 1024 / 1024;
      console.log(
        `${label}: ${instances.length} instance(s), ${total} events at ${rate}/s (sent in ${sendSeconds.toFixed(1)} s), non-2xx/failed ${failures}\n` +
          `  ack p50 ${fmt(a.p50)} p99 ${fmt(a.p99)} | event→reply p50 ${fmt(e.p50)} p99 ${fmt(e.p99)} | replies ${replies.size}/${total}, duplicated ${duplicates} | RSS ${rss.toFixed(0)} MB (bench process incl. instances)`,
      );
      await dispatcher.close();
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`${label}: only ${replies.size}/${total} replies within 120 s after sending`);
  await dispatcher.close();
}

export async function run(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    console.log('load: skipped (set DATABASE_URL)');
    return;
  }
  const rate = Number(process.env.LOAD_RATE ?? 500);
  const seconds = Number(process.env.LOAD_SECONDS ?? 60);
  for (const count of [1, 2]) {
    const api = await new FakeSlackApi().start();
    const { url, drop } = await freshPostgres(base, `quorum_load_${process.pid}`);
    await install(url, api);
    const instances: RunningQuorum[] = [];
    for (let i = 0; i < count; i++) {
      const config = loadConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'quorum-load-')),
        DATABASE_URL: url,
        QUORUM_ENCRYPTION_KEY: KEY,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_CLIENT_ID: 'bench',
        SLACK_CLIENT_SECRET: 'bench-secret',
        SLACK_STATE_SECRET: 'bench-state',
        SLACK_API_URL: api.url,
        WORKER_CONCURRENCY: '32',
        WORKSPACE_RPM: '100000',
        WORKSPACE_CONCURRENCY: '32',
      });
      instances.push(await startQuorum(config, { log: createLogger('silent') }));
    }
    try {
      await runLoad(instances, api, `load${count}`, rate, seconds);
    } finally {
      for (const i of instances) await i.stop();
      await api.stop();
      await drop();
    }
  }
}
