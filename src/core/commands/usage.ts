/**
 * `/agent usage`: calls, tokens and cost from the usage ledger over a window of UTC days, one
 * row per user, model or channel, with a total. Admins see the workspace; `me` shows one's own.
 */
import { formatUsd } from '../budgets.js';
import type { AdminStore, UsageQuery, UsageRow } from '../ports.js';
import type { Scope } from '../identity.js';
import type { Command } from './grammar.js';

type UsageCommand = Extract<Command, { name: 'usage' }>;

const DAY_MS = 86_400_000;

/** The first and last UTC day (inclusive) of a window ending today. */
export function usageWindow(window: UsageCommand['window'], now: Date): { from: string; to: string } {
  const to = now.toISOString().slice(0, 10);
  const daysBack = (n: number) => new Date(now.getTime() - n * DAY_MS).toISOString().slice(0, 10);
  switch (window) {
    case 'today':
      return { from: to, to };
    case '7d':
      return { from: daysBack(6), to };
    case '30d':
      return { from: daysBack(29), to };
    case 'month':
      return { from: `${to.slice(0, 7)}-01`, to };
  }
}

const WINDOW_LABEL: Record<UsageCommand['window'], string> = { today: 'today', '7d': 'the last 7 days', '30d': 'the last 30 days', month: 'this month' };

export async function usageAnswer(admin: AdminStore, scope: Scope, principalId: string, command: UsageCommand, now = new Date()): Promise<string> {
  const { from, to } = usageWindow(command.window, now);
  const query: UsageQuery = { from, to, by: command.by, ...(command.me ? { principalId } : {}) };
  const rows = await admin.usage(scope, query);
  const whose = command.me ? 'Your usage' : 'Usage of this workspace';
  const heading = `${whose} ${WINDOW_LABEL[command.window]} (${from === to ? from : `${from} to ${to}`}, UTC)`;
  if (rows.length === 0) return `${heading}: no model calls.`;
  return [`${heading}:`, usageTable(rows, command.by)].join('\n');
}

/** Rows and their total as a fixed-width table (monospace in Slack and Teams). */
export function usageTable(rows: UsageRow[], by: UsageQuery['by']): string {
  const total = rows.reduce(
    (t, r) => ({ key: 'total', calls: t.calls + r.calls, inputTokens: t.inputTokens + r.inputTokens, outputTokens: t.outputTokens + r.outputTokens, costMicroUsd: t.costMicroUsd + r.costMicroUsd }),
    { key: 'total', calls: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 },
  );
  const n = (v: number) => v.toLocaleString('en-US');
  const cells = (r: UsageRow) => [r.key === '' && by === 'channel' ? '(unknown)' : r.key, n(r.calls), n(r.inputTokens), n(r.outputTokens), formatUsd(r.costMicroUsd)];
  const header = [by ?? '', 'calls', 'input tokens', 'output tokens', 'cost'];
  const body = by === null ? [cells(total)] : [...rows.map(cells), cells(total)];
  const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...body.map((r) => r[i]!.length))));
  // Names left, numbers right; a backtick in a name would end the code block.
  const line = (row: string[]) =>
    row
      .map((c, i) => (i === 0 ? c.replaceAll('`', "'").slice(0, widths[0]).padEnd(widths[0]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return ['```', line(header), ...body.map(line), '```'].join('\n');
}
