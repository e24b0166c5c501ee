import { describe, expect, it } from 'vitest';
import { usage } from '../src/db/schema.js';
import { postJson, useTestApp } from './support/app.js';
import { drivers } from './support/db.js';
import { waitFor } from './support/wait.js';

/** Parses the Prometheus text format strictly enough to catch a malformed exposition. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`bad exposition line: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

describe.each(drivers)('GET /metrics (%s)', (driver) => {
  const t = useTestApp(driver);

  it('parses and carries the named series after a turn and a denial', async () => {
    await postJson(`${t.app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'count me' });
    // Dev is not in #engineering: a denial.
    await postJson(`${t.app.baseUrl}/console/api/messages`, { user: 'dev', channel: 'engineering', text: 'let me in' });
    // The reply is posted just before its inbox row is marked done: scrape until the row is.
    const samples = await waitFor(
      async () => {
        const res = await fetch(`${t.app.baseUrl}/metrics`);
        expect(res.status).toBe(200);
        const parsed = parseExposition(await res.text());
        return parsed.get('quorum_inbox_depth') === 0 ? parsed : null;
      },
      { timeoutMs: 10_000, everyMs: 300 },
    );
    expect(samples.get('quorum_intake_total{platform="console",outcome="accepted"}')).toBe(2);
    expect(samples.get('quorum_turn_duration_seconds_count{platform="console",outcome="ok"}')).toBe(2);
    expect(samples.get('quorum_model_calls_total{model="quorum-offline-1",outcome="answer"}')).toBe(1);
    expect(samples.get('quorum_denials_total{reason="not_a_member"}')).toBe(1);
    expect(samples.get('quorum_inbox_depth')).toBe(0);
    expect(samples.has('quorum_inbox_oldest_pending_age_seconds')).toBe(true);
    expect(samples.has('quorum_limiter_queue_length')).toBe(true);
    expect([...samples.keys()].some((k) => k.startsWith('quorum_process_resident_memory_bytes'))).toBe(true);
    // No user ids in label values, and no workspace ids unless the operator allows them.
    expect([...samples.keys()].join('\n')).not.toMatch(/cleo|dev"|workspace=/);
    expect(samples.get('quorum_model_tokens_total{model="quorum-offline-1",direction="input"}')).toBeGreaterThan(0);
    expect(samples.has('quorum_model_cost_usd_total{model="quorum-offline-1"}')).toBe(true);
  });
});

describe.each(drivers)('GET /metrics with METRICS_WORKSPACE_LABELS (%s)', (driver) => {
  const t = useTestApp(driver, () => ({ env: { METRICS_WORKSPACE_LABELS: 'true', MODEL_PRICES: JSON.stringify({ 'quorum-offline-1': { input: 1, output: 3 } }) } }));

  it('counts tokens and cost by model and workspace, matching the usage ledger', async () => {
    const res = await postJson(`${t.app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: 'count my cost' });
    expect(res.body.reply).toMatchObject({ kind: 'answer' });
    const [row] = await t.db.db.select().from(usage);
    const samples = parseExposition(await (await fetch(`${t.app.baseUrl}/metrics`)).text());
    const ws = `workspace="${row!.workspaceId}"`;
    expect(samples.get(`quorum_model_tokens_total{model="quorum-offline-1",direction="input",${ws}}`)).toBe(row!.inputTokens);
    expect(samples.get(`quorum_model_tokens_total{model="quorum-offline-1",direction="output",${ws}}`)).toBe(row!.outputTokens);
    expect(samples.get(`quorum_model_cost_usd_total{model="quorum-offline-1",${ws}}`)).toBeCloseTo(row!.costMicroUsd / 1e6, 9);
    expect(row!.costMicroUsd).toBe(row!.inputTokens + 3 * row!.outputTokens);
  });
});
