/**
 * Development conveniences (the console, Teams without authentication) are for the machine they run
 * on. This module says which addresses are loopback, and wraps routes so that a request reaches them
 * only under a loopback name (`Host`, against DNS rebinding) and, when it changes anything, only
 * from a loopback page or from no page at all (`Origin`, `Sec-Fetch-Site`, against cross-site posts).
 */
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { sendJson, type Route } from './server.js';

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.', 'ip6-localhost', 'ip6-loopback']);

/** Whether a listen address (HOST) or a host name is the loopback interface. `0.0.0.0` and `::` are every interface. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (LOOPBACK_NAMES.has(h)) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** The name part of a Host header (`[::1]:3000` → `::1`), or null when it is not a plain host[:port]. */
export function hostOfHeader(value: string | undefined): string | null {
  if (!value) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/.exec(value.trim());
  return m ? m[1]!.replace(/^\[(.*)\]$/, '$1') : null;
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Why a request may not reach a loopback-only route, or null when it may. */
export function loopbackRefusal(req: IncomingMessage): string | null {
  const host = hostOfHeader(req.headers.host);
  if (!host || !isLoopbackAddress(host)) return 'this endpoint answers only under a loopback name (localhost, 127.0.0.1, [::1])';
  if (!CHANGES.has(req.method ?? 'GET')) return null;
  // Browsers send Sec-Fetch-Site and Origin with every POST; curl and scripts send neither.
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return 'cross-site requests are refused';
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  // Same origin only: the page must have come from this very host and port.
  try {
    const url = new URL(origin);
    const ok = (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === String(req.headers.host).toLowerCase();
    return ok ? null : 'cross-site requests are refused';
  } catch {
    return 'cross-site requests are refused';
  }
}

/** The same route, answering 403 with the reason to a request that is not local. */
export function loopbackOnly(route: Route): Route {
  return {
    ...route,
    handler: (req, res) => {
      const refusal = loopbackRefusal(req);
      if (refusal) {
        req.resume();
        sendJson(res, 403, { error: refusal });
        return;
      }
      return route.handler(req, res);
    },
  };
}
