/**
 * What protects Quorum and its users from connected servers: SSRF-shaped URLs refused (the
 * address actually connected to is checked), a slow server stopped at TOOL_TIMEOUT_MS, a 1 MB
 * answer cut with a note, a server that is down answered with a clear message and then not called
 * (breaker), a bad tools file stopping start-up with a message naming the entry, and a stdio
 * server from the operator's file.
 */
import { createServer } from 'node:http';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatUrlProblem, guardedFetch, isPrivateAddress } from '../../src/tools/network-guard.js';
import { FakeMcpServer } from '../fakes/mcp-server.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';
import { toolScript } from '../support/tool-script.js';

describe('addresses a chat connection may reach', () => {
  it('classifies loopback, private, link-local and mapped addresses as private', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', '[::1]', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0', '100.64.0.1'])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('wants https; plain http only to loopback outside production; no credentials in URLs', () => {
    expect(chatUrlProblem('https://mcp.example.com/x', true)).toBeNull();
    expect(chatUrlProblem('http://127.0.0.1:9/x', false)).toBeNull();
    expect(chatUrlProblem('http://127.0.0.1:9/x', true)).toMatch(/https/);
    expect(chatUrlProblem('http://mcp.example.com/x', false)).toMatch(/https/);
    expect(chatUrlProblem('ftp://x', false)).toMatch(/https/);
    expect(chatUrlProblem('https://u:p@mcp.example.com', false)).toMatch(/credentials/);
  });

  it('refuses the socket when the connected address is private, whatever name led there', async () => {
    const http = createServer((_, res) => res.end('ok'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const guarded = guardedFetch({ allowPrivate: false, connectTimeoutMs: 2_000 });
    const open = guardedFetch({ allowPrivate: true, connectTimeoutMs: 2_000 });
    try {
      // 'localhost' is a name that resolves to loopback: refused like the literal addresses.
      for (const host of ['127.0.0.1', 'localhost', '[::1]'])
        await expect(guarded.fetch(`http://${host}:${port}/`), host).rejects.toThrow();
      expect(await (await open.fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    } finally {
      await guarded.close();
      await open.close();
      http.close();
    }
  });
});

describe('a slow, huge, down or refused server (pglite)', () => {
  let db: TestDatabase;
  let app: TestApp;
  let server: FakeMcpServer;
  const gate = toolScript(() => ({ toolName: `srv.${tool}`, input: { query: 'x' } }));
  let tool = 'slow';
  const { say, command } = consoleSpeaker(() => app);
  const dir = mkdtempSync(join(tmpdir(), 'quorum-tools-'));

  beforeAll(async () => {
    server = await new FakeMcpServer([
      { name: 'slow', run: async () => ({ content: [{ type: 'text', text: 'late' }] }) },
      { name: 'huge', run: () => ({ content: [{ type: 'text', text: 'A'.repeat(1_000_000) + 'TAIL' }] }) },
      { name: 'fine' },
    ]).start();
    const file = join(dir, 'tools.json');
    writeFileSync(
      file,
      JSON.stringify({
        connections: [
          { name: 'srv', url: server.url, allow: [{ channel: '*', pattern: 'srv.*' }] },
          { name: 'local', command: process.execPath, args: ['--import', 'tsx', join(import.meta.dirname, '../fakes/mcp-stdio-server.ts')], allow: [{ channel: 'general', pattern: 'local.echo' }] },
        ],
      }),
    );
    db = await openTestDatabase('pglite');
    app = await startTestApp(db, { model: gate, env: { QUORUM_TOOLS_FILE: file, TOOL_TIMEOUT_MS: '1500', TOOL_OUTPUT_MAX_CHARS: '2000' } });
  });
  afterAll(async () => {
    await app?.stop();
    await server?.stop();
    await db?.close();
  });

  it('a stdio server from the operator file answers', async () => {
    tool = 'x';
    const g = toolScript(() => ({ toolName: 'local.echo', input: { query: 'hello stdio' } }));
    gate.script = g.script;
    const reply = await say('cleo', 'echo please');
    expect(reply.text).toContain('stdio echo: hello stdio');
  }, 60_000);

  it('a slow call is stopped at TOOL_TIMEOUT_MS with a clear message', async () => {
    gate.script = toolScript(() => ({ toolName: 'srv.slow', input: {} })).script;
    server.delayMs = 5_000;
    const reply = await say('cleo', 'go');
    expect(reply.text).toContain('srv.slow did not answer within 2 s, so it was stopped.');
    server.delayMs = 0;
  });

  it('1 MB of output is cut to TOOL_OUTPUT_MAX_CHARS with a note', async () => {
    gate.script = toolScript(() => ({ toolName: 'srv.huge', input: {} })).script;
    const reply = await say('cleo', 'go');
    expect(reply.text).toContain('(Output cut: the tool returned 1000004 characters; the first 2000 are shown.)');
    expect(reply.text).not.toContain('TAIL');
  });

  it('a server that is down gets a clear message; after a few failures the breaker stops calling it', async () => {
    gate.script = toolScript(() => ({ toolName: 'srv.fine', input: {} })).script;
    server.down = true;
    const first = await say('cleo', 'go');
    expect(first.text).toContain('srv.fine could not be reached: the srv server is not answering.');
    await say('cleo', 'go');
    await say('cleo', 'go');
    const open = await say('cleo', 'go');
    expect(open.text).toContain('the srv server is not answering right now, so Quorum is not calling it for a while');
    server.down = false;
  });

  it('chat cannot add a private address while TOOLS_ALLOW_PRIVATE_NETWORKS is off, nor shadow the file', async () => {
    for (const url of ['http://127.0.0.1:1/mcp', `${server.url}`, 'https://10.0.0.1/mcp', 'https://169.254.169.254/mcp', 'https://[::1]/mcp', 'https://localhost/mcp'])
      expect(await command('ava', `/agent connect evil ${url}`), url).toMatch(/^Not connected/);
    expect(await command('ava', `/agent connect srv https://example.com/mcp`)).toContain('the operator declared');
    expect(await command('ava', '/agent connections')).not.toContain('evil');
  });
});

describe('a bad tools file stops start-up, naming the entry', () => {
  it.each([
    [{ connections: [{ name: 'ok', url: 'https://a.example.com' }, { name: 'Bad Name', url: 'https://b.example.com' }] }, 'connections[1] ("Bad Name"): name'],
    [{ connections: [{ name: 'x', command: '' }] }, 'connections[0] ("x"): command'],
    [{ connections: [{ name: 'x', url: 'https://a.example.com' }, { name: 'x', url: 'https://b.example.com' }] }, 'connections[1] ("x"): the name is used twice'],
    ['not json', 'not valid JSON'],
  ])('%#', async (content, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'quorum-tools-'));
    const file = join(dir, 'tools.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    const db = await openTestDatabase('pglite');
    try {
      await expect(startTestApp(db, { env: { QUORUM_TOOLS_FILE: file } })).rejects.toThrow(message);
    } finally {
      await db.close();
    }
  });
});
