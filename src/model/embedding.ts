/**
 * The embedding model (EMBEDDING_MODEL) on the OpenAI-compatible endpoint, through the AI SDK's
 * provider. Null when none is configured or the provider has no embeddings: knowledge search is
 * then full text alone.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { mainEndpoint, type Config } from '../config.js';
import type { Embedder } from '../core/ports.js';

/** Texts per request (providers cap a batch; OpenAI's is 2048). */
const BATCH = 64;

export function createEmbedder(config: Pick<Config, 'EMBEDDING_MODEL' | 'MODEL_PROVIDER' | 'MODEL_BASE_URL' | 'MODEL_API_KEY' | 'MODEL_TIMEOUT_MS'>): Embedder | null {
  const endpoint = mainEndpoint(config);
  if (!config.EMBEDDING_MODEL || endpoint.provider !== 'openai') return null;
  const provider = createOpenAICompatible({
    name: 'openai',
    baseURL: endpoint.baseUrl ?? 'https://api.openai.com/v1',
    ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
  });
  const model = provider.embeddingModel(config.EMBEDDING_MODEL);
  return {
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += BATCH) {
        const result = await model.doEmbed({ values: texts.slice(i, i + BATCH), abortSignal: AbortSignal.timeout(config.MODEL_TIMEOUT_MS) });
        out.push(...result.embeddings);
      }
      return out;
    },
  };
}
