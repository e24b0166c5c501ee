/**
 * The service with its main model on an OpenAI-compatible server that refuses connections and
 * MODEL_FALLBACK_PROVIDER=anthropic: a console message is answered by the fallback, whose usage,
 * cost, audit entry and metrics name the fallback model, and no log line carries either key.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, usage } from '../../src/db/schema.js';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { logInto } from '../support/logs.js';
import { waitFor } from '../support/wait.js';
import { FakeAnthropicServer } from '../fakes/anthropic-server.js';
import { deadPort, MAIN } from './helpers.js';

const PLANTED = {
  MODEL_API_KEY: 'sk-planted-main-key-a9e0',
  MODEL_FALLBACK_API_KEY: 'sk-ant-planted-fallback-key-31d7',
  QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
};
const CLAUDE = 'claude-haiku-4-5';
const CONTENT = 'planted-content-canary-c41e';

describe.each(drivers)('fallback to another provider through the service (%s)', (driver) => {
  const anthropic = new FakeAnthropicServer();
  const lines: string[] = [];
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    await anthropic.start();
    db = await openTestDatabase(driver);
    app = await startTestApp(db, {
      log: logInto(lines, 'debug'),
      env: {
        ...PLANTED,
        MODEL_PROVIDER: 'openai',
        MODEL_BASE_URL: `http://127.0.0.1:${await deadPort()}/v1`,
        MODEL_NAME: MAIN,
        MODEL_FALLBACK_NAME: CLAUDE,
        MODEL_FALLBACK_PROVIDER: 'anthropic',
        MODEL_FALLBACK_BASE_URL: anthropic.baseUrl,
        MODEL_PRICES: JSON.stringify({ [CLAUDE]: { input: 3, output: 15 } }),
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
    await anthropic.stop();
  });

  it('answers from the fallback; usage, cost, audit and metrics name it; no key in logs', async () => {
    anthropic.script = () => ({ kind: 'answer', text: 'answer from claude', promptTokens: 40, completionTokens: 6 });
    const res = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: `[app] ${CONTENT}` });
    expect(res.body.reply).toMatchObject({ kind: 'answer', text: 'answer from claude' });
    expect(anthropic.requests).toEqual([expect.objectContaining({ model: CLAUDE, tag: 'app', apiKey: PLANTED.MODEL_FALLBACK_API_KEY })]);

    const rows = await db.db.select().from(usage);
    expect(rows.map((r) => [r.model, r.calls, r.inputTokens, r.outputTokens, r.costMicroUsd])).toEqual([[CLAUDE, 1, 40, 6, 40 * 3 + 6 * 15]]);
    const degraded = await db.db.select().from(auditLog).where(eq(auditLog.action, 'model_call'));
    expect(degraded.map((a) => [a.outcome, a.model, a.detail])).toEqual([['ok', CLAUDE, { attempts: 4, fallback: true, provider: 'anthropic' }]]);

    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toContain(`quorum_model_calls_total{model="${CLAUDE}",outcome="answer"} 1`);
    expect(metrics).toContain(`quorum_model_tokens_total{model="${CLAUDE}",direction="input"} 40`);

    // Both providers down: the clear refusal.
    anthropic.script = () => ({ kind: 'status', status: 529 });
    const down = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: `[down] ${CONTENT}` });
    expect(down.body.reply).toMatchObject({ kind: 'error' });
    expect(down.body.reply.text).toMatch(/not reachable right now/);
    expect(anthropic.requests.filter((r) => r.tag === 'down').length).toBeGreaterThan(0);

    await waitFor(() => lines.filter((l) => l.includes('"event":"turn.done"')).length >= 2);
    const all = lines.join('\n');
    expect(all).toContain('"event":"model.fallback"');
    expect(all).toContain('"toProvider":"anthropic"');
    for (const secret of Object.values(PLANTED)) {
      expect(all).not.toContain(secret);
      expect(JSON.stringify([res.body, down.body, degraded, metrics])).not.toContain(secret);
    }
    expect(all).not.toContain(CONTENT);
  });
});
