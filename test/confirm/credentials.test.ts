/**
 * Credentials of connected tools through the console's click route: a person links their own
 * token in a private dialog, an admin sets the workspace secret; both are sealed at rest, never
 * logged or audited in clear; a real MCP server (the SDK's server classes, Streamable HTTP on
 * 127.0.0.1) receives, in each person's call, only that person's token; forget me removes it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { linkedStatus, linkPrompt } from '../../src/core/confirm/credentials.js';
import { mayOffer } from '../../src/core/confirm/rules.js';
import type { CallCredentials } from '../../src/core/ports.js';
import { auditLog, principals } from '../../src/db/schema.js';
import { toolCredentials } from '../../src/db/schema-tools.js';
import { postJson, useTestApp } from '../support/app.js';
import { drivers } from '../support/db.js';

const TOKEN_A = 'tok-cleo-7c1f0a';
const SECRET = 'ws-secret-93be22';

/** A real MCP server that records the Authorization header of every request it gets. */
async function recordingMcpServer(): Promise<{ url: string; seen: (string | undefined)[]; close(): Promise<void> }> {
  const seen: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = req.headers;
    seen.push(headers.authorization);
    const mcp = new McpServer({ name: 'tickets', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'echo', annotations: { readOnlyHint: true } }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

/** One tool call with what the port gave (what the MCP transport of src/tools does with it). */
async function callWith(url: string, creds: CallCredentials): Promise<void> {
  if ('unlinked' in creds) throw new Error('unlinked');
  const client = new Client({ name: 'quorum-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: creds.headers } }));
  await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
}

describe.each(drivers)('tool credentials (%s)', (driver) => {
  const t = useTestApp(driver);
  let mcp: Awaited<ReturnType<typeof recordingMcpServer>>;
  beforeAll(async () => {
    mcp = await recordingMcpServer();
  });
  afterAll(() => mcp.close());

  const say = (user: string, text: string) => postJson(`${t.app.baseUrl}/console/api/messages`, { user, channel: 'dm', text });
  /** An entry of the user's DM to click from (the console's clicks are on replies the user sees). */
  const dmEntry = async (user: string): Promise<string> => {
    await say(user, '/agent status');
    const res = await fetch(`${t.app.baseUrl}/console/api/view?user=${user}&place=dm`);
    return ((await res.json()) as { entries: { id: string; from: string }[] }).entries.find((e) => e.from === 'quorum')!.id;
  };
  const click = async (user: string, body: Record<string, unknown>) =>
    postJson(`${t.app.baseUrl}/console/api/interactions`, { user, entryId: await dmEntry(user), ...body });
  const principalOf = async (user: string) => {
    await say(user, '/agent status');
    return (await t.db.db.select().from(principals).where(eq(principals.platformUserId, user)))[0]!.id;
  };
  const scopeOf = async () => t.app.running.deps.turns.resolveWorkspace({ platform: 'console', externalId: 'demo' });

  it('links a personal token through a private dialog; each call carries only its requester\'s own token', async () => {
    // The link prompt an unlinked requester gets: private, with a button that opens the dialog.
    expect(linkPrompt('tickets')).toMatchObject({ private: true, actions: [{ actionId: 'credentials:link', value: 'tickets' }] });
    const opened = await click('cleo', { actionId: 'credentials:link', value: 'tickets' });
    expect(opened.body.answer).toMatchObject({ kind: 'dialog', dialog: { actionId: 'credentials:token', value: 'tickets' } });
    const linked = await click('cleo', { kind: 'submit', actionId: 'credentials:token', value: 'tickets', fields: { secret: TOKEN_A } });
    expect(linked.body.answer).toEqual({ kind: 'notice', text: 'Your tickets account is linked. Quorum uses it only for your own requests.' });

    const scope = await scopeOf();
    const creds = t.app.running.toolCredentials;
    const cleo = await principalOf('cleo');
    const ben = await principalOf('ben');
    expect(await creds.forCall(scope, 'tickets', 'per-user', ben)).toEqual({ unlinked: true });
    expect(await creds.forCall(scope, 'tickets', 'workspace', cleo)).toEqual({ unlinked: true });
    expect(await linkedStatus(creds, scope, cleo, ['tickets', 'wiki'])).toEqual(['tickets: linked (your own account)', 'wiki: not linked']);
    expect(await linkedStatus(creds, scope, ben, ['tickets'])).toEqual(['tickets: not linked']);
    await callWith(mcp.url, await creds.forCall(scope, 'tickets', 'per-user', cleo));
    expect(mcp.seen.length).toBeGreaterThan(0);
    expect(new Set(mcp.seen)).toEqual(new Set([`Bearer ${TOKEN_A}`]));

    // Ben's call never carries cleo's token: with the workspace secret set by an admin, it carries that.
    const refused = await click('cleo', { kind: 'submit', actionId: 'credentials:workspace', value: 'tickets', fields: { secret: SECRET } });
    expect(refused.body.answer.text).toMatch(/Only workspace admins/);
    const set = await click('ben', { kind: 'submit', actionId: 'credentials:workspace', value: 'tickets', fields: { secret: SECRET } });
    // tickets is the demo's, declared by the operator: the admin is told the secret is not what it uses.
    expect(set.body.answer.text).toBe(
      'The secret for tickets is saved (encrypted). It is not used: tickets is declared by the operator of this installation; its settings and credential are in the tools file.',
    );
    mcp.seen.length = 0;
    await callWith(mcp.url, await creds.forCall(scope, 'tickets', 'workspace', ben));
    expect(new Set(mcp.seen)).toEqual(new Set([`Bearer ${SECRET}`]));
    expect(await creds.forCall(scope, 'tickets', 'per-user', ben)).toEqual({ unlinked: true });

    // Sealed at rest; never in the audit log.
    const rows = await t.db.db.select().from(toolCredentials);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.sealed).not.toMatch(/tok-cleo|ws-secret/);
    const audit = JSON.stringify(await t.db.db.select().from(auditLog));
    expect(audit).not.toContain(TOKEN_A);
    expect(audit).not.toContain(SECRET);
    expect(audit).toContain('tool_secret:tickets');
  });

  it('refuses bad input with a clear answer and saves nothing', async () => {
    const before = (await t.db.db.select().from(toolCredentials)).length;
    const spaced = await click('dev', { kind: 'submit', actionId: 'credentials:token', value: 'tickets', fields: { secret: 'two words' } });
    expect(spaced.body.answer).toMatchObject({ kind: 'invalid', errors: { secret: expect.stringMatching(/one line/) } });
    const empty = await click('dev', { kind: 'submit', actionId: 'credentials:token', value: 'tickets', fields: {} });
    expect(empty.body.answer.kind).toBe('invalid');
    const badName = await click('dev', { kind: 'submit', actionId: 'credentials:token', value: 'Tickets!', fields: { secret: 'x' } });
    expect(badName.body.answer.text).toMatch(/not valid/);
    // A button (not a dialog submission) never carries a secret.
    const notDialog = await click('dev', { actionId: 'credentials:token', value: 'tickets', fields: { secret: 'x' } });
    expect(notDialog.body.answer.text).toMatch(/never read from a message/);
    expect((await t.db.db.select().from(toolCredentials)).length).toBe(before);
  });

  it('forget me removes the person\'s own credentials, not the workspace secret', async () => {
    const answer = await say('cleo', '/agent forget me');
    expect(answer.body.reply.text).toContain('1 linked tool accounts');
    expect(await t.app.running.toolCredentials.linked(await scopeOf(), await principalOf('cleo'))).toEqual([]);
    const scope = await scopeOf();
    expect(await t.app.running.toolCredentials.forCall(scope, 'tickets', 'per-user', await principalOf('cleo'))).toEqual({ unlinked: true });
    expect(await t.app.running.toolCredentials.forCall(scope, 'tickets', 'workspace', await principalOf('cleo'))).toEqual({
      headers: { authorization: `Bearer ${SECRET}` },
    });
  });

  it('offers a per-user tool in a shared conversation only when its results are shared', () => {
    expect(mayOffer({ auth: 'per-user', resultsShared: false }, 'dm')).toBe(true);
    expect(mayOffer({ auth: 'per-user', resultsShared: false }, 'channel')).toBe(false);
    expect(mayOffer({ auth: 'per-user', resultsShared: false }, 'group')).toBe(false);
    expect(mayOffer({ auth: 'per-user', resultsShared: true }, 'channel')).toBe(true);
    expect(mayOffer({ auth: 'workspace', resultsShared: false }, 'channel')).toBe(true);
  });
});
