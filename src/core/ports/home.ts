/**
 * What the per-person surfaces (Slack App Home, the Teams settings card, the assistant panel)
 * read and remember beyond the turn's stores. src/db implements it; every method takes a Scope.
 */
import type { ChannelRef, WorkspaceRef } from '../envelope.js';
import type { Role, Scope } from '../identity.js';
import type { Dialog, ReplyAction } from '../interactions.js';

/** Model use summed over a period. */
export interface UsageFigures {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Millionths of a US dollar, as the usage ledger records them. */
  costMicroUsd: number;
}

/** A channel whose settings differ from the defaults (agent off, or a tool rule). */
export interface ChannelRules {
  externalId: string;
  name: string | null;
  agentEnabled: boolean;
  /** Tool name -> allowed. */
  tools: Record<string, boolean>;
}

/** One Slack assistant thread: the channel the person was looking at when they asked. */
export interface AssistantThread {
  contextChannelId: string | null;
  /** True for exactly one caller: the one that gets to set the thread's title. */
  firstQuestion: boolean;
}

export interface HomeReads {
  /** Usage from `since` (a UTC day, YYYY-MM-DD, inclusive) to today; of one principal when given. */
  usageSince(scope: Scope, since: string, principalId?: string): Promise<UsageFigures>;
  /** Channels with an admin setting (agent off or a tool rule), at most `limit`, by id. */
  channelRules(scope: Scope, limit: number): Promise<ChannelRules[]>;
}

export interface AssistantThreads {
  /** Remembers (or changes) the channel an assistant thread was opened from. One statement: races keep the last. */
  remember(scope: Scope, thread: { channelId: string; threadTs: string }, contextChannelId: string | null): Promise<void>;
  /** The thread's context, and whether this is the first question asked in it; null when Quorum never saw it start. */
  ask(scope: Scope, thread: { channelId: string; threadTs: string }): Promise<AssistantThread | null>;
}

/** The parts of a person's Home, in the order they are shown. Admin parts come only to admins and owners. */
export type HomeSectionId = 'about' | 'role' | 'notes' | 'usage' | 'settings' | 'channels' | 'spend' | 'feedback' | 'accounts';

/** One part of the Home: a title, plain-text lines (adapters escape them), and buttons. */
export interface HomeSection {
  id: HomeSectionId;
  title: string;
  lines: string[];
  actions: ReplyAction[];
}

/** A person's own view, built in the core (src/core/home.ts) and drawn by each platform. */
export interface HomeView {
  role: Role;
  admin: boolean;
  sections: HomeSection[];
  /** The settings forms behind the admin buttons, for platforms that show them inline (Teams cards); empty for others. */
  forms: Dialog[];
}

/** Where a platform shows a person's Home: Slack's App Home tab (views.publish), the Teams 1:1 settings card. */
export interface HomeSurface {
  /** Where the person finds it, to finish "Your Quorum settings are …" ("in Quorum's Home tab"). */
  where: string;
  /**
   * Shows (or refreshes) the view for one user. `place` names the message to replace (a card that
   * was clicked) and the conversation it is in; without it the platform picks (Slack: the Home tab).
   * False when it could not be shown (Teams: no 1:1 chat with this person yet).
   */
  show(workspace: WorkspaceRef, userId: string, view: HomeView, place?: { channel?: ChannelRef; messageId?: string }): Promise<boolean>;
}
