/**
 * The embedding model (EMBEDDING_MODEL) on the OpenAI-compatible endpoint, through the AI SDK's
 * provider. Null when none is configured or the provider has no embeddings: knowledge search is
 * then full text alone. Its throttle is the caller's: the background embedder sends one batch at a
 * time, paced (core/knowledge/embedding.ts); a search sends one text, and waits for it briefly.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { mainEndpoint, type Config } from '../config.js';
import type { Embedder } from '../core/ports.js';

/** Texts per request (providers cap a batch; OpenAI's is 2048). */
const BATCH = 64;
/** A search waits this long at most for its query's vector (then it is full text alone): a turn is waiting. */
const QUERY_TIMEOUT_MS = 5_000;

export function createEmbedder(
  config: Pick<Config, 'EMBEDDING_MODEL' | 'MODEL_PROVIDER' | 'MODEL_BASE_URL' | 'MODEL_API_KEY' | 'MODEL_TIMEOUT_MS' | 'MODEL_RPM'>,
): Embedder | null {
  const endpoint = mainEndpoint(config);
  if (!config.EMBEDDING_MODEL || endpoint.provider !== 'openai') return null;
  const provider = createOpenAICompatible({
    name: 'openai',
    baseURL: endpoint.baseUrl ?? 'https://api.openai.com/v1',
    ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
  });
  const model = provider.embeddingModel(config.EMBEDDING_MODEL);
  return {
    // Background embedding takes at most half the provider account's request rate (MODEL_RPM); 4 a second without one.
    indexIntervalMs: config.MODEL_RPM ? Math.ceil(120_000 / config.MODEL_RPM) : 250,
    async embed(texts, use) {
      const timeoutMs = use === 'query' ? Math.min(QUERY_TIMEOUT_MS, config.MODEL_TIMEOUT_MS) : config.MODEL_TIMEOUT_MS;
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += BATCH) {
        const values = texts.slice(i, i + BATCH);
        const result = await model.doEmbed({ values, abortSignal: AbortSignal.timeout(timeoutMs) });
        if (result.embeddings.length !== values.length) throw new Error(`the embedding model answered ${result.embeddings.length} vectors for ${values.length} texts`);
        out.push(...result.embeddings);
      }
      return out;
    },
  };
}
