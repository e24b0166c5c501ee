/**
 * The models admins may choose (MODEL_CHOICES), their prices and where each lives. Without
 * MODEL_CHOICES the configured model (and the small one, if different) are the only choices,
 * priced from MODEL_PRICES, so that today's settings keep working.
 */
import { fallbackEndpoint, mainEndpoint, type Config, type ModelChoice } from '../config.js';
import type { ModelCatalog } from '../core/ports.js';
import type { PriceTable } from './gate.js';
import { seesImages } from './capabilities.js';
import { modelNameFor } from './providers.js';

type ChoiceSettings = Pick<Config, 'MODEL_PROVIDER' | 'MODEL_NAME' | 'MODEL_SMALL_NAME' | 'MODEL_PRICES'> &
  Partial<Pick<Config, 'MODEL_CHOICES' | 'MODEL_FALLBACK_NAME' | 'MODEL_FALLBACK_PROVIDER'>>;

export function modelChoicesOf(config: ChoiceSettings): ModelChoice[] {
  if (config.MODEL_CHOICES?.length) return config.MODEL_CHOICES;
  const legacy = (model: string): ModelChoice => {
    const price = config.MODEL_PRICES[model] ?? { input: 0, output: 0 };
    // Without MODEL_CHOICES nobody said whether it sees: guessed from the provider and the name.
    const images = seesImages(config.MODEL_PROVIDER, model);
    return { name: model.toLowerCase(), provider: config.MODEL_PROVIDER, model, input: price.input, output: price.output, images, tools: true };
  };
  const answer = modelNameFor(config, 'answer');
  const small = modelNameFor(config, 'small');
  return small.toLowerCase() === answer.toLowerCase() ? [legacy(answer)] : [legacy(answer), legacy(small)];
}

/** The catalog the core chooses from: the entry of MODEL_NAME (MODEL_SMALL_NAME) on MODEL_PROVIDER, else the first. */
export function modelCatalogOf(config: ChoiceSettings): ModelCatalog {
  const choices = modelChoicesOf(config);
  const named = (model: string) => choices.find((c) => c.provider === config.MODEL_PROVIDER && c.model === model)?.name;
  const answer = named(modelNameFor(config, 'answer')) ?? choices[0]!.name;
  const small = named(modelNameFor(config, 'small')) ?? answer;
  return {
    choices: choices.map((c) => ({ name: c.name, provider: c.provider, modelId: c.model, price: { input: c.input, output: c.output }, images: c.images, tools: c.tools })),
    defaults: { answer, small },
  };
}

/**
 * The one price table `costMicroUsd` (gate.ts) reads: MODEL_PRICES, with each choice's own price
 * over it (by model id, as the provider reports it).
 */
export function priceTableOf(config: ChoiceSettings): PriceTable {
  const table: PriceTable = { ...config.MODEL_PRICES };
  for (const c of config.MODEL_CHOICES ?? []) table[c.model] = { input: c.input, output: c.output };
  return table;
}

/** For the gate: a choice's name → which source serves it (config.ts checked that one does) and its model id. */
export function chooserOf(config: ChoiceSettings & Pick<Config, 'MODEL_BASE_URL' | 'MODEL_API_KEY'>) {
  const choices = new Map(modelChoicesOf(config).map((c) => [c.name, c]));
  const main = mainEndpoint(config);
  const fallback = fallbackEndpoint(config);
  return (name: string): { on: 'main' | 'fallback'; modelId: string; tools: boolean } | undefined => {
    const c = choices.get(name);
    if (!c) return undefined;
    const on = c.provider === main.provider ? 'main' : c.provider === fallback?.provider ? 'fallback' : undefined;
    return on ? { on, modelId: c.model, tools: c.tools } : undefined;
  };
}
