/**
 * Sustained load through the real Slack entry point: signed DM events at a fixed rate across
 * 100 workspaces, offline model, PostgreSQL; one instance, then two. Each instance is the real
 * service in its own process (as `npm start` runs it); this process sends the events and plays
 * Slack. Prints ack p50/p99, event-to-reply p50/p99, replies vs events, each instance's RSS.
 * Targets (2-core machine): 500 events/s on one instance, ack p99 ≤ 50 ms, event-to-reply p99 ≤ 1 s.
 * LOAD_SECONDS (default 60), LOAD_RATE (default 500) and LOAD_INSTANCES (default "1,2") change the run;
 * LOAD_PROFILE=dir writes a CPU profile of each instance there; LOAD_BUILD=1 runs the compiled build;
 * LOAD_WORKERS and LOAD_POOL set WORKER_CONCURRENCY and DATABASE_POOL_SIZE (else the service's defaults);
 * LOAD_NODE_ARGS adds Node flags to each instance (e.g. "--max-semi-space-size=32"); LOAD_REDIS=1 gives
 * the instances REDIS_URL, so that they share model limits through Redis.
 */
import { readdirSync, readFileSync } from 'node:fs';
import postgres from 'postgres';
import { Agent, request } from 'undici';
import { FakeSlackApi } from '../test/fakes/slack-api.js';
import { execFileSync } from 'node:child_process';
import { COMPILED_ENTRY, repoRoot, SOURCE_ENTRY, startChild, type Child } from '../test/support/child.js';
import { answersByEvent, fleetEnv, installFleet, signedDm } from '../test/support/slack-fleet.js';
import { fmt, freshPostgres, skipped, summarize, print } from './_support.js';

const WORKSPACES = 100;

interface Instance {
  child: Child;
  port: number;
}

const rssMb = (pid: number | undefined) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

/** CPU time (user + system) a process has used, in ms: what a turn costs, whatever else runs. */
const cpuMs = (pid: number | undefined) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
};

/** CPU time of every PostgreSQL server process, in ms (the database's share of the machine). */
const postgresCpuMs = () => {
  let sum = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') sum += cpuMs(Number(pid));
    } catch {
      // The process ended while we looked.
    }
  }
  return sum;
};

/** CPU time the whole machine spent busy (all cores), in ms. */
const machineCpuMs = () => {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const idle = ticks[3]! + ticks[4]!;
  return ((ticks.reduce((a, b) => a + b, 0) - idle) * 1000) / 100;
};

/** Transactions committed in the load database so far (each statement outside a transaction is one). */
async function commits(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // The statistics collector reports with a delay; this asks for a fresh snapshot.
    const [row] = await sql`select pg_stat_clear_snapshot(), xact_commit from pg_stat_database where datname = current_database()`;
    return Number(row?.xact_commit ?? 0);
  } finally {
    await sql.end();
  }
}

async function runLoad(instances: Instance[], api: FakeSlackApi, label: string, rate: number, seconds: number, quiet = false, dbUrl?: string) {
  const dispatcher = new Agent({ connections: 64, pipelining: 1 });
  const total = rate * seconds;
  const sentAt = new Map<string, number>();
  const acks: number[] = [];
  let failures = 0;
  const started = performance.now();
  const cpuBefore = instances.map((i) => cpuMs(i.child.process.pid));
  const [postgresBefore, machineBefore, selfBefore] = [postgresCpuMs(), machineCpuMs(), process.cpuUsage()];
  const commitsBefore = dbUrl ? await commits(dbUrl) : 0;
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const { body, headers } = signedDm(n % WORKSPACES, n, label);
    const target = instances[n % instances.length]!;
    const t0 = performance.now();
    sentAt.set(`${label}-${n}`, t0);
    inFlight.push(
      request(`http://127.0.0.1:${target.port}/slack/events`, {
        method: 'POST',
        dispatcher,
        headers,
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
  let replies = new Map<string, number>();
  while (performance.now() < deadline) {
    const found = answersByEvent(api, label);
    replies = found.answers;
    const duplicates = found.duplicated;
    if (replies.size >= total - failures) {
      const lat = [...replies].map(([k, at]) => at - sentAt.get(k)!);
      const a = summarize(acks);
      const e = summarize(lat);
      const rss = instances.map((i) => `${rssMb(i.child.process.pid).toFixed(0)} MB`).join(' + ');
      const cpu = instances.reduce((sum, i, k) => sum + cpuMs(i.child.process.pid) - cpuBefore[k]!, 0);
      const self = process.cpuUsage(selfBefore);
      const perEvent = (ms: number) => (ms / total).toFixed(2);
      const shares = `instance ${perEvent(cpu)}, PostgreSQL ${perEvent(postgresCpuMs() - postgresBefore)}, load generator and fake Slack ${perEvent((self.user + self.system) / 1000)}, whole machine ${perEvent(machineCpuMs() - machineBefore)}`;
      // Statistics reach pg_stat_database up to a second late.
      const committed = dbUrl ? (await new Promise((r) => setTimeout(r, 1_000)), (await commits(dbUrl)) - commitsBefore) : Number.NaN;
      const transactions = `PostgreSQL transactions per event ${(committed / total).toFixed(2)}`;
      if (!quiet) print(
        `${label}: ${instances.length} instance(s), ${total} events at ${rate}/s (sent in ${sendSeconds.toFixed(1)} s), non-2xx/failed ${failures}\n` +
          `  ack p50 ${fmt(a.p50)} p99 ${fmt(a.p99)} | event→reply p50 ${fmt(e.p50)} p99 ${fmt(e.p99)} | replies ${replies.size}/${total}, duplicated ${duplicates} | instance RSS ${rss} \n  CPU ms per event: ${shares} | ${transactions}`,
      );
      await dispatcher.close();
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  print(`${label}: only ${replies.size}/${total} replies within 120 s after sending`);
  await dispatcher.close();
}

export async function run(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    skipped('load (several instances share one database, which PGlite cannot)', 'set DATABASE_URL');
    return;
  }
  const rate = Number(process.env.LOAD_RATE ?? 500);
  const seconds = Number(process.env.LOAD_SECONDS ?? 60);
  const counts = (process.env.LOAD_INSTANCES ?? '1,2').split(',').map(Number);
  // LOAD_BUILD=1: run the compiled build, as production does (npm run build && npm run start:prod).
  const compiled = process.env.LOAD_BUILD === '1';
  if (compiled) execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'pipe' });
  for (const count of counts) {
    const api = await new FakeSlackApi().start();
    const { url, drop } = await freshPostgres(base, `quorum_load_${process.pid}`);
    await installFleet(url, api, WORKSPACES);
    const instances: Instance[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const profile = process.env.LOAD_PROFILE;
        const child = startChild({
          ...fleetEnv(api),
          NODE_ENV: 'production',
          LOG_LEVEL: 'info',
          DATA_DIR: `/tmp/quorum-load-${process.pid}-${i}`,
          DATABASE_URL: url,
          WORKSPACE_RPM: '100000',
          WORKSPACE_CONCURRENCY: '32',
          ...(process.env.LOAD_POOL ? { DATABASE_POOL_SIZE: process.env.LOAD_POOL } : {}),
          // Model limits shared through Redis, as several instances run in production.
          ...(process.env.LOAD_REDIS === '1' && process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
          ...(process.env.LOAD_WORKERS ? { WORKER_CONCURRENCY: process.env.LOAD_WORKERS } : {}),
        }, [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), ...(process.env.LOAD_NODE_ARGS?.split(' ').filter(Boolean) ?? [])], compiled ? COMPILED_ENTRY : SOURCE_ENTRY);
        const ready = await child.ready();
        instances.push({ child, port: Number(new URL(ready).port) });
      }
      // Warm-up (not counted): the first turns load and compile code that steady state does not pay for.
      await runLoad(instances, api, `warmup${count}`, Math.min(rate, 50), 2, true);
      await runLoad(instances, api, `load${count}`, rate, seconds, false, url);
    } finally {
      for (const i of instances) {
        i.child.kill('SIGTERM');
        await i.child.exited;
      }
      await api.stop();
      await drop();
    }
  }
}
