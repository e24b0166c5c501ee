/**
 * A real MCP server behind MCP's authorization flow, for tests, on 127.0.0.1: the SDK's server
 * classes (McpServer over Streamable HTTP, stateless) behind the SDK's server-side auth
 * (`mcpAuthRouter`: protected-resource and authorization-server metadata, dynamic client
 * registration, /authorize, /token with PKCE checked; `requireBearerAuth` on /mcp), with an
 * in-memory authorization server that approves at once as `approveAs` (the person at the browser)
 * and redirects to the client's callback. Every tool call is recorded with the token and the
 * subject that came with it; a personal access token can be accepted too.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Response } from 'express';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import { InvalidGrantError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

interface Grant {
  subject: string;
  clientId: string;
}

/** The authorization server's side, in memory: clients, codes, access and refresh tokens. */
export class InMemoryOAuthProvider implements OAuthServerProvider {
  readonly clients = new Map<string, OAuthClientInformationFull>();
  private readonly codes = new Map<string, { clientId: string; params: AuthorizationParams; subject: string }>();
  private readonly access = new Map<string, Grant & { expiresAt: number }>();
  private readonly refreshTokens = new Map<string, Grant>();
  /** Personal access tokens the server also accepts, by subject. */
  readonly personal = new Map<string, string>();
  /** Who the next authorization approves: the person at the browser. */
  approveAs = 'nobody';
  /** Set: the next authorization is refused with this OAuth error instead. */
  denyWith: string | null = null;
  exchanges = 0;
  refreshes = 0;

  get clientsStore(): OAuthRegisteredClientsStore {
    return {
      getClient: (id) => this.clients.get(id),
      registerClient: (client) => {
        const full = client as OAuthClientInformationFull;
        this.clients.set(full.client_id, full);
        return full;
      },
    };
  }

  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    const target = new URL(params.redirectUri);
    if (params.state !== undefined) target.searchParams.set('state', params.state);
    if (this.denyWith) {
      target.searchParams.set('error', this.denyWith);
      this.denyWith = null;
    } else {
      const code = randomUUID();
      this.codes.set(code, { clientId: client.client_id, params, subject: this.approveAs });
      target.searchParams.set('code', code);
    }
    res.redirect(target.href);
  }

  async challengeForAuthorizationCode(_client: OAuthClientInformationFull, code: string): Promise<string> {
    const found = this.codes.get(code);
    if (!found) throw new InvalidGrantError('unknown authorization code');
    return found.params.codeChallenge;
  }

  async exchangeAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<OAuthTokens> {
    const found = this.codes.get(code);
    if (!found || found.clientId !== client.client_id) throw new InvalidGrantError('unknown authorization code');
    this.codes.delete(code);
    this.exchanges++;
    return this.issue({ subject: found.subject, clientId: client.client_id });
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string): Promise<OAuthTokens> {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== client.client_id) throw new InvalidGrantError('refresh token is not valid');
    // Rotated: a refresh token works once.
    this.refreshTokens.delete(refreshToken);
    this.refreshes++;
    return this.issue(grant);
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const subject = this.personal.get(token);
    if (subject) return { token, clientId: 'personal', scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600, extra: { subject } };
    const grant = this.access.get(token);
    if (!grant || grant.expiresAt < Date.now()) throw new InvalidTokenError('token is not valid');
    return { token, clientId: grant.clientId, scopes: [], expiresAt: Math.floor(grant.expiresAt / 1000), extra: { subject: grant.subject } };
  }

  /** Every access token issued so far stops working (they expired). */
  expireAccessTokens(): void {
    for (const grant of this.access.values()) grant.expiresAt = 0;
  }

  /** Every refresh token stops working (revoked at the authorization server). */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  private issue(grant: Grant): OAuthTokens {
    const accessToken = `at-${grant.subject}-${randomUUID()}`;
    const refreshToken = `rt-${grant.subject}-${randomUUID()}`;
    this.access.set(accessToken, { ...grant, expiresAt: Date.now() + 3_600_000 });
    this.refreshTokens.set(refreshToken, grant);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, refresh_token: refreshToken };
  }
}

export interface RecordedOAuthCall {
  tool: string;
  token: string;
  subject: string;
}

export class FakeOAuthMcpServer {
  readonly provider = new InMemoryOAuthProvider();
  readonly calls: RecordedOAuthCall[] = [];
  /** Requests to /mcp, answered or refused (401). */
  requests = 0;
  private http: Server | null = null;
  base = '';
  url = '';

  async start(): Promise<this> {
    const app = express();
    this.http = createServer(app);
    await new Promise<void>((resolve) => this.http!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
    this.url = `${this.base}/mcp`;
    const resource = new URL(this.url);
    app.use(
      mcpAuthRouter({
        provider: this.provider,
        issuerUrl: new URL(this.base),
        resourceServerUrl: resource,
        authorizationOptions: { rateLimit: false },
        clientRegistrationOptions: { rateLimit: false },
        tokenOptions: { rateLimit: false },
      }),
    );
    const bearer = requireBearerAuth({ verifier: this.provider, resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resource) });
    app.all('/mcp', (_req, _res, next) => {
      this.requests++;
      next();
    });
    app.post('/mcp', bearer, express.json(), async (req, res) => {
      const mcp = new McpServer({ name: 'tix', version: '1.0.0' });
      mcp.registerTool('whoami', { description: 'Who the server thinks you are', annotations: { readOnlyHint: true } }, async (extra) => {
        const subject = String(extra.authInfo?.extra?.subject ?? 'anonymous');
        this.calls.push({ tool: 'whoami', token: extra.authInfo?.token ?? '', subject });
        return { content: [{ type: 'text', text: `you are ${subject}` }] };
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close());
      await mcp.connect(transport);
      await transport.handleRequest(req, res, req.body);
    });
    app.get('/mcp', bearer, (_req, res) => void res.status(405).end());
    app.delete('/mcp', (_req, res) => void res.status(405).end());
    return this;
  }

  subjects(): string[] {
    return this.calls.map((c) => c.subject);
  }

  async stop(): Promise<void> {
    this.http?.closeAllConnections();
    await new Promise((r) => (this.http ? this.http.close(r) : r(null)));
  }
}
