/**
 * The botbuilder CloudAdapter with its authentication. Every botbuilder import of Quorum lives
 * in adapters/teams (the Bot Framework SDK is archived; its successor @microsoft/agents-hosting
 * has the same CloudAdapter shape, so moving is a change of this folder).
 */
import {
  type Activity,
  CloudAdapter,
  type TurnContext,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  ConfigurationServiceClientCredentialFactory,
} from 'botbuilder';
import type { GraphAccess } from './graph-files.js';
import type { ConnectorClientOptions, ServiceClientCredentialsFactory } from 'botframework-connector';
import { QuorumError } from '../../src/core/errors.js';
import { guardedCredentials, serviceUrlCheck, type ServiceUrlCheck } from './service-url.js';

export interface TeamsApp {
  appId?: string | undefined;
  password?: string | undefined;
  tenantId?: string | undefined;
  appType: 'SingleTenant' | 'MultiTenant' | 'UserAssignedMSI';
  production: boolean;
  /** MICROSOFT_SERVICE_URL_HOSTS: where activities may point and the token may go. */
  serviceUrlHosts: readonly string[];
}

/** What tests (or a sovereign cloud) replace: the OpenID metadata URLs and the outbound credentials. */
export interface TeamsAuthOverrides {
  /**
   * ToChannelFromBotLoginUrl, ToChannelFromBotOAuthScope, ToBotFromChannelTokenIssuer, OAuthUrl,
   * ToBotFromChannelOpenIdMetadataUrl, ToBotFromEmulatorOpenIdMetadataUrl, CallerId: once any is
   * set botbuilder uses only the given values, so pass them all together.
   */
  settings?: Partial<ConfigurationBotFrameworkAuthenticationOptions>;
  credentialsFactory?: ServiceClientCredentialsFactory;
  connectorClientOptions?: ConnectorClientOptions;
  /** Microsoft Graph for files shared in channels; null: not read. Default: through the app's own credentials. */
  graph?: GraphAccess | null;
}

/**
 * The connector client's default retry policy honours 429 + Retry-After (wanted) but also resends
 * after a 5xx or a dropped connection, when the activity may already be posted: a reply sent
 * twice. This inner policy turns those into plain errors that the retry policy does not retry.
 */
type ConnectorResponse = { status: number; headers?: { get?(name: string): string | undefined } };

const noAmbiguousRetries = {
  create: (next: { sendRequest(r: unknown): Promise<ConnectorResponse> }) => ({
    async sendRequest(request: unknown) {
      let response: ConnectorResponse;
      try {
        response = await next.sendRequest(request);
      } catch (err) {
        throw new QuorumError('REPLY_FAILED', 'Bot Connector request failed', { cause: err });
      }
      const throttled = response.status === 503 && Boolean(response.headers?.get?.('retry-after'));
      if (response.status >= 500 && !throttled) {
        throw Object.assign(new QuorumError('REPLY_FAILED', `Bot Connector answered ${response.status}`), { statusCode: response.status });
      }
      return response;
    },
  }),
};

export function authEnabled(app: TeamsApp): boolean {
  return Boolean(app.appId);
}

/** CloudAdapter with its verification step reachable without process() (see index.ts). */
export class QuorumCloudAdapter extends CloudAdapter {
  constructor(
    private readonly authentication: ConfigurationBotFrameworkAuthentication,
    /** Whether an activity's serviceUrl may be called (and sent the token). */
    readonly serviceUrlAllowed: ServiceUrlCheck,
  ) {
    super(authentication);
  }

  /**
   * The same verification as a turn, without building the turn's connector and user-token
   * clients (about 1.5 ms of CPU per request): enough for activities that are only queued.
   */
  async verify(authHeader: string, activity: Activity): Promise<void> {
    refuseExpired(authHeader);
    await this.authentication.authenticateRequest(activity, authHeader);
  }

  /** Verifies the token (when auth is on) and runs `logic` in a turn; throws on a bad token. */
  verifyAndRun(authHeader: string, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    refuseExpired(authHeader);
    return this.processActivity(authHeader, activity, logic);
  }
}

/** botbuilder's clock tolerance for Bot Framework tokens (channelValidation: 5 minutes). */
const CLOCK_TOLERANCE_S = 5 * 60;

/**
 * botbuilder writes an expired token's whole stack trace to stderr (console.error) before it
 * refuses it, outside the structured log. Tokens it would refuse for that reason are refused here
 * first, by the same rule (exp plus its tolerance), with the same 401. Nothing else is decided here.
 */
function refuseExpired(authHeader: string): void {
  const payload = authHeader.startsWith('Bearer ') ? authHeader.slice(7).split('.')[1] : undefined;
  if (!payload) return;
  let exp: unknown;
  try {
    exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
  } catch {
    return; // malformed: botbuilder refuses it
  }
  if (typeof exp === 'number' && exp + CLOCK_TOLERANCE_S < Date.now() / 1000) {
    throw Object.assign(new Error('The token has expired'), { name: 'TokenExpiredError', statusCode: 401 });
  }
}

export function createCloudAdapter(app: TeamsApp, overrides: TeamsAuthOverrides = {}): QuorumCloudAdapter {
  if (!authEnabled(app) && app.production) {
    throw new QuorumError('CONFIG_INVALID', 'MICROSOFT_APP_ID is required for Teams in production: without it requests are not verified');
  }
  const options: ConfigurationBotFrameworkAuthenticationOptions = {
    ...(app.appId
      ? {
          MicrosoftAppId: app.appId,
          MicrosoftAppPassword: app.password,
          MicrosoftAppType: app.appType,
          MicrosoftAppTenantId: app.tenantId,
        }
      : {}),
    ...overrides.settings,
  };
  // Auth off is served on loopback only: the Emulator's local serviceUrl is fine there.
  const serviceUrlAllowed = serviceUrlCheck(app.serviceUrlHosts, { loopbackToo: !authEnabled(app) });
  const credentials = overrides.credentialsFactory ?? new ConfigurationServiceClientCredentialFactory(options as never);
  const auth = new ConfigurationBotFrameworkAuthentication(
    options,
    guardedCredentials(credentials, serviceUrlAllowed),
    undefined,
    undefined,
    { requestPolicyFactories: [noAmbiguousRetries], ...overrides.connectorClientOptions } as ConnectorClientOptions,
  );
  return new QuorumCloudAdapter(auth, serviceUrlAllowed);
}

/** jsonwebtoken's errors (forged signature, HS256, alg none, malformed) and botbuilder's AuthenticationError. */
export function isAuthFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'JsonWebTokenError' ||
    err.name === 'TokenExpiredError' ||
    err.name === 'NotBeforeError' ||
    err.name === 'AuthenticationError' ||
    (err as { statusCode?: number }).statusCode === 401
  );
}
