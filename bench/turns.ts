/**
 * Turn pipeline overhead with the offline model: intake → inbox → worker → core → reply, at
 * 1, 10 and 50 concurrent users, on PGlite and (with DATABASE_URL) PostgreSQL.
 * Target on PostgreSQL: p99 overhead ≤ 10 ms at 50 concurrent users.
 */
import { rmSync } from 'node:fs';
import type { EnvelopeInput } from '../src/core/envelope.js';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { benchConfig, fmt, freshPostgres, print, replyWaiter, skipped, summarize } from './_support.js';

const TURNS_PER_USER = 40;

async function measure(databaseUrl: string | undefined, label: string): Promise<void> {
  const { ports, replied: repliedTo } = replyWaiter();
  const config = benchConfig('turns', {
    WORKER_CONCURRENCY: '50',
    // Measure the pipeline, not the workspace limiter (calls are spaced 60 s / rpm apart).
    WORKSPACE_RPM: '1000000',
    WORKSPACE_CONCURRENCY: '64',
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
            const replied = repliedTo(key);
            await app.intake.submit(envelope);
            await replied;
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const s = summarize(latencies);
      print(
        `${label.padEnd(8)} users=${String(users).padStart(2)}  turns=${s.n}  ${(s.n / seconds).toFixed(0).padStart(5)} turns/s  p50 ${fmt(s.p50)}  p99 ${fmt(s.p99)}`,
      );
    }
  } finally {
    await app.stop();
    rmSync(config.DATA_DIR, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  print(`turn pipeline, offline model, ${TURNS_PER_USER} sequential turns per user (latency = submit → reply posted)`);
  await measure(undefined, 'pglite');
  if (process.env.DATABASE_URL) {
    const pg = await freshPostgres(process.env.DATABASE_URL, `quorum_bench_${process.pid}`);
    try {
      await measure(pg.url, 'postgres');
    } finally {
      await pg.drop();
    }
  } else {
    skipped('turns on PostgreSQL', 'set DATABASE_URL');
  }
}
