/**
 * The one HTTP server: platform routes (mounted by adapters), the console, health and metrics.
 * Plain node:http, because Bolt's receiver and botbuilder both want the raw request and response.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../core/ports.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Exact path, or a prefix ending in `*`. */
  path: string;
  handler: Handler;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** Reads the raw body with a size limit (1 MiB by default). */
export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage, limit?: number): Promise<unknown> {
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

export interface HttpServer {
  server: Server;
  listen(port: number, host: string): Promise<{ port: number }>;
  /** Stops accepting connections; open requests finish. */
  close(): Promise<void>;
}

/**
 * How long a client may take. Node's own defaults (60 s for headers, 5 min for a request, checked
 * every 30 s) let a client that trickles bytes hold a connection for minutes; a handful of those
 * exhausts sockets. Slack and Teams send a whole request at once, so seconds are plenty.
 * A load balancer in front should close idle connections before keepAliveMs does.
 */
export interface HttpTimeouts {
  /** Whole header block received (from the first byte). */
  headersMs: number;
  /** Whole request, body included. */
  requestMs: number;
  /** Idle keep-alive connection between requests. */
  keepAliveMs: number;
  /** How often Node checks the two above (its default is 30 s). */
  checkEveryMs: number;
}

export const HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 20_000, checkEveryMs: 1_000 };

export function createHttpServer(routes: Route[], log: Logger, timeouts: HttpTimeouts = HTTP_TIMEOUTS): HttpServer {
  const options = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: timeouts.checkEveryMs,
  };
  const server = createServer(options, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.find(
      (r) => r.method === req.method && (r.path === path || (r.path.endsWith('*') && path.startsWith(r.path.slice(0, -1)))),
    );
    if (!route) {
      const known = routes.some((r) => r.path === path);
      sendJson(res, known ? 405 : 404, { error: known ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve()
      .then(() => route.handler(req, res))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          sendJson(res, err.status, { error: err.message });
          return;
        }
        log.error({ event: 'http.unhandled', path, err: (err as Error)?.message }, 'request failed');
        sendJson(res, 500, { error: 'internal error' });
      });
  });
  server.keepAliveTimeout = timeouts.keepAliveMs;
  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address();
          resolve({ port: typeof address === 'object' && address ? address.port : port });
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** /healthz: the process is up. /readyz: every dependency answers (the database, Redis when configured). */
export function healthRoutes(checks: ReadinessCheck[], isShuttingDown: () => boolean): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: async (_req, res) => {
        const results: Record<string, string> = {};
        await Promise.all(
          checks.map(async (c) => {
            try {
              await withTimeout(c.check(), 2_000);
              results[c.name] = 'ok';
            } catch {
              results[c.name] = 'unavailable';
            }
          }),
        );
        const ready = !isShuttingDown() && Object.values(results).every((v) => v === 'ok');
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : isShuttingDown() ? 'shutting down' : 'not ready', checks: results });
      },
    },
  ];
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** One line for the listen errors an operator causes (a port taken, a privileged port, a wrong HOST) instead of a stack trace. */
export function listenFailure(err: unknown, host: string, port: number): string | null {
  const where = `${host}:${port}`;
  switch ((err as NodeJS.ErrnoException | null)?.code) {
    case 'EADDRINUSE':
      return `Cannot listen on ${where}: the port is already in use (another Quorum?). Stop that process or set PORT to a free port.`;
    case 'EACCES':
      return `Cannot listen on ${where}: permission denied (ports below 1024 need privileges). Set PORT to 1024 or above.`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${where}: HOST is not an address of this machine. Set HOST (e.g. 127.0.0.1, or 0.0.0.0 for all interfaces).`;
    default:
      return null;
  }
}
