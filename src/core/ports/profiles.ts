/**
 * Models and instructions per workspace and channel: the catalog of models operators allow
 * (MODEL_CHOICES, built by src/model) and the admins' choices and instructions (src/db).
 */
import type { ChannelRef } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { ChangeActor, ChangeResult } from './admin.js';

/** One model admins may choose, as the operator listed it. */
export interface ModelChoiceInfo {
  /** What admins type (`/agent model NAME`). */
  name: string;
  /** offline | openai | anthropic. */
  provider: string;
  /** The provider's model id. */
  modelId: string;
  /** USD per million tokens. */
  price: { input: number; output: number };
  /** Whether the model takes images; the files feature passes images only when it does. */
  images: boolean;
  /** Whether the model takes tool definitions; one without gets none. */
  tools: boolean;
}

/** The models a turn may use, and the ones used where nobody chose. */
export interface ModelCatalog {
  choices: readonly ModelChoiceInfo[];
  defaults: { answer: string; small: string };
}

/** What admins set for the workspace and for one channel; null where nothing was set. */
export interface Profile {
  workspace: { model: string | null; cheapModel: string | null; instructions: string | null };
  channel: { model: string | null; instructions: string | null };
}

export type ProfileChange =
  /** `tier` 'small' is the model of the cheap steps (the workspace's only); null clears. */
  | { kind: 'model'; channel: ChannelRef | null; tier: 'answer' | 'small'; name: string | null }
  | { kind: 'instructions'; channel: ChannelRef | null; text: string | null };

/** Reads and changes profiles; a change is written with its audit entry (old and new value) in one transaction. */
export interface ProfileStore {
  profile(scope: Scope, channelExternalId: string): Promise<Profile>;
  apply(scope: Scope, actor: ChangeActor, change: ProfileChange): Promise<ChangeResult>;
}
