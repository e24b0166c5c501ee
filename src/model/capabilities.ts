/**
 * What the configured answer model can take besides text. One function, so that when models
 * carry their capabilities in configuration (a list of model choices with an `images` flag) only
 * this changes: until then it is read from the provider and the model's name.
 */
import { modelNameFor, type ModelSettings } from './providers.js';

/**
 * Families known to take image input. An OpenAI-compatible endpoint can serve anything, so a
 * model is believed to see only when its name says so; an unknown one gets a note instead of the
 * picture (a model that cannot see would fail the whole request).
 */
const SEEING_MODELS = [
  /^gpt-4o/, /^gpt-4\.1/, /^gpt-4-turbo/, /^gpt-5/, /^o[134](-|$)/, /^chatgpt-4o/,
  /vision/, /^llava/, /-vl\b|vl-|qwen2\.5-vl|qwen-vl/, /^gemma-?3/, /^pixtral/, /^llama-?3\.2.*vision/, /^llama-?4/, /^gemini/, /^claude-(3|sonnet|opus|haiku)/,
];

export function modelAcceptsImages(settings: ModelSettings): boolean {
  if (settings.MODEL_PROVIDER === 'offline') return false;
  const name = modelNameFor(settings, 'answer').toLowerCase().split('/').pop() ?? '';
  // Every Claude model from 3 on sees; earlier ones are retired.
  if (settings.MODEL_PROVIDER === 'anthropic') return !/^claude-(2|instant)/.test(name);
  return SEEING_MODELS.some((pattern) => pattern.test(name));
}
