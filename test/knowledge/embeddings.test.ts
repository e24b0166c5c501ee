/**
 * EMBEDDING_MODEL: the embedder speaks the OpenAI-compatible /embeddings through the AI SDK (the
 * fake provider server), and where the database has no pgvector (PGlite here, PostgreSQL without
 * the extension) Quorum says so once at start-up and searches by full text alone.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createEmbedder } from '../../src/model/embedding.js';
import { FAKE_EMBEDDING_DIMENSIONS, FakeOpenAIServer } from '../fakes/openai-server.js';
import { ScriptedAgentGate, answer } from '../fakes/scripted-agent-model.js';
import { drivers } from '../support/db.js';
import { useSetup } from '../support/setup.js';
import { useSlackApp } from '../slack/support.js';
import { BOT, chunks, MEMBER, messageEvent, OWNER, post } from './support.js';

describe('the embedder', () => {
  const ctx = useSetup(async (cleanup) => {
    const provider = await new FakeOpenAIServer().start();
    cleanup(() => provider.stop());
    return { provider };
  });

  it('embeds texts through the OpenAI-compatible /embeddings, in order', async () => {
    const embedder = createEmbedder(loadConfig({ MODEL_PROVIDER: 'openai', MODEL_BASE_URL: ctx.provider.baseUrl, MODEL_API_KEY: 'sk-test', EMBEDDING_MODEL: 'fake-embed' }))!;
    const [a, b, c] = await embedder.embed(['retry uploads', 'vendor rollback', 'retry uploads'], 'index');
    expect(a).toHaveLength(FAKE_EMBEDDING_DIMENSIONS);
    expect(a).toEqual(c);
    expect(a).not.toEqual(b);
    expect(ctx.provider.embeddings).toEqual([{ model: 'fake-embed', input: ['retry uploads', 'vendor rollback', 'retry uploads'] }]);
  });

  it('is off without EMBEDDING_MODEL, and with a provider that has no embeddings', () => {
    expect(createEmbedder(loadConfig({ MODEL_PROVIDER: 'openai', MODEL_BASE_URL: ctx.provider.baseUrl }))).toBeNull();
    expect(createEmbedder(loadConfig({ MODEL_PROVIDER: 'anthropic', MODEL_API_KEY: 'sk-test', EMBEDDING_MODEL: 'x' }))).toBeNull();
  });
});

describe.each(drivers)('knowledge without pgvector (%s)', (driver) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const gate = new ScriptedAgentGate(() => answer('ok'));
  const ctx = useSlackApp(
    driver,
    () => ({
      model: gate,
      log: createLogger('info', sink),
      env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', MODEL_PROVIDER: 'openai', MODEL_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'fake-embed' },
    }),
    (api) => api.rosters.set('C0KNEMB001', [MEMBER, OWNER, BOT]),
  );

  // Without pgvector the embedding model is never asked (its URL here answers nothing).
  it('logs one line at start-up and keeps indexing (full text only)', async () => {
    expect(lines.filter((l) => l.includes('"knowledge.no_pgvector"'))).toHaveLength(1);
    await post(ctx.app, messageEvent('C0KNEMB001', OWNER, '1767253000.000100', 'embedding-canary: stored without a vector'));
    expect((await chunks(ctx.db)).map((c) => c.content)).toContain('embedding-canary: stored without a vector');
  });
});
