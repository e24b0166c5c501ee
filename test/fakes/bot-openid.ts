/**
 * A local Bot Framework token issuer: OpenID metadata and a JWKS on 127.0.0.1, and tokens minted
 * with node:crypto (RS256 like the real channel, plus the bad kinds: HS256, alg none, forged).
 */
import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { TeamsAuthOverrides } from '../../adapters/teams/index.js';

type ServiceClientCredentialsFactory = NonNullable<TeamsAuthOverrides['credentialsFactory']>;

export const ISSUER = 'https://api.botframework.com';
export const OUTBOUND_TOKEN = 'quorum-test-outbound-token';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export interface TokenOptions {
  aud?: string;
  iss?: string;
  serviceUrl: string;
  /** seconds from now */
  expiresIn?: number;
  kid?: string;
  alg?: 'RS256' | 'HS256' | 'none';
  /** sign with a key the JWKS does not hold, under a known kid */
  forged?: boolean;
}

export class FakeBotIdentity {
  readonly kid = 'quorum-test-key';
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private server: Server | undefined;
  url = '';

  constructor(readonly appId: string) {}

  async start(): Promise<void> {
    const jwk = this.keys.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    this.server = createServer((req, res) => {
      const send = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/openid') {
        return send({ issuer: ISSUER, jwks_uri: `${this.url}/keys`, id_token_signing_alg_values_supported: ['RS256'] });
      }
      if (req.url === '/keys') {
        return send({ keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, n: jwk.n, e: jwk.e, endorsements: ['msteams'] }] });
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** All the settings ConfigurationBotFrameworkAuthentication needs to use only local endpoints. */
  settings() {
    return {
      ToChannelFromBotLoginUrl: `${this.url}/login`,
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      ToBotFromChannelTokenIssuer: ISSUER,
      OAuthUrl: `${this.url}/oauth`,
      ToBotFromChannelOpenIdMetadataUrl: `${this.url}/openid`,
      ToBotFromEmulatorOpenIdMetadataUrl: `${this.url}/openid`,
      CallerId: 'urn:botframework:azure',
    };
  }

  /** Outbound credentials: every connector call carries OUTBOUND_TOKEN, no login server needed. */
  credentialsFactory(): ServiceClientCredentialsFactory {
    const appId = this.appId;
    return {
      isValidAppId: async (id: string) => id === appId,
      isAuthenticationDisabled: async () => false,
      createCredentials: async () => ({
        signRequest: async (request: { headers: { set(name: string, value: string): void } }) => {
          request.headers.set('authorization', `Bearer ${OUTBOUND_TOKEN}`);
          return request;
        },
      }),
    } as unknown as ServiceClientCredentialsFactory;
  }

  token(options: TokenOptions): string {
    const now = Math.floor(Date.now() / 1000);
    const alg = options.alg ?? 'RS256';
    const header = { alg, typ: 'JWT', ...(alg === 'none' ? {} : { kid: options.kid ?? this.kid }) };
    const payload = {
      iss: options.iss ?? ISSUER,
      aud: options.aud ?? this.appId,
      serviceurl: options.serviceUrl,
      nbf: now - 60,
      iat: now - 60,
      exp: now + (options.expiresIn ?? 3600),
    };
    const input = `${b64(header)}.${b64(payload)}`;
    if (alg === 'none') return `${input}.`;
    if (alg === 'HS256') {
      // The classic confusion attack: HMAC keyed with the public key.
      const key = this.keys.publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
    }
    const signer = createSign('RSA-SHA256');
    signer.update(input);
    const key: KeyObject = options.forged ? this.other.privateKey : this.keys.privateKey;
    return `${input}.${signer.sign(key).toString('base64url')}`;
  }
}
