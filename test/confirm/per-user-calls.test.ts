/**
 * Per-user credentials end to end, through the console entry point: a per-user connection to a
 * real MCP server (the SDK's server classes on 127.0.0.1), each person's own token linked through
 * the private dialog, and a scripted model asking for the tool. What the server received is the
 * proof: A's token never arrives in B's call, an unlinked person's call never reaches the server
 * (they get a private link prompt), and `forget me` unlinks.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCall } from '../../src/core/ports.js';
import { auditLog } from '../../src/db/schema.js';
import { FakeMcpServer } from '../fakes/mcp-server.js';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { toolScript } from '../support/tool-script.js';

const TOKEN_CLEO = 'tok-cleo-41d9';
const TOKEN_BEN = 'tok-ben-8e02';

describe.each(drivers)('per-user tool calls (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  let server: FakeMcpServer;
  let wanted: ToolCall | null = null;
  const gate = toolScript(() => wanted);
  const { say, command } = consoleSpeaker(() => app);
  const authOfCalls = () => server.calls.map((c) => c.headers.authorization);
  const dmView = async (user: string) => {
    const res = await fetch(`${app.baseUrl}/console/api/view?user=${user}&place=dm`);
    return (await res.json()) as { entries: { id: string; from: string; text: string }[] };
  };
  const link = async (user: string, token: string) => {
    await say(user, '/agent status', 'dm');
    const entryId = (await dmView(user)).entries.find((e) => e.from === 'quorum')!.id;
    const res = await postJson(`${app.baseUrl}/console/api/interactions`, { user, entryId, kind: 'submit', actionId: 'credentials:token', value: 'tix', fields: { secret: token } });
    expect(res.body.answer).toMatchObject({ kind: 'notice', text: expect.stringContaining('is linked') });
  };

  beforeAll(async () => {
    server = await new FakeMcpServer([{ name: 'whoami', readOnly: true }]).start();
    db = await openTestDatabase(driver);
    app = await startTestApp(db, { model: gate, env: { TOOLS_ALLOW_PRIVATE_NETWORKS: 'true' } });
    for (const u of ['ava', 'ben', 'cleo']) await say(u, 'hello');
    expect(await command('ben', `/agent connect tix ${server.url} auth per-user`)).toContain('Connected tix');
    expect(await command('ava', '/agent tools all allow tix.*')).toContain('none → allow');
  });
  afterAll(async () => {
    await app?.stop();
    await server?.stop();
    await db?.close();
  });

  it('an unlinked person gets a private link prompt and their call never reaches the server', async () => {
    wanted = { toolName: 'tix.whoami', input: {} };
    // The server's tools are known once someone linked (a per-user server lists its tools only to a linked caller).
    await link('cleo', TOKEN_CLEO);
    await say('cleo', 'who am I on tix?', 'dm');
    const before = server.callsOf('whoami').length;
    await say('ben', 'who am I on tix?', 'dm');
    expect(server.callsOf('whoami')).toHaveLength(before);
    const prompt = (await dmView('ben')).entries.find((e) => e.text.includes('yours is not linked yet'));
    expect(prompt?.from).toBe('quorum');
  });

  it("each call carries only its requester's own token", async () => {
    expect(authOfCalls()).toEqual([`Bearer ${TOKEN_CLEO}`]);
    await link('ben', TOKEN_BEN);
    await say('ben', 'who am I on tix?', 'dm');
    await say('cleo', 'who am I on tix?', 'dm');
    expect(authOfCalls()).toEqual([`Bearer ${TOKEN_CLEO}`, `Bearer ${TOKEN_BEN}`, `Bearer ${TOKEN_CLEO}`]);
    expect(await command('cleo', '/agent connections', 'dm')).toContain('tix: linked (your own account)');
  });

  it('offers a per-user tool in a channel turn only once an admin marked its results shared', async () => {
    wanted = { toolName: 'tix.whoami', input: {} };
    /** The connected tools the scripted model was offered in the calls made from `from` on. */
    const offered = (from: number) => [...new Set(gate.calls.slice(from).flatMap((c) => Object.keys(c.call.tools ?? {})).filter((n) => n.startsWith('tix.')))];
    const before = server.calls.length;
    let from = gate.calls.length;
    await say('ben', 'who am I on tix?', 'general');
    expect(offered(from)).toEqual([]);
    expect(server.calls.length).toBe(before);
    expect(await command('ben', '/agent connections', 'dm')).toContain('tix — ');
    expect(await command('ben', '/agent connections', 'dm')).toContain('results private (offered in DMs only)');

    expect(await command('cleo', '/agent connections tix results shared')).toMatch(/admins/i);
    expect(await command('ava', '/agent connections tix results shared')).toMatch(/^Results of tix: private → shared;/);
    expect(await command('ben', '/agent connections', 'dm')).toContain('results shared (also offered in channels)');
    from = gate.calls.length;
    await say('ben', 'who am I on tix?', 'general');
    expect(offered(from)).toEqual(['tix.whoami']);
    // Still with the requester's own token.
    expect(server.calls.slice(before).map((c) => c.headers.authorization)).toEqual([`Bearer ${TOKEN_BEN}`]);

    expect(await command('ava', '/agent connections tix results private')).toMatch(/^Results of tix: shared → private;/);
    from = gate.calls.length;
    await say('ben', 'who am I on tix?', 'general');
    expect(offered(from)).toEqual([]);
    const changes = (await db.db.select().from(auditLog).where(eq(auditLog.action, 'admin_change'))).map((e) => e.detail);
    expect(changes).toContainEqual({ setting: 'connection_results:tix', old: 'private', new: 'shared' });
    expect(changes).toContainEqual({ setting: 'connection_results:tix', old: 'shared', new: 'private' });
    // Bad input changes nothing; a connection that is not per-user has nothing to share.
    expect(await command('ava', '/agent connections tix results public')).toMatch(/^Usage:/);
    expect(await command('ava', '/agent connections nothere results shared')).toBe('Nothing changed: No connection named nothere.');
    // The demo's tickets server is the operator's: its file decides.
    expect(await command('ava', '/agent connections tickets results shared')).toMatch(/^Nothing changed: tickets is declared by the operator/);
    expect(await command('ava', '/agent connections secret tix')).toBe("No secret to set: tix uses each person's own account: each person links theirs with /agent connections link tix.");
  });

  it('forget me unlinks: the next call does not reach the server', async () => {
    const before = server.calls.length;
    expect(await command('cleo', '/agent forget me', 'dm')).toMatch(/Deleted your data/);
    await say('cleo', 'who am I on tix?', 'dm');
    expect(server.calls.length).toBe(before);
    expect(await command('cleo', '/agent connections', 'dm')).toContain('tix: not linked');
  });
});
