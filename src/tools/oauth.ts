/**
 * Per-user sign-in through an MCP server's own OAuth (MCP authorization): protected-resource and
 * authorization-server metadata, dynamic client registration, PKCE, the code exchange and refresh,
 * all through the official SDK's client auth (`auth()` with an OAuthClientProvider per person and
 * connection). Quorum hosts the callback. The tokens are sealed in the same store as a pasted
 * personal token, so a call carries `Authorization: Bearer` exactly as it does with one.
 */
import { randomBytes } from 'node:crypto';
import { auth, discoverOAuthServerInfo, type OAuthClientProvider, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { z } from 'zod';
import { bearerOf, OAUTH_CALLBACK_PATH, oauthLinkSchema } from '../core/confirm/credentials.js';
import type { Scope } from '../core/identity.js';
import type { AuditLog, CredentialStore, Logger, OAuthStateStore, SignInOutcome } from '../core/ports.js';
import type { WorkspaceRef } from '../core/envelope.js';
import { problemOf } from './problem.js';

/** A started sign-in is good for this long, and once. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

/** How to reach a connection's server: its URL and the fetch its requests go through (the address-checked one for chat connections). */
export interface ServerAccess {
  url: string;
  fetch: typeof globalThis.fetch;
}

export type ServerOf = (scope: Scope, workspace: WorkspaceRef, connection: string) => Promise<ServerAccess | null>;

/** What connected calls ask of the sign-in (src/tools/connected-tools.ts). */
export interface ToolSignIn {
  /** An authorization URL for this person and connection, or null when the server offers no OAuth (or sign-in is off). */
  signIn(scope: Scope, connection: string, principalId: string, server: ServerAccess): Promise<string | null>;
  /**
   * After a 401 with the bearer `stale`: refreshes an OAuth link once. true: call again with the
   * credentials stored now; false: not an OAuth link, or the refresh failed and the link is removed.
   */
  refresh(scope: Scope, connection: string, principalId: string, server: ServerAccess, stale: string): Promise<boolean>;
}

export interface McpOAuth extends ToolSignIn {
  /** The callback: takes the state once, exchanges the code with its verifier, stores the tokens. */
  complete(query: URLSearchParams, serverOf: ServerOf): Promise<SignInOutcome>;
}

export interface McpOAuthDeps {
  /** PUBLIC_URL; undefined: sign-in through servers' own OAuth is off (personal tokens still work). */
  publicUrl: string | undefined;
  states: OAuthStateStore;
  credentials: CredentialStore;
  audit: AuditLog;
  log: Logger;
  /** Outside production an authorization endpoint may be plain http on loopback (tests, local servers). */
  production: boolean;
  now?: () => Date;
}

/** What a started sign-in keeps for the callback, sealed under its state. */
const pendingSchema = z.object({
  serverUrl: z.string(),
  codeVerifier: z.string().min(43).max(128),
  discovery: z.looseObject({ authorizationServerUrl: z.string() }),
});

/** Quorum's registration at an authorization server, with the redirect URI it was made for. */
const registrationSchema = z.object({ redirectUrl: z.string(), client: z.looseObject({ client_id: z.string() }) });

/** JSON that may be damaged (sealed data from an older version): undefined instead of a throw. */
function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The SDK's OAuthClientProvider for one person and one connection: everything in memory but the client registration. */
class SignInProvider implements OAuthClientProvider {
  authorizationUrl: URL | null = null;
  verifier: string | null = null;
  saved: OAuthTokens | null = null;
  discovery: OAuthDiscoveryState | undefined;
  private client: OAuthClientInformationMixed | undefined | null = null;
  private current: OAuthTokens | undefined;

  constructor(
    private readonly o: {
      redirectUrl: string;
      states: OAuthStateStore;
      scope: Scope;
      connection: string;
      state?: string;
      tokens?: OAuthTokens;
      codeVerifier?: string;
      discovery?: OAuthDiscoveryState;
    },
  ) {
    this.current = o.tokens;
    this.discovery = o.discovery;
  }

  get redirectUrl(): string {
    return this.o.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'Quorum', redirect_uris: [this.o.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };
  }

  state(): string {
    return this.o.state ?? randomBytes(32).toString('base64url');
  }

  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    if (this.client !== null) return this.client;
    const raw = await this.o.states.client(this.o.scope, this.o.connection);
    const found = raw === null ? null : registrationSchema.safeParse(parsedJson(raw));
    // A registration made for another redirect URI (PUBLIC_URL changed) is registered again.
    this.client = found?.success && found.data.redirectUrl === this.o.redirectUrl ? (found.data.client as OAuthClientInformationMixed) : undefined;
    return this.client;
  }

  async saveClientInformation(client: OAuthClientInformationMixed): Promise<void> {
    this.client = client;
    await this.o.states.saveClient(this.o.scope, this.o.connection, JSON.stringify({ redirectUrl: this.o.redirectUrl, client }));
  }

  tokens(): OAuthTokens | undefined {
    return this.current;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.o.codeVerifier) throw new Error('no code verifier for this sign-in');
    return this.o.codeVerifier;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }

  invalidateCredentials(what: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (what === 'all' || what === 'client') this.client = undefined;
    if (what === 'all' || what === 'tokens') this.current = undefined;
  }
}

const bad = (message: string): SignInOutcome => ({ status: 400, title: 'Not linked', message });
const NO_OAUTH_RECHECK_MS = 5 * 60_000;
const NO_OAUTH_KEPT = 1_000;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

type ProviderOptions = Partial<ConstructorParameters<typeof SignInProvider>[0]>;

interface Context {
  deps: McpOAuthDeps;
  now: () => Date;
  provider: (scope: Scope, connection: string, more?: ProviderOptions) => SignInProvider;
}

/** The callback's work: the state taken once, the code exchanged with its verifier (the SDK's auth()), the tokens sealed and audited. */
async function exchange(ctx: Context, query: URLSearchParams, serverOf: ServerOf): Promise<SignInOutcome> {
  const { deps, now, provider } = ctx;
  const state = query.get('state');
  if (!state || state.length > 512) return bad('This sign-in came back without its state, so Quorum cannot tell whose it is. Nothing was linked.');
  // Taken before anything else: whatever happens next, this state is spent.
  const pending = await deps.states.take(state, now());
  if (!pending) return bad('This sign-in link is not valid anymore: it was already used or it expired (a link works once, for 10 minutes). Nothing was linked; ask Quorum again for a new link.');
  const { connection } = pending;
  const error = query.get('error');
  if (error) return bad(`${connection} did not grant access (${error.replace(/[^\w .-]/g, '').slice(0, 60)}). Nothing was linked; ask Quorum again for a new link.`);
  const code = query.get('code');
  if (!code) return bad(`The sign-in to ${connection} came back without an authorization code. Nothing was linked.`);
  const kept = pendingSchema.safeParse(parsedJson(pending.payload));
  if (!kept.success) return bad('This sign-in cannot be completed. Nothing was linked; ask Quorum again for a new link.');
  const server = await serverOf(pending.scope, pending.workspace, connection);
  if (!server || server.url !== kept.data.serverUrl) return bad(`${connection} is no longer connected here, or its address changed. Nothing was linked.`);
  const discovery = kept.data.discovery as unknown as OAuthDiscoveryState;
  // RFC 9207: an authorization server that names itself must be the one this sign-in started with.
  const metadata = discovery.authorizationServerMetadata;
  const iss = query.get('iss');
  if ((iss !== null && iss !== metadata?.issuer) || (iss === null && (metadata as { authorization_response_iss_parameter_supported?: unknown } | undefined)?.authorization_response_iss_parameter_supported === true))
    return bad(`The sign-in came back from another authorization server than ${connection}'s. Nothing was linked.`);
  const p = provider(pending.scope, connection, { codeVerifier: kept.data.codeVerifier, discovery });
  try {
    const result = await auth(p, { serverUrl: server.url, authorizationCode: code, fetchFn: server.fetch });
    if (result !== 'AUTHORIZED' || !p.saved) throw new Error('no tokens');
  } catch (err) {
    deps.log.warn({ event: 'tools.oauth_exchange_failed', connection, err: problemOf(err) }, 'a sign-in code was not exchanged');
    return bad(`${connection} did not accept this sign-in. Nothing was linked; ask Quorum again for a new link.`);
  }
  const { replaced } = await deps.credentials.save(pending.scope, connection, pending.principalId, JSON.stringify({ tokens: p.saved }), 'oauth');
  await deps.audit.append(pending.scope, {
    action: 'command',
    outcome: 'ok',
    actorPrincipalId: pending.principalId,
    // Whether something was linked, and how: never a token.
    detail: { command: 'credentials.linked', connection, method: 'oauth', old: replaced ? 'linked' : 'none', new: 'linked' },
  });
  return { status: 200, title: 'Linked', message: `Your ${connection} account is linked to Quorum, for your own requests only. You can close this window and go back to the conversation.` };
}

export function createMcpOAuth(deps: McpOAuthDeps): McpOAuth {
  const redirectUrl = deps.publicUrl ? `${deps.publicUrl}${OAUTH_CALLBACK_PATH}` : null;
  const now = deps.now ?? (() => new Date());
  const refreshing = new Map<string, Promise<boolean>>();
  // Servers found without OAuth, not asked again for a while (every unlinked call would otherwise discover anew); bounded.
  const withoutOAuth = new Map<string, number>();
  /** Where a person's browser is sent: https, or plain http to loopback outside production. */
  const browsable = (url: URL) => url.protocol === 'https:' || (!deps.production && url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  const provider = (scope: Scope, connection: string, more: ProviderOptions = {}) =>
    new SignInProvider({ redirectUrl: redirectUrl!, states: deps.states, scope, connection, ...more });
  const ctx: Context = { deps, now, provider };

  async function signIn(scope: Scope, connection: string, principalId: string, server: ServerAccess): Promise<string | null> {
    if (!redirectUrl || (withoutOAuth.get(server.url) ?? 0) > now().getTime()) return null;
    try {
      const info = await discoverOAuthServerInfo(server.url, { fetchFn: server.fetch });
      // No authorization server metadata: the server does not offer MCP's authorization flow.
      if (!info.authorizationServerMetadata) {
        if (withoutOAuth.size >= NO_OAUTH_KEPT) withoutOAuth.delete(withoutOAuth.keys().next().value!);
        withoutOAuth.set(server.url, now().getTime() + NO_OAUTH_RECHECK_MS);
        return null;
      }
      const state = randomBytes(32).toString('base64url');
      const p = provider(scope, connection, { state, discovery: info });
      const result = await auth(p, { serverUrl: server.url, fetchFn: server.fetch });
      // A link button holds at most 3,000 characters (Slack's limit); a longer URL is not offered.
      if (result !== 'REDIRECT' || !p.authorizationUrl || !p.verifier || !browsable(p.authorizationUrl) || p.authorizationUrl.href.length > 3_000) return null;
      const payload = JSON.stringify({ serverUrl: server.url, codeVerifier: p.verifier, discovery: p.discovery ?? info });
      await deps.states.put({ scope, principalId, connection, payload, state, expiresAt: new Date(now().getTime() + SIGN_IN_TTL_MS) });
      return p.authorizationUrl.href;
    } catch (err) {
      deps.log.warn({ event: 'tools.oauth_unavailable', connection, err: problemOf(err) }, 'no sign-in link for a connection');
      return null;
    }
  }

  async function refreshOnce(scope: Scope, connection: string, principalId: string, server: ServerAccess, stale: string): Promise<boolean> {
    const stored = await deps.credentials.read(scope, connection, principalId);
    if (!stored || stored.kind !== 'oauth') return false;
    // Refreshed meanwhile (another call of theirs): the new token is the one to try.
    if (bearerOf(stored) !== stale) return bearerOf(stored) !== null;
    const link = oauthLinkSchema.safeParse(parsedJson(stored.secret));
    const tokens = link.success ? (link.data.tokens as OAuthTokens) : undefined;
    if (redirectUrl && tokens?.refresh_token) {
      const p = provider(scope, connection, { tokens });
      try {
        // With a refresh token, auth() refreshes; 'REDIRECT' means the refresh was refused.
        if ((await auth(p, { serverUrl: server.url, fetchFn: server.fetch })) === 'AUTHORIZED' && p.saved) {
          await deps.credentials.save(scope, connection, principalId, JSON.stringify({ tokens: p.saved }), 'oauth');
          return true;
        }
      } catch (err) {
        deps.log.warn({ event: 'tools.oauth_refresh_failed', connection, err: problemOf(err) }, 'an OAuth link was not refreshed');
      }
    }
    // Another instance may have refreshed it meanwhile (a rotated refresh token fails here then): theirs stands.
    const again = await deps.credentials.read(scope, connection, principalId);
    if (again && bearerOf(again) !== stale) return bearerOf(again) !== null;
    await deps.credentials.unlink(scope, connection, principalId);
    await deps.audit.append(scope, {
      action: 'command',
      outcome: 'ok',
      actorPrincipalId: principalId,
      detail: { command: 'credentials.unlinked', connection, method: 'oauth', reason: 'refresh_failed', old: 'linked', new: 'none' },
    });
    return false;
  }

  return {
    signIn,
    complete: (query, serverOf) => exchange(ctx, query, serverOf),
    refresh(scope, connection, principalId, server, stale) {
      // One refresh per link at a time in this process: a second 401 waits for the first refresh.
      const key = `${scope.workspaceId}/${connection}/${principalId}`;
      let running = refreshing.get(key);
      if (!running) {
        running = refreshOnce(scope, connection, principalId, server, stale).finally(() => refreshing.delete(key));
        refreshing.set(key, running);
      }
      return running;
    },
  };
}

/** Whether a failure is the server refusing the call's credentials (HTTP 401 from the Streamable HTTP or SSE transport). */
export function isUnauthorized(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 401) return true;
  }
  return false;
}

/** A server refused the credentials of a call (not an outage: the breaker does not count it). */
export class Unauthorized extends Error {}
