/**
 * `/agent model` and `/agent instructions`: show them, or change them for the workspace or one
 * channel. Names outside MODEL_CHOICES and instructions over the cap are refused and change nothing;
 * a change is audited with its old and new value by the ProfileStore.
 */
import type { ChannelRef } from '../envelope.js';
import { choiceNamed, turnModels } from '../models.js';
import type { ModelCatalog, ModelChoiceInfo, ProfileChange, ProfileStore } from '../ports.js';
import { INSTRUCTIONS_MAX_CHARS } from '../prompt.js';
import type { CoreDeps } from '../turn.js';
import type { CommandContext } from './run.js';

const UNAVAILABLE = 'Choosing models and instructions is not available in this installation.';

type ModelSet = { channel: string | null; tier: 'answer' | 'small'; choice: string | null } | null;
type InstructionsSet = { channel: string | null; text: string | null } | null;

function channelOf(ctx: CommandContext, id: string | null): ChannelRef | null {
  if (id === null) return null;
  return id === ctx.envelope.channel.id ? ctx.envelope.channel : { id, kind: 'channel' };
}

const describe = (c: ModelChoiceInfo) =>
  `${c.name} (${c.provider} ${c.modelId}; $${c.price.input}/$${c.price.output} per million tokens in/out; images ${c.images ? 'yes' : 'no'}; tools ${c.tools ? 'yes' : 'no'})`;

async function showModels(catalog: ModelCatalog, profiles: ProfileStore, ctx: CommandContext): Promise<string> {
  const profile = await profiles.profile(ctx.scope, ctx.envelope.channel.id);
  const models = turnModels(catalog, profile);
  const whose = choiceNamed(catalog, profile.channel.model) ? "this channel's choice" : choiceNamed(catalog, profile.workspace.model) ? "the workspace's choice" : 'the default';
  return [
    `Answers here: ${models.answer.name} (${whose})`,
    `Cheap steps: ${models.small.name}${choiceNamed(catalog, profile.workspace.cheapModel) ? " (the workspace's choice)" : ' (the default)'}`,
    'Models admins may choose:',
    ...catalog.choices.map((c) => `• ${describe(c)}`),
  ].join('\n');
}

export async function runModel(deps: CoreDeps, ctx: CommandContext, set: ModelSet): Promise<string> {
  const { models: catalog, profiles } = deps;
  if (!catalog || !profiles) return UNAVAILABLE;
  if (set === null) return showModels(catalog, profiles, ctx);
  if (set.choice !== null && !choiceNamed(catalog, set.choice))
    return `"${set.choice}" is not one of the models this installation allows (${catalog.choices.map((c) => c.name).join(', ')}), so nothing changed.`;
  const channel = channelOf(ctx, set.channel);
  if (channel?.kind === 'dm') return 'Name a channel: /agent model #channel NAME';
  const change: ProfileChange = { kind: 'model', channel, tier: set.tier, name: set.choice };
  const result = await profiles.apply(ctx.scope, actorOf(ctx), change);
  const label = set.tier === 'small' ? 'Model for the cheap steps' : channel ? `Model in #${channel.id}` : 'Model for this workspace';
  return `${label}: ${result.old} → ${result.new}.`;
}

export async function runInstructions(deps: CoreDeps, ctx: CommandContext, set: InstructionsSet): Promise<string> {
  const profiles = deps.profiles;
  if (!profiles) return UNAVAILABLE;
  if (set === null) {
    const profile = await profiles.profile(ctx.scope, ctx.envelope.channel.id);
    return [
      `Workspace instructions: ${profile.workspace.instructions ?? 'none'}`,
      `Instructions in this channel: ${ctx.envelope.channel.kind === 'dm' ? 'none (a direct message)' : (profile.channel.instructions ?? 'none')}`,
    ].join('\n');
  }
  if (set.text !== null && set.text.length > INSTRUCTIONS_MAX_CHARS)
    return `Instructions are at most ${INSTRUCTIONS_MAX_CHARS} characters (these are ${set.text.length}), so nothing changed.`;
  const channel = channelOf(ctx, set.channel);
  if (channel?.kind === 'dm') return 'Name a channel: /agent instructions #channel TEXT';
  const result = await profiles.apply(ctx.scope, actorOf(ctx), { kind: 'instructions', channel, text: set.text });
  const label = channel ? `Instructions in #${channel.id}` : 'Workspace instructions';
  return set.text === null ? `${label} cleared (they were: ${result.old}).` : `${label} set (${set.text.length} characters; they were: ${result.old}).`;
}

/** The model that answers in the caller's channel, for `/agent status`. */
export async function modelHere(deps: CoreDeps, ctx: CommandContext): Promise<string> {
  if (!deps.models || !deps.profiles) return deps.modelName;
  const answer = turnModels(deps.models, await deps.profiles.profile(ctx.scope, ctx.envelope.channel.id)).answer;
  return answer.name === answer.modelId ? answer.name : `${answer.name} (${answer.modelId})`;
}

function actorOf(ctx: CommandContext) {
  return { principalId: ctx.principal.id, channelExternalId: ctx.envelope.channel.id };
}
