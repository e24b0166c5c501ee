/** Builds the configured language models through the AI SDK. */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { fallbackEndpoint, mainEndpoint, sameEndpoint, type Config, type ModelEndpoint } from '../config.js';
import type { ModelSource } from './gate.js';
import { createOfflineModel, OFFLINE_MODEL_ID } from './offline.js';

export type ModelSettings = Pick<Config, 'MODEL_PROVIDER' | 'MODEL_BASE_URL' | 'MODEL_API_KEY' | 'MODEL_NAME' | 'MODEL_SMALL_NAME'> &
  Partial<Pick<Config, 'MODEL_FALLBACK_NAME' | 'MODEL_FALLBACK_PROVIDER' | 'MODEL_FALLBACK_BASE_URL' | 'MODEL_FALLBACK_API_KEY'>>;

const defaultModel: Record<Config['MODEL_PROVIDER'], string> = {
  offline: OFFLINE_MODEL_ID,
  openai: 'gpt-4o-mini',
  anthropic: 'claude-sonnet-4-5',
};

export function modelNameFor(settings: ModelSettings, tier: 'answer' | 'small' | 'fallback' = 'answer'): string {
  const main = settings.MODEL_NAME ?? defaultModel[settings.MODEL_PROVIDER];
  if (tier === 'small') return settings.MODEL_SMALL_NAME ?? main;
  if (tier === 'fallback') return settings.MODEL_FALLBACK_NAME ?? main;
  return main;
}

/** A factory so that the gate can ask for the main, small or fallback model by name. */
export function createModelFactory(settings: ModelSettings): (modelId: string) => LanguageModelV3 {
  return factoryFor(mainEndpoint(settings));
}

/**
 * The fallback model's own provider (MODEL_FALLBACK_PROVIDER, _BASE_URL, _API_KEY), or null when
 * there is no fallback or it lives on the main model's endpoint (then it shares the main's source).
 */
export function fallbackSourceFor(settings: ModelSettings): ModelSource | null {
  const endpoint = fallbackEndpoint(settings);
  if (!endpoint || sameEndpoint(endpoint, mainEndpoint(settings))) return null;
  return { provider: endpoint.provider, model: factoryFor(endpoint) };
}

function factoryFor(endpoint: ModelEndpoint): (modelId: string) => LanguageModelV3 {
  switch (endpoint.provider) {
    case 'offline':
      return (modelId) => createOfflineModel(modelId);
    case 'openai': {
      const provider = createOpenAICompatible({
        name: 'openai',
        baseURL: endpoint.baseUrl ?? 'https://api.openai.com/v1',
        ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
        includeUsage: true,
      });
      return (modelId) => provider.chatModel(modelId);
    }
    case 'anthropic': {
      const provider = createAnthropic({
        ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
        ...(endpoint.baseUrl ? { baseURL: endpoint.baseUrl } : {}),
      });
      return (modelId) => provider.languageModel(modelId);
    }
  }
}
