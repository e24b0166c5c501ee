/**
 * EMBEDDING_MODEL: the embedder speaks the OpenAI-compatible /embeddings through the AI SDK (the
 * fake provider server). Search with vectors, and without pgvector, is in vector.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbedder } from '../../src/model/embedding.js';
import { fakeEmbedding, FAKE_EMBEDDING_DIMENSIONS, FakeOpenAIServer } from '../fakes/openai-server.js';
import { useSetup } from '../support/setup.js';

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
    // Synonyms share a vector in the fake model (what vector.test.ts finds by meaning).
    expect(fakeEmbedding('automobile')).toEqual(fakeEmbedding('car'));
    expect(ctx.provider.embeddings).toEqual([{ model: 'fake-embed', input: ['retry uploads', 'vendor rollback', 'retry uploads'] }]);
  });

  it('is off without EMBEDDING_MODEL, and with a provider that has no embeddings', () => {
    expect(createEmbedder(loadConfig({ MODEL_PROVIDER: 'openai', MODEL_BASE_URL: ctx.provider.baseUrl }))).toBeNull();
    expect(createEmbedder(loadConfig({ MODEL_PROVIDER: 'anthropic', MODEL_API_KEY: 'sk-test', EMBEDDING_MODEL: 'x' }))).toBeNull();
  });
});
