/**
 * Where Quorum may call the Bot Connector. An activity's `serviceUrl` says where to answer, and the
 * answer carries the bot's token: a serviceUrl of the sender's choosing would get that token and
 * make Quorum call any URL. Only hosts matching the allow-list (MICROSOFT_SERVICE_URL_HOSTS) are
 * accepted, when an activity comes in and again when a request is signed.
 */
import type { ServiceClientCredentialsFactory } from 'botframework-connector';
import { QuorumError } from '../../src/core/errors.js';
import { isLoopbackAddress } from '../../src/http/loopback.js';

export type ServiceUrlCheck = (serviceUrl: string) => boolean;

/** `host` matches exactly; `*.domain` matches any name below domain (not domain itself). Ports are not part of a pattern. */
export function hostMatches(hostname: string, pattern: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const p = pattern.trim().toLowerCase();
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return host === p;
}

/**
 * https to an allowed host. Plain http only to a loopback host that is itself allowed (a local fake,
 * the Bot Framework Emulator). `loopbackToo` admits loopback hosts without listing them (Teams
 * without authentication, which is itself served on loopback only).
 */
export function serviceUrlCheck(patterns: readonly string[], options: { loopbackToo?: boolean } = {}): ServiceUrlCheck {
  return (serviceUrl) => {
    let url: URL;
    try {
      url = new URL(serviceUrl);
    } catch {
      return false;
    }
    if (url.username || url.password) return false;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const loopback = isLoopbackAddress(host);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return false;
    if (options.loopbackToo && loopback) return true;
    return patterns.some((p) => hostMatches(host, p));
  };
}

/**
 * The same credentials, refusing to sign (so to send the token with) a request to a URL outside
 * the allow-list: the last line if a stored reference or a library ever points elsewhere.
 */
export function guardedCredentials(inner: ServiceClientCredentialsFactory, allowed: ServiceUrlCheck): ServiceClientCredentialsFactory {
  return {
    isValidAppId: (appId: string) => inner.isValidAppId(appId),
    isAuthenticationDisabled: () => inner.isAuthenticationDisabled(),
    async createCredentials(appId: string, audience: string | undefined, loginEndpoint: string, validateAuthority: boolean) {
      const credentials = await inner.createCredentials(appId, audience, loginEndpoint, validateAuthority);
      return {
        signRequest: async (request: { url: string }) => {
          if (!allowed(request.url)) {
            throw new QuorumError('REPLY_FAILED', 'refused to send the bot token to a service URL outside MICROSOFT_SERVICE_URL_HOSTS');
          }
          return credentials.signRequest(request as never);
        },
      };
    },
  } as unknown as ServiceClientCredentialsFactory;
}
