/**
 * What connected tools need kept (issue 16), implemented in src/db: calls waiting for their
 * requester's confirmation, the admins' confirm rules, and credentials sealed at rest.
 */
import type { Envelope } from '../envelope.js';
import type { Scope } from '../identity.js';

export type ConfirmationState = 'pending' | 'confirmed' | 'cancelled' | 'expired' | 'running' | 'done';

/** One tool call parked until its requester confirms it. */
export interface PendingConfirmation {
  id: string;
  requesterPrincipalId: string;
  /** The requester's platform user id: only a click whose verified user is this one decides. */
  requesterUserId: string;
  channelExternalId: string;
  tool: string;
  input: unknown;
  /** The turn's envelope: the resumed turn answers in the same conversation and thread. */
  envelope: Envelope;
  state: ConfirmationState;
  decidedByUserId: string | null;
  result: string | null;
  expiresAt: Date;
}

export interface ParkInput {
  /** The delivery that asked: a re-run of it finds the same confirmation instead of asking twice. */
  sourceKey: string;
  requesterPrincipalId: string;
  requesterUserId: string;
  channelExternalId: string;
  tool: string;
  input: unknown;
  envelope: Envelope;
  ttlMs: number;
}

/** Durable confirmations. Each transition is one conditional UPDATE: it happens once, whoever races. */
export interface ConfirmationStore {
  /** Parks a call; answers the row already parked for `sourceKey` when a re-run asks again. */
  park(scope: Scope, input: ParkInput): Promise<PendingConfirmation>;
  find(scope: Scope, id: string): Promise<PendingConfirmation | null>;
  /** pending → confirmed|cancelled, only while unexpired; null when the row was not pending (or had expired). */
  decide(scope: Scope, id: string, decision: 'confirmed' | 'cancelled', byUserId: string): Promise<PendingConfirmation | null>;
  /** confirmed → running: true for exactly one caller; the call then runs. */
  claimRun(scope: Scope, id: string): Promise<boolean>;
  /** running → done, keeping what the call answered for a re-run of the resumed turn. */
  finishRun(scope: Scope, id: string, result: string): Promise<void>;
  /** Marks pending rows past their time as expired, and deletes rows decided long ago (and expired OAuth sign-ins); returns how many expired. */
  sweep(now: Date, keepMs: number): Promise<number>;
}

export type ConfirmMode = 'always' | 'never';

/** `/agent tools #channel|all confirm PATTERN always|never`. */
export interface ConfirmRules {
  /** The rule for a tool here: the channel's matching rule wins over the workspace's; undefined when none matches. */
  modeFor(scope: Scope, channelExternalId: string, tool: string): Promise<ConfirmMode | undefined>;
  /** Sets one rule (channel '*' = the workspace), audited with the old and new value in the same transaction. */
  set(scope: Scope, rule: { channelExternalId: string; pattern: string; mode: ConfirmMode }, actorPrincipalId: string): Promise<{ old: ConfirmMode | null }>;
}

/** What a stored credential is: a pasted secret, or the tokens of a sign-in through the server's own OAuth (JSON). */
export type CredentialKind = 'token' | 'oauth';

/** Sealed credentials: a workspace secret (principal null) or one person's token. Plain text never leaves the store but through `read`. */
export interface CredentialStore {
  /** Stores (or replaces) a secret; answers whether one was there before. */
  save(scope: Scope, connection: string, principalId: string | null, secret: string, kind?: CredentialKind): Promise<{ replaced: boolean }>;
  read(scope: Scope, connection: string, principalId: string | null): Promise<{ secret: string; kind: CredentialKind } | null>;
  /** Removes one person's credential of one connection (an OAuth link whose refresh failed); answers whether there was one. */
  unlink(scope: Scope, connection: string, principalId: string): Promise<boolean>;
  /** The connections this person has linked. */
  linked(scope: Scope, principalId: string): Promise<string[]>;
  /** `forget me`: removes every credential of this person; answers how many. */
  forget(scope: Scope, principalId: string): Promise<number>;
}
