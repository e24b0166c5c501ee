/**
 * The port admin commands and data rights need from storage. src/db implements it; every method
 * takes a Scope first, and every change is written together with its audit entry (old and new
 * value) in one transaction, so a change is never unaudited.
 */
import type { ChannelRef, WorkspaceRef } from '../envelope.js';
import type { BudgetSetting } from '../budgets.js';
import type { Principal, Role, Scope } from '../identity.js';

/** Numeric workspace settings that `/agent limit|budget|retention` set; null means the default. */
export type LimitKey = 'rpm' | 'concurrency' | 'tpm' | 'retentionDays' | BudgetSetting;

/** `/agent usage`: which days (UTC, inclusive), grouped how, and whose (members see their own). */
export interface UsageQuery {
  from: string;
  to: string;
  by: 'user' | 'model' | 'channel' | null;
  principalId?: string;
}

/** One row of a usage report: `key` is the user's platform id, the model or the channel ('' for the total). */
export interface UsageRow {
  key: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}

export type AdminChange =
  | { kind: 'limit'; key: LimitKey; value: number | null }
  | { kind: 'guests'; enabled: boolean }
  /** Keep channel message content in the audit log in clear (never a DM's), or only its SHA-256. */
  | { kind: 'content'; keep: boolean }
  | { kind: 'agent'; channel: ChannelRef; enabled: boolean }
  | { kind: 'tool'; channel: ChannelRef; tool: string; allowed: boolean }
  /** Index the channel for knowledge (again, from the start), or stop and delete what was indexed. */
  | { kind: 'knowledge'; channel: ChannelRef; enabled: boolean }
  /** null clears the grant (back to the platform's role). */
  | { kind: 'role'; principalId: string; role: Role | null };

/** Values as shown to the admin and stored in the audit entry. */
export interface ChangeResult {
  old: string;
  new: string;
}

export interface ChangeActor {
  principalId: string;
  channelExternalId: string;
}

export interface ChannelState {
  agentEnabled: boolean;
  /** Tool name -> allowed, for the rules set on this channel. */
  tools: Record<string, boolean>;
}

/** What an erasure deleted, by kind. */
export interface ErasureCounts {
  messages: number;
  memories: number;
  usageRows: number;
  dmConversations: number;
  inboxRows: number;
  auditContentRedacted: number;
  /** Knowledge chunks of what they wrote or shared, and of their DMs. */
  knowledgeChunks: number;
}

export interface AdminStore {
  apply(scope: Scope, actor: ChangeActor, change: AdminChange): Promise<ChangeResult>;
  /** Principals that are owners or admins by platform or grant (the caller adds operator admins). */
  privileged(scope: Scope): Promise<Pick<Principal, 'id' | 'platformUserId' | 'platformRole' | 'grantedRole'>[]>;
  findPrincipal(scope: Scope, platformUserId: string): Promise<Principal | null>;
  /** principal id -> platform user id, for showing audit entries. */
  platformUserIds(scope: Scope, principalIds: string[]): Promise<Map<string, string>>;
  channelState(scope: Scope, channelExternalId: string): Promise<ChannelState>;
  usageToday(scope: Scope): Promise<{ calls: number; inputTokens: number; outputTokens: number }>;
  /** Calls, tokens and cost from the usage ledger, one row per group (largest cost first). */
  usage(scope: Scope, query: UsageQuery): Promise<UsageRow[]>;
  /**
   * Deletes one principal's messages, memories, usage detail, DM conversations and queued
   * deliveries, and redacts kept content in their audit entries, in one transaction; the audit
   * gets one `erasure` entry with the counts only.
   */
  erase(scope: Scope, target: { principalId: string; platformUserId: string }, actor: ChangeActor & { self: boolean }): Promise<ErasureCounts>;
  /**
   * Platform user ids of the workspace's owners and admins as Quorum knows them (a grant, else
   * the platform role; never an external user), owners first, at most `limit`. Operator admins
   * (QUORUM_ADMINS) are the caller's to add.
   */
  adminsOf(scope: Scope, limit: number): Promise<string[]>;
  /** The platform's reference for a resolved workspace (to reach it outside a turn); null when it is gone. */
  workspaceOf(scope: Scope): Promise<(WorkspaceRef & { name: string | null }) | null>;
}
