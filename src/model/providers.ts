/** Builds the configured language models through the AI SDK. */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Config } from '../config.js';
import { createOfflineModel, OFFLINE_MODEL_ID } from './offline.js';

export type ModelSettings = Pick<
  Config,
  'MODEL_PROVIDER' | 'MODEL_BASE_URL' | 'MODEL_API_KEY' | 'MODEL_NAME' | 'MODEL_SMALL_NAME' | 'MODEL_FALLBACK_NAME'
>;

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
  switch (settings.MODEL_PROVIDER) {
    case 'offline':
      return (modelId) => createOfflineModel(modelId);
    case 'openai': {
      const provider = createOpenAICompatible({
        name: 'openai',
        baseURL: settings.MODEL_BASE_URL ?? 'https://api.openai.com/v1',
        ...(settings.MODEL_API_KEY ? { apiKey: settings.MODEL_API_KEY } : {}),
        includeUsage: true,
      });
      return (modelId) => provider.chatModel(modelId);
    }
    case 'anthropic': {
      const provider = createAnthropic({
        ...(settings.MODEL_API_KEY ? { apiKey: settings.MODEL_API_KEY } : {}),
        ...(settings.MODEL_BASE_URL ? { baseURL: settings.MODEL_BASE_URL } : {}),
      });
      return (modelId) => provider.languageModel(modelId);
    }
  }
}
