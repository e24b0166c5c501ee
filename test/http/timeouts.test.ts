/**
 * The HTTP server closes connections that trickle or idle: a real socket sends a byte at a time
 * and must see the server hang up (408 or a close), never hold the connection open.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, HTTP_TIMEOUTS, readBody, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { drivers } from '../support/db.js';
import { useTestApp } from '../support/app.js';

const log = createLogger('silent');

/** Writes `chunks` one every `everyMs` until the server closes; resolves with what it answered. */
function trickle(port: number, chunks: string[], everyMs: number, limitMs: number): Promise<{ closed: boolean; answer: string; sent: number }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const give = setTimeout(() => finish(false), limitMs);
    const finish = (closed: boolean) => {
      clearTimeout(give);
      clearInterval(timer);
      socket.destroy();
      resolve({ closed, answer, sent });
    };
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      timer = setInterval(() => {
        // Bounded: after the last chunk the socket just waits for the server.
        if (sent < chunks.length && !socket.destroyed) socket.write(chunks[sent++]!);
      }, everyMs);
    });
  });
}

const headerBytes = (n: number) => ['GET /healthz HTTP/1.1\r\n', 'Host: 127.0.0.1\r\n', ...Array.from({ length: n }, (_, i) => `X-Slow-${i}: ${'a'.repeat(8)}\r\n`)];

describe('HTTP server timeouts', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    server?.server.closeAllConnections();
    await server?.close();
    server = undefined;
  });

  const start = async () => {
    server = createHttpServer(
      [{ method: 'POST', path: '/echo', handler: async (req, res) => void res.writeHead(200).end(`read ${(await readBody(req)).length}`) }, { method: 'GET', path: '/healthz', handler: (_q, r) => void r.writeHead(200).end('ok') }],
      log,
      { headersMs: 400, requestMs: 800, keepAliveMs: 300, checkEveryMs: 50 },
    );
    return (await server.listen(0, '127.0.0.1')).port;
  };

  it('defaults are each well under a minute', () => {
    expect(HTTP_TIMEOUTS.headersMs).toBeLessThanOrEqual(15_000);
    expect(HTTP_TIMEOUTS.requestMs).toBeLessThanOrEqual(30_000);
    expect(HTTP_TIMEOUTS.keepAliveMs).toBeLessThanOrEqual(30_000);
    expect(HTTP_TIMEOUTS.checkEveryMs).toBeLessThanOrEqual(HTTP_TIMEOUTS.headersMs);
  });

  it('closes a connection whose headers trickle in', async () => {
    const port = await start();
    // 2,000 header lines, one every 20 ms, would take 40 s to send: the server must give up first.
    const result = await trickle(port, headerBytes(2_000), 20, 20_000);
    expect(result.closed).toBe(true);
    expect(result.sent).toBeLessThan(2_002);
    expect(result.answer === '' || result.answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('closes a connection whose body trickles in', async () => {
    const port = await start();
    const head = 'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n';
    const result = await trickle(port, [head, ...Array.from({ length: 2_000 }, () => 'x')], 20, 20_000);
    expect(result.closed).toBe(true);
    expect(result.sent).toBeLessThan(2_001);
    expect(result.answer).not.toContain('200 OK');
  });

  it('closes an idle keep-alive connection', async () => {
    const port = await start();
    const result = await trickle(port, ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], 10, 20_000);
    expect(result.closed).toBe(true);
    expect(result.answer).toContain('200 OK');
  });
});

describe.each(drivers)('the running service closes trickling connections (%s)', (driver) => {
  const t = useTestApp(driver);

  it('hangs up on headers that never end, within its headers timeout', async () => {
    const port = Number(new URL(t.app.baseUrl).port);
    // One header line every 50 ms for up to 45 s: Node's defaults (60 s) would keep it open throughout.
    const result = await trickle(port, headerBytes(900), 50, 45_000);
    expect(result.closed).toBe(true);
    expect(result.sent).toBeLessThan(902);
  }, 60_000);
});
