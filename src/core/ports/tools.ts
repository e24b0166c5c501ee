/**
 * Connected tools (MCP servers) as the core sees them: a catalog of tools per workspace, the
 * admins' rules, one governed call, the credentials a call is made with, and the admin changes.
 * src/tools implements the catalog and the call (the MCP SDK, transports, limits, breaker);
 * src/db keeps connections, discovered tools and rules. The core decides who may call what.
 */
import type { WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';

/** How a connection authenticates: not at all, as the workspace (one secret), or as each requester. */
export type ToolAuth = 'none' | 'workspace' | 'per-user';

/**
 * One tool as the tool round sees it (the seam with confirmation: `readOnly` and the admin's
 * confirm setting decide whether the requester must confirm before `callConnectedTool` runs it).
 */
export interface ConnectedTool {
  /** `connection.tool`: what the model sees; never collides with a built-in (those have no dot). */
  name: string;
  connection: string;
  /** The server's own name for the tool. */
  tool: string;
  description: string;
  /** The server's JSON Schema for the arguments. */
  inputSchema: Record<string, unknown>;
  /** The server's annotations say `readOnlyHint: true`; anything else is an action. */
  readOnly: boolean;
  auth: ToolAuth;
  /** An admin marked a per-user connection's results as shareable in channels. */
  resultsShared: boolean;
}

/** One `/agent tools #channel|all allow|deny PATTERN [guests]` rule (or one from the operator's file). */
export interface ConnectedToolRule {
  /** A channel's external id, or '*' for the whole workspace. */
  channel: string;
  /** `connection.tool` with `*` wildcards: `github.*`, `wiki.search`, `*`. */
  pattern: string;
  allowed: boolean;
  /** An allow that also opens the tool to guests and external users. */
  guests: boolean;
}

/** A call's result: text for the model (already quoted and capped), or why it did not run. */
export type ConnectedCallResult =
  | { ok: true; text: string; truncated: boolean }
  | {
      ok: false;
      reason: 'timeout' | 'unavailable' | 'busy' | 'unlinked' | 'tool_error' | 'failed';
      message: string;
      /** unlinked: where this requester signs in to the server's own OAuth (MCP authorization), when it offers it. */
      signInUrl?: string | undefined;
    };

export interface ConnectedCallRequest {
  scope: Scope;
  workspace: WorkspaceRef;
  tool: ConnectedTool;
  input: Record<string, unknown>;
  requesterPrincipalId: string;
  signal?: AbortSignal | undefined;
}

/** The workspace's connected tools and the governed call (timeout, limits, breaker, capped output). */
export interface ConnectedTools {
  /** Every tool of every connection of this workspace, as last discovered (no rule applied). */
  /** With the requester, a per-user server nobody could list yet is listed through their own linked session. */
  catalog(scope: Scope, workspace: WorkspaceRef, requesterPrincipalId?: string): Promise<ConnectedTool[]>;
  /** Rules for this channel and for the whole workspace: the admins' and the operator's. */
  rules(scope: Scope, workspace: WorkspaceRef, channelExternalId: string): Promise<ConnectedToolRule[]>;
  call(request: ConnectedCallRequest): Promise<ConnectedCallResult>;
}

/**
 * The credentials of one call. Implemented by the credentials feature (workspace secrets, per-user
 * links); a per-user call always gets the requester's own, never anyone else's, or `unlinked`.
 */
/**
 * What an MCP transport sends for one call: headers, or nothing because the requester has not
 * linked their account (the caller then shows them a private link prompt; the call does not run).
 */
export type CallCredentials = { headers: Record<string, string> } | { unlinked: true };

/**
 * The seam between the MCP client (src/tools) and the credentials kept by src/core/confirm: a
 * per-user call always gets the requester's own credentials, never anyone else's and never the workspace's.
 */
export interface ToolCredentials {
  forCall(scope: Scope, connection: string, auth: ToolAuth, requesterPrincipalId: string): Promise<CallCredentials>;
  /** For `/agent connections`: the connections this person has linked their own account to. */
  linked(scope: Scope, principalId: string): Promise<string[]>;
}

/** A connection as `/agent connections` lists it. */
export interface ConnectionInfo {
  name: string;
  /** null for a local (stdio) server. */
  url: string | null;
  auth: ToolAuth;
  source: 'chat' | 'file';
  tools: number;
  refreshedAt: Date | null;
  /** Why the last discovery failed; null when it worked. */
  problem: string | null;
  /** A per-user connection's results may be used in channels (`results shared`). */
  resultsShared: boolean;
}

export interface ConnectionActor {
  principalId: string;
  channelExternalId: string;
}

/** What admins change; each change is audited with its old and new value. */
export interface ConnectionAdmin {
  /** Answers what happened, in one sentence (checked URL, discovered tools, or why not). */
  connect(scope: Scope, workspace: WorkspaceRef, actor: ConnectionActor, input: { name: string; url: string; auth: ToolAuth }): Promise<string>;
  disconnect(scope: Scope, workspace: WorkspaceRef, actor: ConnectionActor, name: string): Promise<string>;
  list(scope: Scope, workspace: WorkspaceRef): Promise<ConnectionInfo[]>;
  /** Discovers again (`tools/list`) every connection of the workspace; `principalId` (the admin asking) reads the workspace secrets. */
  refresh(scope: Scope, workspace: WorkspaceRef, principalId?: string): Promise<ConnectionInfo[]>;
  setRule(scope: Scope, actor: ConnectionActor, rule: ConnectedToolRule): Promise<{ old: string; new: string }>;
  /** `/agent connections NAME results shared|private`: answers what changed, or why nothing did. */
  setResultsShared(scope: Scope, workspace: WorkspaceRef, actor: ConnectionActor, name: string, shared: boolean): Promise<string>;
  /** Whether NAME is a chat-added connection that authenticates as the workspace (the secret dialog is for those); else why not. */
  secretProblem(scope: Scope, workspace: WorkspaceRef, name: string): Promise<string | null>;
  /** After an admin saved a workspace secret: the connection's tools listed again with it; answers what was found. */
  discoverWithSecret(scope: Scope, workspace: WorkspaceRef, principalId: string, name: string): Promise<string>;
}

/** A stored connection: the facts the catalog and `/agent connections` need (never a secret). */
export interface StoredConnection {
  name: string;
  url: string | null;
  auth: ToolAuth;
  source: 'chat' | 'file';
  resultsShared: boolean;
  refreshedAt: Date | null;
  problem: string | null;
}

/** A tool as a server listed it, before it is named `connection.tool`. */
export interface DiscoveredTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  readOnly: boolean;
}

/** Connections, their discovered tools and the rules, kept per workspace (src/db). Changes are audited in their transaction. */
export interface ToolConnectionStore {
  connections(scope: Scope): Promise<StoredConnection[]>;
  /** Every discovered tool of the workspace, named `connection.tool`. */
  tools(scope: Scope): Promise<ConnectedTool[]>;
  /** A connection of the operator's file, recorded for this workspace (idempotent; not audited: the operator's, not an admin's). */
  ensureFileConnection(scope: Scope, connection: { name: string; url: string | null; auth: ToolAuth }): Promise<void>;
  /** false when the name is taken. */
  addConnection(scope: Scope, actor: ConnectionActor, connection: { name: string; url: string; auth: ToolAuth }): Promise<boolean>;
  /** false when there is no chat connection of that name. */
  removeConnection(scope: Scope, actor: ConnectionActor, name: string): Promise<boolean>;
  /** Replaces a connection's tools with what the server listed, or records why discovery failed. */
  saveDiscovery(scope: Scope, name: string, found: { tools: DiscoveredTool[] } | { problem: string }): Promise<void>;
  rules(scope: Scope, channelExternalId: string): Promise<ConnectedToolRule[]>;
  /** Every rule of the workspace, all channels and '*' (what the rules cache of src/tools keeps). */
  allRules(scope: Scope): Promise<ConnectedToolRule[]>;
  setRule(scope: Scope, actor: ConnectionActor, rule: ConnectedToolRule): Promise<{ old: string; new: string }>;
  /** Sets a chat connection's `results_shared`, audited with old and new value; null when there is no chat connection of that name. */
  setResultsShared(scope: Scope, actor: ConnectionActor, name: string, shared: boolean): Promise<{ old: boolean; new: boolean } | null>;
}

/** What the confirmation feature answers for a call that changes something (the tool is not read-only). */
export type ConfirmationCheck = { run: true; confirmedByPrincipalId: string | null } | { run: false; result: string };

/**
 * The seam with confirmation: asked before every connected call. It answers `run` (read-only, or
 * an admin set `confirm never`) or parks the call for the requester to confirm, and tells the
 * model so in `result`; after the click it runs the call through `callConnectedTool`.
 */
export interface ToolConfirmation {
  check(request: {
    scope: Scope;
    workspace: WorkspaceRef;
    requesterPrincipalId: string;
    channelExternalId: string;
    tool: ConnectedTool;
    input: Record<string, unknown>;
  }): Promise<ConfirmationCheck>;
}

/** A sign-in through a connection's OAuth that was started and not finished yet. */
export interface PendingSignIn {
  scope: Scope;
  principalId: string;
  connection: string;
  /** What the callback needs (the PKCE verifier among it): plain JSON here, sealed at rest. */
  payload: string;
}

/**
 * Sign-ins through a connection's OAuth (src/db): each started one under its state, kept only as a
 * hash, and Quorum's client registration at each connection's authorization server. Both sealed.
 */
export interface OAuthStateStore {
  /** Keeps a started sign-in until `expiresAt` (and drops the expired ones of this workspace). */
  put(pending: PendingSignIn & { state: string; expiresAt: Date }): Promise<void>;
  /**
   * Takes the sign-in of a state, once (one DELETE … RETURNING, so a second use finds nothing):
   * null when unknown, used or expired. Unscoped: the state alone says whose it is.
   */
  take(state: string, now: Date): Promise<(PendingSignIn & { workspace: WorkspaceRef }) | null>;
  /** Quorum's registration (JSON) at this connection's authorization server, or null. */
  client(scope: Scope, connection: string): Promise<string | null>;
  saveClient(scope: Scope, connection: string, registration: string): Promise<void>;
}

/** The answer of the OAuth callback (`GET /oauth/mcp/callback`): a small page, never a token. */
export interface SignInOutcome {
  status: 200 | 400;
  title: string;
  message: string;
}
