/**
 * Which model answers a turn and which serves its cheap steps: the channel's choice, else the
 * workspace's, else the operator's default; a name the operator no longer lists falls back too.
 */
import type { ModelCatalog, ModelChoiceInfo, Profile } from './ports.js';

export interface TurnModels {
  answer: ModelChoiceInfo;
  small: ModelChoiceInfo;
}

export function choiceNamed(catalog: ModelCatalog, name: string | null | undefined): ModelChoiceInfo | undefined {
  return name ? catalog.choices.find((c) => c.name === name) : undefined;
}

function defaultChoice(catalog: ModelCatalog, tier: 'answer' | 'small'): ModelChoiceInfo {
  const found = choiceNamed(catalog, catalog.defaults[tier]) ?? catalog.choices[0];
  if (!found) throw new Error('the model catalog is empty');
  return found;
}

export function turnModels(catalog: ModelCatalog, profile: Profile | null): TurnModels {
  const answer = choiceNamed(catalog, profile?.channel.model) ?? choiceNamed(catalog, profile?.workspace.model) ?? defaultChoice(catalog, 'answer');
  const small = choiceNamed(catalog, profile?.workspace.cheapModel) ?? defaultChoice(catalog, 'small');
  return { answer, small };
}

/** Whether images may be passed to the model that answers (the files feature asks before it does). */
export function modelAcceptsImages(models: TurnModels): boolean {
  return models.answer.images;
}
