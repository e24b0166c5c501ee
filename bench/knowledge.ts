/**
 * Knowledge: (1) retrieval latency with membership filtering on PostgreSQL, at 100,000 and
 * 1,000,000 chunks across 1,000 channels (the requester a member of 50 of them; target p99 <=
 * 50 ms at 1M), and the index's size per million chunks; (2) backfill throughput against the fake
 * Slack's history pages at Slack's Tier 3 limit (messages per minute, calls per minute against
 * the limit), with one 429 on the way; (3) hybrid retrieval (full text + pgvector, fused) on
 * PGlite at 20,000 chunks with 384-dimension vectors, for a member of 50 channels and of all 1,000.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- knowledge
 */
import { sql } from 'drizzle-orm';
import type { Scope } from '../src/core/identity.js';
import { openDatabase } from '../src/db/client.js';
import type { KnowledgeStore } from '../src/core/ports.js';
import { createKnowledgeStore } from '../src/db/knowledge-store.js';
import { knowledgeChannels, workspaces } from '../src/db/schema.js';
import { enableVector } from '../src/db/vector.js';
import { createLogger } from '../src/log.js';
import { startQuorum } from '../src/main.js';
import { FakeSlackApi } from '../test/fakes/slack-api.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfig, benchServices, fmt, freshPostgres, print, signedSlackRequest, skipped, summarize } from './_support.js';

const CHANNELS = 1_000;
const MEMBER_OF = 50;
const QUERIES = 300;
const VOCABULARY = 1_000;

/** Rows `from`..`to` of a synthetic workspace: ten words of a 1,000-word vocabulary each, spread over 1,000 channels. */
function fill(ws: string, from: number, to: number) {
  return sql`insert into knowledge_chunks (workspace_id, channel_external_id, channel_kind, source_kind, source_id, author_user_id, content, permalink, source_at)
    select ${ws}::uuid, 'C' || lpad((i % ${CHANNELS}::int)::text, 6, '0'), 'channel', 'message', i::text, 'U' || (i % 5000),
      'w' || (i * 7 % ${VOCABULARY}::int) || ' w' || (i * 13 % 997) || ' w' || (i * 17 % 991) || ' w' || (i * 19 % 983) || ' w' || (i * 23 % 977)
        || ' w' || (i * 29 % 971) || ' w' || (i * 31 % 967) || ' w' || (i * 37 % 953) || ' w' || (i * 41 % 947) || ' w' || (i * 43 % 941),
      'https://acme.slack.com/archives/C/p' || i, now() - (i % 10000) * interval '1 minute'
    from generate_series(${from}::int, ${to}::int) i`;
}

/** QUERIES searches of two words by a member of 50 channels (who also has DMs): p50/p99. */
async function measure(store: KnowledgeStore, scope: Scope): Promise<string> {
  const samples: number[] = [];
  let found = 0;
  for (let q = 0; q < QUERIES; q++) {
    const channels = Array.from({ length: MEMBER_OF }, (_, k) => `C${String((q * 37 + k * 19) % CHANNELS).padStart(6, '0')}`);
    const t = performance.now();
    const hits = await store.search(scope, { text: `w${(q * 11) % VOCABULARY} w${(q * 3) % 997}`, channelExternalIds: channels, dmOwnerUserId: 'U42', limit: 10 });
    samples.push(performance.now() - t);
    found += hits.length;
  }
  const s = summarize(samples);
  return `p50 ${fmt(s.p50)}, p99 ${fmt(s.p99)}, mean ${fmt(s.mean)} over ${s.n} queries (${(found / s.n).toFixed(1)} hits each)`;
}

async function retrieval(base: string): Promise<void> {
  const fresh = await freshPostgres(base, `quorum_bench_knowledge_${process.pid}`);
  const database = await openDatabase({ databaseUrl: fresh.url, dataDir: '/tmp', poolSize: 4 });
  try {
    const { db } = database;
    const [ws] = await db.insert(workspaces).values({ platform: 'slack', externalId: 'T0BENCH001' }).returning();
    const [other] = await db.insert(workspaces).values({ platform: 'slack', externalId: 'T0BENCH002' }).returning();
    const scope = { workspaceId: ws!.id, platform: 'slack' } as Scope;
    const store = createKnowledgeStore(db, { vector: false });
    let rows = 0;
    for (const target of [100_000, 1_000_000]) {
      const started = performance.now();
      // Bulk load: the full-text indexes are built once after the rows, as a restore would.
      await db.execute(sql`drop index if exists knowledge_chunks_tsv`);
      await db.execute(fill(ws!.id, rows + 1, target));
      // Another tenant's rows in the same table (never returned; they make the index bigger).
      await db.execute(fill(other!.id, rows + 1, rows + Math.floor((target - rows) / 10)));
      await db.execute(sql`create index knowledge_chunks_tsv on knowledge_chunks using gin (tsv)`);
      await db.execute(sql`vacuum analyze knowledge_chunks`);
      rows = target;
      const loadS = (performance.now() - started) / 1000;
      const figures = await measure(store, scope);
      const size = (await db.execute(sql`select pg_total_relation_size('knowledge_chunks')::bigint as bytes, (select count(*) from knowledge_chunks)::bigint as n`)) as unknown as { bytes: string; n: string }[];
      const bytes = Number(size[0]!.bytes);
      const all = Number(size[0]!.n);
      print(`retrieval @ ${target.toLocaleString('en')} chunks (${all.toLocaleString('en')} in the table, ${CHANNELS} channels, member of ${MEMBER_OF}), load ${loadS.toFixed(1)} s:`);
      print(`  ${figures}`);
      print(`  table + indexes ${(bytes / 1024 ** 2).toFixed(0)} MB = ${(((bytes / all) * 1e6) / 1024 ** 3).toFixed(2)} GB per million chunks`);
    }
  } finally {
    await database.close();
    await fresh.drop();
  }
}

const SECRET = 'bench-signing-secret';
const RPM = 50;
const MESSAGES = 2_000;

async function backfill(): Promise<void> {
  const api = await new FakeSlackApi().start();
  const channel = 'C0BENCHBF1';
  for (let i = 0; i < MESSAGES; i++) api.seed(channel, { user: `U${i % 40}`, ts: `${1767000000 + i}.000100`, text: `backfill message ${i} about retries and vendors` });
  api.rateLimits.set('conversations.history', { times: 0, retryAfter: 1 });
  const config = benchConfig('knowledge', {
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: api.url,
    QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    KNOWLEDGE_BACKFILL_RPM: String(RPM),
    KNOWLEDGE_BACKFILL_PAGE_SIZE: '200',
  });
  const running = await startQuorum(config, { log: createLogger('silent') });
  try {
    const body = JSON.stringify({
      team_id: 'T0ACME0001',
      api_app_id: 'A0QRMAPP01',
      type: 'event_callback',
      event_id: `EvKnBench${process.pid}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'T0ACME0001', user_id: 'U0ACMEBOT1', is_bot: true, is_enterprise_install: false }],
      event: { type: 'member_joined_channel', user: 'U0ACMEBOT1', channel, channel_type: 'C', team: 'T0ACME0001', event_ts: '1767250000.000100' },
    });
    const started = performance.now();
    const req = signedSlackRequest(body, SECRET);
    await fetch(`http://127.0.0.1:${running.port}/slack/events`, { method: 'POST', headers: req.headers, body: req.body });
    // One 429 (Retry-After 1 s) on the way, as a busy workspace would get.
    setTimeout(() => api.rateLimits.set('conversations.history', { times: 1, retryAfter: 1 }), 2_000).unref();
    for (let i = 0; i < 600; i++) {
      const [row] = await running.database.db.select().from(knowledgeChannels).where(sql`channel_external_id = ${channel}`);
      if (row?.backfill === 'done') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const calls = api.called('conversations.history');
    const ok = calls.filter((c) => c.response?.ok).length;
    const spanMin = (calls.at(-1)!.at - calls[0]!.at) / 60_000;
    print(
      `backfill: ${MESSAGES} messages in ${ok} pages in ${seconds.toFixed(1)} s = ${Math.round(MESSAGES / (seconds / 60)).toLocaleString('en')} messages/min; ` +
        `${calls.length} history calls (${calls.length - ok} answered 429) at ${((calls.length - 1) / spanMin).toFixed(1)} calls/min against a limit of ${RPM}/min ` +
        `(${(((calls.length - 1) / spanMin / RPM) * 100).toFixed(0)}% of it)`,
    );
  } finally {
    await running.stop();
    await api.stop();
  }
}

const VECTOR_CHUNKS = 20_000;
const DIMENSIONS = 384;

const randomVector = () => Array.from({ length: DIMENSIONS }, () => Math.random() - 0.5);

/** Hybrid searches (two words and a query vector) by a member of `memberOf` channels: p50/p99. */
async function measureHybrid(store: KnowledgeStore, scope: Scope, memberOf: number): Promise<string> {
  const samples: number[] = [];
  for (let q = 0; q < 100; q++) {
    const channels = Array.from({ length: memberOf }, (_, k) => `C${String((q * 37 + k * 19) % CHANNELS).padStart(6, '0')}`);
    const t = performance.now();
    await store.search(scope, { text: `w${(q * 11) % VOCABULARY} w${(q * 3) % 997}`, embedding: randomVector(), channelExternalIds: channels, dmOwnerUserId: 'U42', limit: 10 });
    samples.push(performance.now() - t);
  }
  const s = summarize(samples);
  return `p50 ${fmt(s.p50)}, p99 ${fmt(s.p99)}, mean ${fmt(s.mean)} over ${s.n} queries`;
}

async function vectorRetrieval(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-bench-vector-'));
  const database = await openDatabase({ dataDir: dir });
  try {
    const { db } = database;
    if (!(await enableVector(database, createLogger('silent')))) throw new Error('PGlite did not load pgvector');
    const [ws] = await db.insert(workspaces).values({ platform: 'slack', externalId: 'T0BENCHVEC' }).returning();
    const scope = { workspaceId: ws!.id, platform: 'slack' } as Scope;
    const started = performance.now();
    await db.execute(fill(ws!.id, 1, VECTOR_CHUNKS));
    // Random unit-ish vectors, one per chunk (the subquery names the row, so each gets its own).
    await db.execute(sql`update knowledge_chunks k set embedding_model = 'bench', embedding = (
      select array_agg(random() - 0.5)::vector from generate_series(1, ${DIMENSIONS}::int) d where k.id > 0)`);
    await db.execute(sql`vacuum analyze knowledge_chunks`);
    const loadS = (performance.now() - started) / 1000;
    const store = createKnowledgeStore(db, { vector: { model: 'bench' } });
    print(`hybrid retrieval on PGlite @ ${VECTOR_CHUNKS.toLocaleString('en')} chunks with ${DIMENSIONS}-dimension vectors (exact distance, no ANN index), load ${loadS.toFixed(1)} s:`);
    for (const memberOf of [MEMBER_OF, CHANNELS]) print(`  member of ${memberOf} of ${CHANNELS} channels: ${await measureHybrid(store, scope, memberOf)}`);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  await vectorRetrieval();
  if (benchServices.postgres) await retrieval(benchServices.postgres);
  else skipped('knowledge retrieval on PostgreSQL', 'set DATABASE_URL');
  await backfill();
}
