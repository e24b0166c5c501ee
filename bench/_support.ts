/** Shared by the benchmarks: statistics, fake platform ports that signal replies, throwaway databases. */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import postgres from 'postgres';
import { loadConfig, type Config } from '../src/config.js';
import type { PlatformPorts, ReplySink } from '../src/core/ports.js';

/**
 * Prints a benchmark's figures. Not console.log: while Quorum runs in this process, console.*
 * goes through its logger (src/console-capture.ts), which a benchmark keeps silent.
 */
export function print(...args: unknown[]): void {
  process.stdout.write(`${format(...args)}\n`);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samples: number[]): { n: number; p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

export const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

/**
 * The config of a Quorum a benchmark starts in its own process: loopback, an ephemeral port,
 * silent logs and a data folder of its own (`config.DATA_DIR`), plus what the benchmark sets.
 */
export function benchConfig(name: string, env: Record<string, string> = {}): Config {
  const dataDir = mkdtempSync(join(tmpdir(), `quorum-bench-${name}-`));
  return loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...env });
}

/** An Events API request as Slack sends it: the body, signed with `secret` at the current second. */
export function signedSlackRequest(body: string, secret: string): { body: string; headers: Record<string, string> } {
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { body, headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature } };
}

/**
 * The services a benchmark may use, from the environment only: PostgreSQL at DATABASE_URL, Redis at
 * REDIS_URL. Never a guessed local default: without them the figures are PGlite's and local limits',
 * and what needed them is said (`skipped`).
 */
export const benchServices = { postgres: process.env.DATABASE_URL ?? null, redis: process.env.REDIS_URL ?? null };

const skips: string[] = [];

/** Says now, and again at the end of `npm run bench`, what a benchmark did not run and why. */
export function skipped(what: string, why: string): void {
  const line = `${what}: skipped (${why})`;
  skips.push(line);
  print(line);
}

export function skippedSoFar(): readonly string[] {
  return skips;
}


/**
 * Platform ports where everyone is a member, and a way to wait for the reply to one delivery.
 * With `stream`, answers stream (openStream) and `firstText` tells when a delivery's first text showed.
 */
export function replyWaiter(options: { stream?: boolean } = {}): {
  ports: PlatformPorts;
  replied(idempotencyKey: string): Promise<void>;
  firstText(idempotencyKey: string): number | undefined;
} {
  const waiting = new Map<string, () => void>();
  const first = new Map<string, number>();
  const done = (key: string) => {
    waiting.get(key)?.();
    waiting.delete(key);
    return { platformMessageId: key };
  };
  const replies: ReplySink = {
    post: async (target) => done(target.idempotencyKey),
    progress: async () => {},
  };
  if (options.stream) {
    replies.openStream = (target) => ({
      append: () => void (first.has(target.idempotencyKey) || first.set(target.idempotencyKey, performance.now())),
      finish: async () => done(target.idempotencyKey),
      abort: async () => {},
    });
  }
  return {
    ports: {
      membership: { isMember: async () => true },
      directory: { lookup: async () => ({ platformRole: 'member', deleted: false }) },
      replies,
    },
    replied: (key) => new Promise<void>((resolve) => waiting.set(key, resolve)),
    firstText: (key) => first.get(key),
  };
}

/** A new, empty PostgreSQL database next to DATABASE_URL's, and a way to drop it. */
export async function freshPostgres(base: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
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
