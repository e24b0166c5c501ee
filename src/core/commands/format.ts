/** Compact text for command answers (monospace in Slack and Teams). */
import type { AuditEntry, ChannelKnowledge, FeedbackSummary, WorkspaceSettings } from '../ports.js';
import { budgetAmount, budgetsOf } from '../budgets.js';

/** The service's limits for a workspace that set none of its own (WORKSPACE_RPM and friends). */
export interface LimitDefaults {
  rpm: number;
  concurrency: number;
  /** null: no daily budget unless the workspace sets one. */
  dailyTokens: number | null;
}

/**
 * The limits in force: the workspace's own where it set them, else the service's, marked as such.
 * Without the defaults (a core used outside the service) only the workspace's own are known.
 */
export function limitsLine(settings: Partial<WorkspaceSettings> & Pick<WorkspaceSettings, 'rpm' | 'concurrency' | 'dailyTokens'>, defaults: LimitDefaults | undefined): string {
  const shown = (own: number | null, fallback: number | null | undefined, unit: string) => {
    if (own !== null) return `${own} ${unit}`;
    if (fallback === undefined) return `default ${unit}`;
    return fallback === null ? null : `${fallback} ${unit} (default)`;
  };
  const budget = shown(settings.dailyTokens, defaults ? defaults.dailyTokens : undefined, 'tokens/day');
  // The other budgets and the tpm limit are shown only where set (they have no service default).
  const others = budgetsOf({ ...settings, dailyTokens: null }).map((b) => `${b.subject === 'user' ? 'per user ' : ''}budget ${budgetAmount(b)}`);
  return [
    shown(settings.rpm, defaults?.rpm, 'requests/min'),
    shown(settings.concurrency, defaults?.concurrency, 'at once'),
    ...(settings.tpm ? [`${settings.tpm} tokens/min`] : []),
    budget === null ? 'no daily token budget' : `budget ${budget}`,
    ...others,
  ].join(', ');
}

/**
 * The last audit entries as a fixed-width table, newest first. Details stay short; content shows
 * only where it was kept (a workspace that opted in, channels only), cut to one short line.
 */
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
  else if (typeof d.tool === 'string') parts.push(d.tool);
  if (typeof d.reason === 'string') parts.push(d.reason);
  if (e.action === 'erasure' && typeof d.messages === 'number') parts.push(`${d.messages} messages`);
  if (e.model) parts.push(`${e.model} ${e.inputTokens ?? 0}+${e.outputTokens ?? 0} tok`);
  if (e.latencyMs !== null) parts.push(`${e.latencyMs} ms`);
  const summary = parts.join(', ').slice(0, 80);
  return e.content === null ? summary : [summary, snippet(e.content)].filter(Boolean).join(', ');
}

const SNIPPET_CHARS = 40;

/** One line, quoted, cut short; a backtick would end the table's code block. */
function snippet(content: string): string {
  // By code point, so that an emoji is never cut in half.
  const chars = [...content.replace(/\s+/g, ' ').replaceAll('`', "'").trim()];
  return `"${chars.length > SNIPPET_CHARS ? `${chars.slice(0, SNIPPET_CHARS - 1).join('')}…` : chars.join('')}"`;
}

/** `/agent feedback`: the totals, each day with feedback, and the latest reasons (quoted, one line each). */
export function feedbackSummary(summary: FeedbackSummary, days: number): string {
  if (summary.up + summary.down === 0) return `No feedback on answers in the last ${days} days.`;
  const lines = [`Feedback on answers, last ${days} days: 👍 ${summary.up} · 👎 ${summary.down}`];
  for (const d of summary.days) lines.push(`• ${d.day}: 👍 ${d.up} · 👎 ${d.down}`);
  if (summary.reasons.length) {
    lines.push('Latest reasons for 👎:');
    for (const r of summary.reasons) lines.push(`> ${r.reason.replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  return lines.join('\n');
}

const BACKFILL_LABEL: Record<ChannelKnowledge['backfill'], string> = {
  none: 'live only',
  pending: 'backfill queued',
  running: 'backfill running',
  done: 'backfill done',
  failed: 'backfill failed',
};

/** `/agent knowledge`: one line per channel (ids, states and counts; never content). */
export function knowledgeTable(rows: ChannelKnowledge[]): string {
  if (rows.length === 0) return 'Nothing is indexed yet. Quorum indexes the channels it is added to.';
  const lines = rows.map((r) => {
    const state = !r.enabled ? 'off' : r.archived ? 'archived' : 'on';
    const backfill = r.enabled ? ` · ${BACKFILL_LABEL[r.backfill]} (${r.pages} pages, ${r.messages} messages)` : '';
    const failed = r.enabled && r.backfill === 'failed' && r.lastError ? ` · last error: ${r.lastError.slice(0, 80)}` : '';
    const f = r.files;
    const files = f.indexed + f.skipped + f.pending > 0 ? ` · files: ${f.indexed} read, ${f.skipped} skipped, ${f.pending} waiting` : '';
    // Why files were skipped (the latest), each name code-quoted so that a name stays text.
    const reasons = f.skippedReasons.map((s) => `\n    skipped \`${s.name.replace(/[`\n\r]/g, "'").slice(0, 80)}\`: ${s.reason.slice(0, 120)}`).join('');
    return `• #${r.channelExternalId}: ${state} · ${r.chunks} entries${backfill}${failed}${files}${reasons}`;
  });
  return ['Knowledge per channel (/agent knowledge #channel on|off):', ...lines].join('\n');
}
