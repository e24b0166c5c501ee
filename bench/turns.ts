/**
 * Turn pipeline overhead with the offline model: intake → inbox → worker → core → reply, at
 * 1, 10 and 50 concurrent users, on PGlite and (with DATABASE_URL) PostgreSQL.
 * Target on PostgreSQL: p99 overhead ≤ 10 ms at 50 concurrent users.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '../src/config.js';
import type { EnvelopeInput } from '../src/core/envelope.js';
import type { PlatformPorts } from '../src/core/ports.js';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { fmt, summarize } from './_stats.js';

const TURNS_PER_USER = 40;

async function measure(databaseUrl: string | undefined, label: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quorum-bench-'));
  const waiting = new Map<string, () => void>();
  const ports: PlatformPorts = {
    membership: { isMember: async () => true },
    directory: { lookup: async () => ({ platformRole: 'member', deleted: false }) },
    replies: {
      post: async (target) => {
        waiting.get(target.idempotencyKey)?.();
        return { platformMessageId: target.idempotencyKey };
      },
    },
  };
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    WORKER_CONCURRENCY: '50',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const app = await startQuorum(config, { log: createLogger('silent'), platforms: { slack: ports } });
  try {
    for (const users of [1, 10, 50]) {
      const latencies: number[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: users }, async (_, u) => {
          for (let i = 0; i < TURNS_PER_USER; i++) {
            const key = `${label}-${users}-${u}-${i}-${Math.random().toString(36).slice(2)}`;
            const envelope: EnvelopeInput = {
              kind: 'direct',
              idempotencyKey: key,
              workspace: { platform: 'slack', externalId: `T-BENCH-${u % 5}` },
              user: { id: `U${u}` },
              channel: { id: `D${u}`, kind: 'dm' },
              messageId: key,
              text: `question ${i} from user ${u}`,
              receivedAt: new Date(),
            };
            const t0 = performance.now();
            const replied = new Promise<void>((resolve) => waiting.set(key, resolve));
            await app.intake.submit(envelope);
            await replied;
            waiting.delete(key);
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const s = summarize(latencies);
      console.log(
        `${label.padEnd(8)} users=${String(users).padStart(2)}  turns=${s.n}  ${(s.n / seconds).toFixed(0).padStart(5)} turns/s  p50 ${fmt(s.p50)}  p99 ${fmt(s.p99)}`,
      );
    }
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function freshPostgres(base: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `quorum_bench_${process.pid}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

export async function run(): Promise<void> {
  console.log(`turn pipeline, offline model, ${TURNS_PER_USER} sequential turns per user (latency = submit → reply posted)`);
  await measure(undefined, 'pglite');
  if (process.env.DATABASE_URL) {
    const pg = await freshPostgres(process.env.DATABASE_URL);
    try {
      await measure(pg.url, 'postgres');
    } finally {
      await pg.drop();
    }
  } else {
    console.log('postgres: skipped (set DATABASE_URL)');
  }
}
