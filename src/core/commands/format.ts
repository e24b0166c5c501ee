/** Compact text for command answers (monospace in Slack and Teams). */
import type { AuditEntry } from '../ports.js';

/** The last audit entries as a fixed-width table, newest first; details stay short and hold no content. */
export function auditTable(entries: AuditEntry[], userIds: Map<string, string>): string {
  if (entries.length === 0) return 'No audit entries match.';
  const rows = entries.map((e) => [
    String(e.seq),
    e.at.toISOString().slice(5, 16).replace('T', ' '),
    e.action,
    e.outcome,
    e.actorPrincipalId ? (userIds.get(e.actorPrincipalId) ?? '?') : '-',
    e.channelExternalId ?? '-',
    summarize(e),
  ]);
  const header = ['#', 'when (UTC)', 'action', 'outcome', 'who', 'where', 'what'];
  const widths = header.map((h, i) => Math.min(24, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return ['```', line(header), ...rows.map(line), '```'].join('\n');
}

function summarize(e: AuditEntry): string {
  const d = e.detail;
  const parts: string[] = [];
  if (typeof d.setting === 'string') parts.push(`${d.setting}: ${String(d.old)} → ${String(d.new)}`);
  else if (typeof d.command === 'string') parts.push(d.command);
  if (typeof d.reason === 'string') parts.push(d.reason);
  if (e.action === 'erasure' && typeof d.messages === 'number') parts.push(`${d.messages} messages`);
  if (e.model) parts.push(`${e.model} ${e.inputTokens ?? 0}+${e.outputTokens ?? 0} tok`);
  if (e.latencyMs !== null) parts.push(`${e.latencyMs} ms`);
  return parts.join(', ').slice(0, 80);
}
