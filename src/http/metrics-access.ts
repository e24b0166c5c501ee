/**
 * Who may read /metrics. The operator chooses: a bearer token (METRICS_TOKEN), a listener of its
 * own (METRICS_PORT on METRICS_HOST, loopback by default), or both. In production on a public
 * address with neither, /metrics is not served at all, and the start-up log says what to set.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../core/ports.js';
import { isLoopbackAddress } from './loopback.js';
import { createHttpServer, sendJson, type HttpServer, type Route } from './server.js';

export interface MetricsAccess {
  token: string | undefined;
  port: number | undefined;
  host: string;
  /** The main listener's address, and whether this is production. */
  mainHost: string;
  production: boolean;
}

const digest = (v: string) => createHash('sha256').update(v).digest();

/** The route answering 401 unless `Authorization: Bearer <token>` (compared in constant time). */
export function bearerOnly(route: Route, token: string): Route {
  const expected = digest(token);
  return {
    ...route,
    handler: (req, res) => {
      const header = req.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!given || !timingSafeEqual(digest(given), expected)) {
        sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
        return;
      }
      return route.handler(req, res);
    },
  };
}

/** Routes for the main listener, and a separate metrics listener when METRICS_PORT is set. */
export function metricsExposure(access: MetricsAccess, route: Route, log: Logger): { routes: Route[]; listen(): Promise<HttpServer | null> } {
  const guarded = access.token ? bearerOnly(route, access.token) : route;
  if (access.port !== undefined) {
    return {
      routes: [],
      async listen() {
        const server = createHttpServer([guarded], log);
        await server.listen(access.port!, access.host);
        return server;
      },
    };
  }
  if (!access.token && access.production && !isLoopbackAddress(access.mainHost)) {
    log.warn(
      { event: 'metrics.off' },
      '/metrics is not served: Quorum listens on a public address in production. Set METRICS_TOKEN (bearer token) or METRICS_PORT (a listener of its own)',
    );
    return { routes: [], listen: async () => null };
  }
  return { routes: [guarded], listen: async () => null };
}
