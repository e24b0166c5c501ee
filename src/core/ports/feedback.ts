/** Feedback on answers (👍 / 👎, an optional reason): stored once per person and answer. */
import type { ChannelKind } from '../envelope.js';
import type { Scope } from '../identity.js';

export type Rating = 'up' | 'down';

/** An answer Quorum recorded, found by the delivery it answered, with where it was given. */
export interface AnswerRef {
  /** The stored assistant message. */
  messageId: string;
  conversationKind: ChannelKind;
  /** The channel (or DM, group) the answer was posted in. */
  channelExternalId: string;
  /** A DM's owner: the only one who can see it. */
  ownerPrincipalId: string | null;
}

export interface FeedbackSummary {
  up: number;
  down: number;
  /** Per UTC day, oldest first (days without feedback left out). */
  days: { day: string; up: number; down: number }[];
  /** The latest reasons given with a 👎, newest first (at most 5). */
  reasons: { reason: string; at: Date }[];
}

export interface FeedbackStore {
  /** The answer recorded for a delivery (the idempotency key the feedback buttons carry); null when none (erased, expired, never). */
  answer(scope: Scope, idempotencyKey: string): Promise<AnswerRef | null>;
  /** Stores one rating per person and answer in one statement: 'stored' the first time, 'already' after (nothing changes). */
  give(scope: Scope, input: { messageId: string; principalId: string; rating: Rating }): Promise<'stored' | 'already'>;
  /** Adds a reason to this person's 👎 on this answer once; false when there is none or a reason was already given. */
  addReason(scope: Scope, input: { messageId: string; principalId: string; reason: string }): Promise<boolean>;
  /** What the workspace's people said since `since` (the admin's `/agent feedback`, the admin Home). */
  summary(scope: Scope, since: Date): Promise<FeedbackSummary>;
}
