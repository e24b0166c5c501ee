/**
 * Connected tools, assembled from configuration: the operator's file (remote and stdio servers),
 * the demo's tickets server when the console runs, and chat-added connections from the database.
 */
import type { AuditLog, ConnectionAdmin, ConnectedToolRule, CredentialStore, Logger, OAuthStateStore, SignInOutcome, ToolConnectionStore, ToolCredentials } from '../core/ports.js';
import type { SharedRate } from './call-guard.js';
import { createConnectionAdmin } from './connection-admin.js';
import { createConnectedTools, type ConnectedToolsService, type DeclaredConnection } from './connected-tools.js';
import { ticketsSpec } from './demo-tickets.js';
import { createMcpOAuth } from './oauth.js';
import { isStdio, loadToolsFile, type ToolsFileEntry } from './tools-file.js';

export interface ToolsSettings {
  QUORUM_TOOLS_FILE?: string | undefined;
  TOOL_TIMEOUT_MS: number;
  TOOL_CONCURRENCY: number;
  TOOL_RPM: number;
  TOOL_OUTPUT_MAX_CHARS: number;
  TOOLS_ALLOW_PRIVATE_NETWORKS: boolean;
  NODE_ENV: string;
  DATA_DIR: string;
  PUBLIC_URL?: string | undefined;
}

function declaredOf(entry: ToolsFileEntry): DeclaredConnection {
  const allow: ConnectedToolRule[] = entry.allow.map((r) => ({ channel: r.channel, pattern: r.pattern, allowed: r.allowed, guests: r.guests }));
  const base = { name: entry.name, auth: entry.auth, resultsShared: entry.resultsShared, workspaces: entry.workspaces, allow };
  if (isStdio(entry)) return { ...base, url: null, spec: { transport: 'stdio', command: entry.command, args: entry.args, env: entry.env, cwd: entry.cwd } };
  return { ...base, url: entry.url, spec: { transport: 'http', url: entry.url, headers: entry.headers } };
}

/** The demo workspace's tickets server, open to its members in every channel. */
export function demoConnection(workspace: string, dataDir: string): DeclaredConnection {
  return {
    name: 'tickets',
    url: null,
    auth: 'none',
    resultsShared: false,
    workspaces: [workspace],
    allow: [{ channel: '*', pattern: 'tickets.*', allowed: true, guests: false }],
    spec: ticketsSpec(dataDir),
  };
}

/** What per-user sign-in through a server's own OAuth keeps: started sign-ins, links (beside personal tokens), audit. */
export interface SignInStores {
  states: OAuthStateStore;
  credentials: CredentialStore;
  audit: AuditLog;
}

/** Throws TOOLS_FILE_INVALID (naming the bad entry) before anything starts. */
export function openConnectedTools(
  settings: ToolsSettings,
  deps: {
    store: ToolConnectionStore;
    log: Logger;
    credentials?: ToolCredentials | undefined;
    signIn?: SignInStores | undefined;
    extra?: DeclaredConnection[];
    sharedRate?: SharedRate | undefined;
  },
): { tools: ConnectedToolsService; admin: ConnectionAdmin; completeSignIn(query: URLSearchParams): Promise<SignInOutcome> } {
  const declared = [...(settings.QUORUM_TOOLS_FILE ? loadToolsFile(settings.QUORUM_TOOLS_FILE).map(declaredOf) : []), ...(deps.extra ?? [])];
  // Sign-in through a connection's own OAuth: its callback is PUBLIC_URL/oauth/mcp/callback (off without PUBLIC_URL).
  const oauth = deps.signIn
    ? createMcpOAuth({ ...deps.signIn, publicUrl: settings.PUBLIC_URL, log: deps.log, production: settings.NODE_ENV === 'production' })
    : null;
  const tools = createConnectedTools({
    store: deps.store,
    declared,
    credentials: deps.credentials,
    oauth: oauth ?? undefined,
    network: { allowPrivate: settings.TOOLS_ALLOW_PRIVATE_NETWORKS, connectTimeoutMs: Math.min(settings.TOOL_TIMEOUT_MS, 10_000) },
    timeoutMs: settings.TOOL_TIMEOUT_MS,
    maxOutputChars: settings.TOOL_OUTPUT_MAX_CHARS,
    limits: { concurrency: settings.TOOL_CONCURRENCY, rpm: settings.TOOL_RPM, breakerFailures: 3, breakerOpenMs: 30_000 },
    sharedRate: deps.sharedRate,
    log: deps.log,
  });
  const noSignIn: SignInOutcome = { status: 400, title: 'Not linked', message: 'Signing in to connected tools is not set up here. Nothing was linked.' };
  return {
    tools,
    admin: createConnectionAdmin(tools, deps.store, settings.NODE_ENV === 'production'),
    completeSignIn: async (query) => (oauth ? oauth.complete(query, (scope, workspace, name) => tools.server(scope, workspace, name)) : noSignIn),
  };
}
