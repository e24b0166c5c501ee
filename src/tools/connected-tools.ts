/**
 * The connected tools of every workspace: declared connections (the operator's file, the demo)
 * and chat-added ones, one pooled MCP session per workspace, connection and credential, discovery
 * kept in the database (refreshed on `notifications/tools/list_changed`), and the governed call:
 * the requester's credentials, rate and concurrency limits, a breaker, a timeout, quoted and
 * capped output, and a clear message whenever a call did not run.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { WorkspaceRef } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { ConnectedCallRequest, ConnectedCallResult, ConnectedTool, ConnectedToolRule, ConnectedTools, DiscoveredTool, InvalidationBus, Logger, ToolAuth, ToolConnectionStore, ToolCredentials } from '../core/ports.js';
import { CallGuards, ServerFailure, type GuardLimits, type SharedRate } from './call-guard.js';
import { createRulesCache } from './rules-cache.js';
import { guardedFetch, type NetworkPolicy } from './network-guard.js';
import { quoteOutput, resultBody } from './output.js';
import { problemOf } from './problem.js';
import { isUnauthorized, Unauthorized, type ServerAccess, type ToolSignIn } from './oauth.js';
import { listAllTools, openSession, type ServerSpec } from './session.js';

/** A connection Quorum knows from its own configuration (the operator's file, the demo), not from chat. */
export interface DeclaredConnection {
  name: string;
  url: string | null;
  auth: ToolAuth;
  resultsShared: boolean;
  /** platform:workspace ids; undefined: every workspace. */
  workspaces?: string[] | undefined;
  allow: ConnectedToolRule[];
  spec: ServerSpec;
}

export interface ConnectedToolsDeps {
  store: ToolConnectionStore;
  declared: DeclaredConnection[];
  credentials?: ToolCredentials | undefined;
  /** Sign-in through a server's own OAuth, and its refresh after a 401 (src/tools/oauth.ts). */
  oauth?: ToolSignIn | undefined;
  network: NetworkPolicy;
  timeoutMs: number;
  maxOutputChars: number;
  limits: GuardLimits;
  /** The per-minute rate shared by every instance (Redis); absent: counted on this instance. */
  sharedRate?: SharedRate | undefined;
  /** How long an instance that missed a bus message may use old rules (default 30 s). */
  rulesTtlMs?: number;
  log: Logger;
}

/** The problem a per-user connection shows until someone has linked an account. */
const WAITING = 'waiting for credentials';

export interface ConnectedToolsService extends ConnectedTools {
  declaredIn(workspace: WorkspaceRef): DeclaredConnection[];
  /** Records the declared connections for this workspace (once per process) and discovers those never discovered. */
  ensureDeclared(scope: Scope, workspace: WorkspaceRef): Promise<void>;
  discover(scope: Scope, workspace: WorkspaceRef, name: string, principalId: string | null): Promise<DiscoveredTool[] | { problem: string }>;
  /** Lists a server's tools over a session of its own (nothing kept): the check before a chat connection is stored. */
  probe(url: string): Promise<DiscoveredTool[]>;
  closeConnection(scope: Scope, name: string): Promise<void>;
  /** A remote connection's URL and the fetch its requests go through (an OAuth sign-in's callback); null: none such. */
  server(scope: Scope, workspace: WorkspaceRef, name: string): Promise<ServerAccess | null>;
  /** Where this person signs in to a per-user connection (OAuth, when its server offers it); undefined: paste a token. */
  signInUrl(scope: Scope, workspace: WorkspaceRef, name: string, principalId: string): Promise<string | undefined>;
  /** An admin changed the workspace's rules (committed): applied here at once, on other instances through the bus. */
  rulesChanged(scope: Scope): Promise<void>;
  /** Takes rule changes from other instances (and publishes this one's) through the invalidation bus. */
  listen(bus: InvalidationBus): void;
  close(): Promise<void>;
}

const workspaceKey = (w: WorkspaceRef) => `${w.platform}:${w.externalId}`;
const digest = (headers: Record<string, string>) => createHash('sha256').update(JSON.stringify(Object.entries(headers).sort())).digest('hex').slice(0, 16);

function unlinked(tool: ConnectedTool, signInUrl: string | undefined): ConnectedCallResult {
  return {
    ok: false,
    reason: 'unlinked',
    message:
      tool.auth === 'per-user'
        ? `${tool.name} works with your own ${tool.connection} account, which is not linked yet.`
        : `${tool.name} is not available: the workspace credential for ${tool.connection} is not set.`,
    signInUrl,
  };
}

export function createConnectedTools(deps: ConnectedToolsDeps): ConnectedToolsService {
  const guarded = guardedFetch(deps.network);
  const sessions = new Map<string, Promise<Client>>();
  const guards = new CallGuards(deps.limits, deps.sharedRate);
  const rulesCache = createRulesCache((scope) => deps.store.allRules(scope), { ttlMs: deps.rulesTtlMs ?? 30_000, maxWorkspaces: 10_000 });
  let unlisten: (() => void) | null = null;
  const ensured = new Set<string>();
  const declaredIn = (w: WorkspaceRef) => deps.declared.filter((d) => !d.workspaces || d.workspaces.includes(workspaceKey(w)));

  async function specOf(scope: Scope, workspace: WorkspaceRef, name: string): Promise<{ spec: ServerSpec; fetch: typeof globalThis.fetch } | null> {
    const declared = declaredIn(workspace).find((d) => d.name === name);
    // The operator's own servers may be internal; only what chat added goes through the address check.
    if (declared) return { spec: declared.spec, fetch: globalThis.fetch };
    const stored = (await deps.store.connections(scope)).find((c) => c.name === name && c.source === 'chat');
    return stored?.url ? { spec: { transport: 'http', url: stored.url, headers: {} }, fetch: guarded.fetch } : null;
  }

  async function credentialsOf(scope: Scope, workspace: WorkspaceRef, name: string, auth: ToolAuth, principalId: string | null) {
    if (auth === 'none') return { headers: {} };
    // Declared connections carry the operator's workspace credential in their spec.
    if (auth === 'workspace' && declaredIn(workspace).some((d) => d.name === name)) return { headers: {} };
    if (!deps.credentials || principalId === null) return { unlinked: true as const };
    return deps.credentials.forCall(scope, name, auth, principalId);
  }

  function session(scope: Scope, workspace: WorkspaceRef, name: string, headers: Record<string, string>): Promise<Client> {
    const key = `${scope.workspaceId}/${name}/${digest(headers)}`;
    let open = sessions.get(key);
    if (!open) {
      open = specOf(scope, workspace, name).then((found) => {
        if (!found) throw new ServerFailure('unavailable', `no connection named ${name}`);
        return openSession(found.spec, {
          fetch: found.fetch,
          headers,
          timeoutMs: deps.timeoutMs,
          onToolsChanged: () => void refreshOn(scope, workspace, name, headers),
        });
      });
      sessions.set(key, open);
      open.catch(() => sessions.delete(key));
    }
    return open;
  }

  async function refreshOn(scope: Scope, workspace: WorkspaceRef, name: string, headers: Record<string, string>) {
    try {
      const client = await session(scope, workspace, name, headers);
      await deps.store.saveDiscovery(scope, name, { tools: await listAllTools(client, deps.timeoutMs) });
      deps.log.info({ event: 'tools.list_changed', connection: name }, 'connected tools refreshed');
    } catch (err) {
      deps.log.warn({ event: 'tools.refresh_failed', connection: name, err: problemOf(err) }, 'connected tools not refreshed');
    }
  }

  async function drop(prefix: string) {
    for (const [key, open] of sessions) {
      if (!key.startsWith(prefix)) continue;
      sessions.delete(key);
      await open.then((c) => c.close()).catch(() => undefined);
    }
  }

  async function discover(scope: Scope, workspace: WorkspaceRef, name: string, principalId: string | null) {
    const stored = (await deps.store.connections(scope)).find((c) => c.name === name);
    if (!stored) return { problem: 'no such connection' };
    const creds = await credentialsOf(scope, workspace, name, stored.auth, principalId);
    let found: DiscoveredTool[] | { problem: string };
    if ('unlinked' in creds) found = { problem: WAITING };
    else {
      try {
        found = await listAllTools(await session(scope, workspace, name, creds.headers), deps.timeoutMs);
      } catch (err) {
        await drop(`${scope.workspaceId}/${name}/`);
        found = { problem: problemOf(err) };
      }
    }
    await deps.store.saveDiscovery(scope, name, Array.isArray(found) ? { tools: found } : found);
    return found;
  }

  async function callTool(client: Client, tool: string, input: Record<string, unknown>, signal: AbortSignal | undefined): Promise<CallToolResult> {
    try {
      return (await client.callTool({ name: tool, arguments: input }, undefined, { timeout: deps.timeoutMs, ...(signal ? { signal } : {}) })) as CallToolResult;
    } catch (err) {
      if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) throw new ServerFailure('timeout', 'timed out', { cause: err });
      // The server answered with a protocol error (unknown tool, bad arguments): the tool's answer, not an outage.
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed) return { isError: true, content: [{ type: 'text', text: err.message.slice(0, 500) }] };
      if (isUnauthorized(err)) throw new Unauthorized('credentials refused', { cause: err });
      throw new ServerFailure('unavailable', problemOf(err), { cause: err });
    }
  }

  /** One governed call with these credentials; a 401 is thrown as Unauthorized (outside the breaker: a credential, not an outage). */
  async function governed(request: ConnectedCallRequest, headers: Record<string, string>): Promise<ConnectedCallResult> {
    const { scope, workspace, tool } = request;
    try {
      const outcome = await guards.run(`${scope.workspaceId}/${tool.connection}`, async () =>
        callTool(await session(scope, workspace, tool.connection, headers).catch((err: unknown) => {
          if (isUnauthorized(err)) throw new Unauthorized('credentials refused', { cause: err });
          throw err instanceof ServerFailure ? err : new ServerFailure('unavailable', problemOf(err), { cause: err });
        }), tool.tool, request.input, request.signal),
      );
      if (!outcome.ok)
        return outcome.reason === 'busy'
          ? { ok: false, reason: 'busy', message: `${tool.name} was not run: ${outcome.detail === 'rate' ? 'its connection had too many calls this minute' : 'too many calls to its connection are running'}. Try again shortly.` }
          : { ok: false, reason: 'unavailable', message: `${tool.name} was not run: the ${tool.connection} server is not answering right now, so Quorum is not calling it for a while.` };
      const { text, truncated } = quoteOutput(tool.name, resultBody(outcome.value), outcome.value.isError === true, deps.maxOutputChars);
      return { ok: true, text, truncated };
    } catch (err) {
      if (!(err instanceof ServerFailure)) throw err;
      await drop(`${scope.workspaceId}/${tool.connection}/`);
      deps.log.warn({ event: 'tools.call_failed', connection: tool.connection, kind: err.kind, err: err.message }, 'connected tool call failed');
      return err.kind === 'timeout'
        ? { ok: false, reason: 'timeout', message: `${tool.name} did not answer within ${Math.round(deps.timeoutMs / 1000)} s, so it was stopped.` }
        : { ok: false, reason: 'unavailable', message: `${tool.name} could not be reached: the ${tool.connection} server is not answering.` };
    }
  }

  async function serverOf(scope: Scope, workspace: WorkspaceRef, name: string): Promise<ServerAccess | null> {
    const found = await specOf(scope, workspace, name);
    return found?.spec.transport === 'http' ? { url: found.spec.url, fetch: found.fetch } : null;
  }

  /** The server's own sign-in for an unlinked person, when it offers OAuth (undefined: a personal token only). */
  async function signInFor(scope: Scope, workspace: WorkspaceRef, name: string, principalId: string): Promise<string | undefined> {
    const server = deps.oauth ? await serverOf(scope, workspace, name) : null;
    return (server && (await deps.oauth!.signIn(scope, name, principalId, server))) ?? undefined;
  }

  return {
    declaredIn,
    discover,
    signInUrl: signInFor,
    async probe(url) {
      const client = await openSession({ transport: 'http', url, headers: {} }, { fetch: guarded.fetch, headers: {}, timeoutMs: deps.timeoutMs, onToolsChanged: () => undefined });
      try {
        return await listAllTools(client, deps.timeoutMs);
      } finally {
        await client.close().catch(() => undefined);
      }
    },

    async ensureDeclared(scope, workspace) {
      if (ensured.has(scope.workspaceId)) return;
      for (const d of declaredIn(workspace)) await deps.store.ensureFileConnection(scope, { name: d.name, url: d.url, auth: d.auth });
      ensured.add(scope.workspaceId);
      for (const c of await deps.store.connections(scope)) if (c.refreshedAt === null && c.problem === null) await discover(scope, workspace, c.name, null);
    },

    async catalog(scope, workspace, requesterPrincipalId) {
      await this.ensureDeclared(scope, workspace);
      // A per-user server lists its tools only to a linked caller: the first linked requester's session lists them.
      if (requesterPrincipalId) {
        for (const c of await deps.store.connections(scope))
          if (c.auth === 'per-user' && c.refreshedAt === null && c.problem === WAITING) await discover(scope, workspace, c.name, requesterPrincipalId);
      }
      const shared = new Map(declaredIn(workspace).map((d) => [d.name, d.resultsShared]));
      return (await deps.store.tools(scope)).map((t) => (shared.has(t.connection) ? { ...t, resultsShared: shared.get(t.connection)! } : t));
    },

    async rules(scope, workspace, channelExternalId) {
      const operator = declaredIn(workspace).flatMap((d) => d.allow.filter((r) => r.channel === '*' || r.channel === channelExternalId));
      const stored = (await rulesCache.of(scope)).filter((r) => r.channel === '*' || r.channel === channelExternalId);
      return [...operator, ...stored];
    },

    async call(request): Promise<ConnectedCallResult> {
      const { scope, workspace, tool } = request;
      const who = request.requesterPrincipalId;
      const credentials = () => credentialsOf(scope, workspace, tool.connection, tool.auth, who);
      let creds = await credentials();
      // A 401 on a person's OAuth link: refreshed once and the call tried once more; a failed refresh unlinks (then: the link prompt).
      for (let attempt = 0; attempt < 2; attempt++) {
        if ('unlinked' in creds) return unlinked(tool, tool.auth === 'per-user' ? await signInFor(scope, workspace, tool.connection, who) : undefined);
        try {
          return await governed(request, creds.headers);
        } catch (err) {
          if (!(err instanceof Unauthorized)) throw err;
          await drop(`${scope.workspaceId}/${tool.connection}/${digest(creds.headers)}`);
          const server = attempt === 0 && tool.auth === 'per-user' && deps.oauth ? await serverOf(scope, workspace, tool.connection) : null;
          const stale = (creds.headers.authorization ?? '').replace(/^Bearer /, '');
          const refreshed = server !== null && (await deps.oauth!.refresh(scope, tool.connection, who, server, stale));
          creds = await credentials();
          if (!refreshed && !('unlinked' in creds)) break;
        }
      }
      deps.log.warn({ event: 'tools.call_unauthorized', connection: tool.connection }, 'a connected tool refused the credentials of a call');
      return { ok: false, reason: 'failed', message: `${tool.name} was not run: the ${tool.connection} server did not accept ${tool.auth === 'per-user' ? 'your' : "the workspace's"} credentials.` };
    },

    server: serverOf,

    async closeConnection(scope, name) {
      guards.forget(`${scope.workspaceId}/${name}`);
      await drop(`${scope.workspaceId}/${name}/`);
    },

    rulesChanged: (scope) => rulesCache.changed(scope),

    listen(bus) {
      unlisten?.();
      unlisten = rulesCache.listen(bus);
    },

    async close() {
      unlisten?.();
      await drop('');
      await guarded.close();
    },
  };
}
