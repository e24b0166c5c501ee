/**
 * `npm run usage -- --since 30d --format csv|json|table`: calls, tokens and cost of every
 * workspace, per model, from the usage ledger of the configured database (DATABASE_URL, or the
 * embedded one in DATA_DIR), as the service reads it. `--since` takes Nd (the last N UTC days,
 * today included), `month` (this calendar month) or a date (YYYY-MM-DD).
 */
import { parseArgs } from 'node:util';
import { formatUsd } from '../src/core/budgets.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { usageOfAllWorkspaces, type AllWorkspacesRow } from '../src/db/usage-report.js';

const USAGE = 'Usage: npm run usage -- [--since 30d|month|YYYY-MM-DD] [--format table|csv|json]';

function sinceDay(since: string, now: Date): string | null {
  const today = now.toISOString().slice(0, 10);
  if (since === 'month') return `${today.slice(0, 7)}-01`;
  const days = /^(\d{1,5})d$/.exec(since);
  if (days) return new Date(now.getTime() - (Number(days[1]) - 1) * 86_400_000).toISOString().slice(0, 10);
  if (/^\d{4}-\d{2}-\d{2}$/.test(since) && !Number.isNaN(Date.parse(`${since}T00:00:00Z`))) return since;
  return null;
}

const COLUMNS = ['platform', 'workspace', 'model', 'calls', 'input_tokens', 'output_tokens', 'cost_usd'] as const;

function cells(r: AllWorkspacesRow): string[] {
  return [r.platform, r.workspace, r.key, String(r.calls), String(r.inputTokens), String(r.outputTokens), (r.costMicroUsd / 1_000_000).toFixed(6)];
}

/** CSV with quoting where a value needs it (a workspace id or model name is the operator's, not ours). */
function csv(rows: AllWorkspacesRow[]): string {
  const quote = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return [COLUMNS.join(','), ...rows.map((r) => cells(r).map(quote).join(','))].join('\n');
}

function table(rows: AllWorkspacesRow[], from: string, to: string): string {
  const total = rows.reduce((t, r) => ({ calls: t.calls + r.calls, i: t.i + r.inputTokens, o: t.o + r.outputTokens, c: t.c + r.costMicroUsd }), { calls: 0, i: 0, o: 0, c: 0 });
  const body = [...rows.map((r) => [r.platform, r.workspace, r.key, String(r.calls), String(r.inputTokens), String(r.outputTokens), formatUsd(r.costMicroUsd)]), ['total', '', '', String(total.calls), String(total.i), String(total.o), formatUsd(total.c)]];
  const header = ['platform', 'workspace', 'model', 'calls', 'input tokens', 'output tokens', 'cost'];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [`Usage from ${from} to ${to} (UTC)`, line(header), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  let values: { since?: string | undefined; format?: string | undefined };
  try {
    ({ values } = parseArgs({ options: { since: { type: 'string', default: '30d' }, format: { type: 'string', default: 'table' } } }));
  } catch {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const now = new Date();
  const from = sinceDay(values.since ?? '30d', now);
  const format = values.format ?? 'table';
  if (!from || !['table', 'csv', 'json'].includes(format)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const to = now.toISOString().slice(0, 10);
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 1 });
  try {
    const rows = await usageOfAllWorkspaces(database.db, from, to);
    const out = format === 'csv' ? csv(rows) : format === 'json' ? JSON.stringify({ from, to, rows }, null, 2) : table(rows, from, to);
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`usage failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
