/** What the adapters keep through the core (src/db implements it): installations, replayed requests, conversation references. */
import type { Platform, WorkspaceRef } from '../envelope.js';

/** One stored platform installation. `secret` is the platform's credentials (tokens), sealed at rest by the store. */
export interface InstallationRecord {
  secret: string;
  /** Non-secret facts (ids, scopes) that may be read without opening the secret. */
  data: Record<string, unknown>;
}

/**
 * Platform installations (Slack OAuth installs), keyed by platform and install key (a team id,
 * or `enterprise:<id>` for an org-wide install). Implemented in src/db; secrets never leave it unsealed on disk.
 */
export interface InstallationRecords {
  save(input: { platform: Platform; installKey: string; workspace: WorkspaceRef | null } & InstallationRecord): Promise<void>;
  find(platform: Platform, installKey: string): Promise<InstallationRecord | null>;
  remove(platform: Platform, installKey: string): Promise<void>;
  /** The app was removed from the workspace: stamp it uninstalled (its data is purged after the grace period). */
  markUninstalled(workspace: WorkspaceRef): Promise<void>;
}

/**
 * Signed platform requests already acted on, shared by every instance: a request replayed while its
 * signature is still valid is seen again and does nothing.
 */
export interface SeenRequests {
  /** True the first time `key` is offered (remembered for `ttlMs`), false for every later offer. */
  firstTime(key: string, ttlMs: number): Promise<boolean>;
}

/**
 * Where an adapter can post later, outside the request that told it (Teams conversation
 * references for proactive replies, installs that admit a tenant). Rows belong to one workspace;
 * `data` is the platform's own routing object, opaque to the core, never a secret.
 */
export interface ConversationRefStore {
  save(workspace: WorkspaceRef, key: string, data: Record<string, unknown>): Promise<void>;
  load(workspace: WorkspaceRef, key: string): Promise<Record<string, unknown> | null>;
  /** Whether any reference whose key starts with `prefix` is stored (no workspace is created). */
  has(workspace: WorkspaceRef, prefix: string): Promise<boolean>;
  /** Drops the references whose key starts with `prefix`; returns how many went. */
  remove(workspace: WorkspaceRef, prefix: string): Promise<number>;
}
