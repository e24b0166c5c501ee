/**
 * Per-user sign-in through a connected server's own OAuth (MCP authorization), end to end: a real
 * MCP server behind the SDK's server-side auth (metadata, registration, /authorize, /token with
 * PKCE, bearer check on /mcp) on 127.0.0.1, the service through the console's entry point and its
 * real callback route, a scripted model asking for the tool. What the server received is the
 * proof: each call carries its requester's own token, a state works once, a tampered PKCE
 * challenge links nothing, an expired token is refreshed once, and a failed refresh or `forget me`
 * unlinks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import type { ToolCall } from '../../src/core/ports.js';
import { auditLog, principals } from '../../src/db/schema.js';
import { toolCredentials, toolOauthStates } from '../../src/db/schema-tools.js';
import { FakeMcpServer } from '../fakes/mcp-server.js';
import { FakeOAuthMcpServer } from '../fakes/mcp-oauth-server.js';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { toolScript } from '../support/tool-script.js';

const PUBLIC_URL = 'https://quorum.example.test';
const PAT_AVA = 'pat-ava-5d1e';

interface Entry {
  id: string;
  from: string;
  text: string;
  actions: { actionId: string; label: string; url?: string }[] | null;
}

describe.each(drivers)('sign-in through a server\'s OAuth (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  let server: FakeOAuthMcpServer;
  let plain: FakeMcpServer;
  let wanted: ToolCall | null = null;
  const gate = toolScript(() => wanted);
  const { say, command } = consoleSpeaker(() => app);
  const dm = async (user: string): Promise<Entry[]> => {
    const res = await fetch(`${app.baseUrl}/console/api/view?user=${user}&place=dm`);
    return ((await res.json()) as { entries: Entry[] }).entries;
  };
  const ask = (user: string) => say(user, 'who am I on tix?', 'dm');
  /** The sign-in URL of the newest link prompt in the user's DM. */
  const signInUrl = async (user: string): Promise<string | undefined> => {
    const prompts = (await dm(user)).filter((e) => e.from === 'quorum' && e.actions?.some((a) => a.url));
    return prompts.at(-1)?.actions?.find((a) => a.url)?.url;
  };
  /** Follows an authorization URL as the user's browser: the fake server approves as `who` and redirects to Quorum's public callback. */
  const authorize = async (url: string, who: string): Promise<string> => {
    server.provider.approveAs = who;
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location.startsWith(`${PUBLIC_URL}/oauth/mcp/callback?`)).toBe(true);
    return location;
  };
  /** Quorum behind its public URL: the callback reaches this instance. */
  const callback = async (location: string) => {
    const at = new URL(location);
    const res = await fetch(`${app.baseUrl}${at.pathname}${at.search}`);
    // The page is never cached and sends no referrer (its URL holds the code).
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    return { status: res.status, html: await res.text() };
  };
  const principalOf = async (user: string) => (await db.db.select().from(principals).where(eq(principals.platformUserId, user)))[0]!.id;
  const credentialOf = async (user: string) =>
    (await db.db.select().from(toolCredentials).where(and(eq(toolCredentials.connection, 'tix'), eq(toolCredentials.principalId, await principalOf(user)))))[0];
  const signIn = async (user: string) => {
    await ask(user);
    const location = await authorize((await signInUrl(user))!, user);
    return { location, ...(await callback(location)) };
  };

  beforeAll(async () => {
    server = await new FakeOAuthMcpServer().start();
    plain = await new FakeMcpServer([{ name: 'whoami', readOnly: true }]).start();
    server.provider.personal.set(PAT_AVA, 'ava');
    db = await openTestDatabase(driver);
    app = await startTestApp(db, { model: gate, env: { TOOLS_ALLOW_PRIVATE_NETWORKS: 'true', PUBLIC_URL } });
    for (const u of ['ava', 'ben', 'cleo']) await say(u, 'hello');
    expect(await command('ben', `/agent connect tix ${server.url} auth per-user`)).toContain('Connected tix');
    expect(await command('ava', '/agent tools all allow tix.*')).toContain('none → allow');
    // The server's tools are listed through the first linked person: ava, with a personal token.
    const entryId = (await dm('ava')).find((e) => e.from === 'quorum')?.id ?? (await say('ava', '/agent status', 'dm'), (await dm('ava')).find((e) => e.from === 'quorum')!.id);
    const linked = await postJson(`${app.baseUrl}/console/api/interactions`, { user: 'ava', entryId, kind: 'submit', actionId: 'credentials:token', value: 'tix', fields: { secret: PAT_AVA } });
    expect(linked.body.answer).toMatchObject({ kind: 'notice', text: expect.stringContaining('is linked') });
    wanted = { toolName: 'tix.whoami', input: {} };
    await ask('ava');

    expect(server.subjects()).toEqual(['ava']);
  });
  afterAll(async () => {
    await app?.stop();
    await server?.stop();
    await plain?.stop();
    await db?.close();
  });

  let firstCallback = '';

  it('an unlinked person gets a sign-in link bound to them; after the callback their calls carry their own token', async () => {
    await ask('cleo');
    expect(server.subjects()).toEqual(['ava']);
    const url = new URL((await signInUrl('cleo'))!);
    expect(url.origin + url.pathname).toBe(`${server.base}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/oauth/mcp/callback`);
    expect(url.searchParams.get('resource')).toBe(server.url);
    expect(url.searchParams.get('state')?.length).toBeGreaterThanOrEqual(40);
    // The state is kept only as its hash, bound to cleo and tix.
    const [pending] = await db.db.select().from(toolOauthStates).where(eq(toolOauthStates.principalId, await principalOf('cleo')));
    expect(pending).toMatchObject({ connection: 'tix' });
    expect(pending!.stateHash).not.toBe(url.searchParams.get('state'));
    expect(pending!.sealed).not.toContain('"codeVerifier"');

    firstCallback = await authorize(url.href, 'cleo');
    const done = await callback(firstCallback);
    expect(done.status).toBe(200);
    expect(done.html).toContain('is linked');
    expect(done.html).not.toMatch(/at-cleo|rt-cleo/);
    const stored = await credentialOf('cleo');
    expect(stored).toMatchObject({ kind: 'oauth' });
    expect(stored!.sealed).not.toMatch(/at-cleo|rt-cleo/);
    const audits = await db.db.select().from(auditLog);
    expect(audits.some((a) => a.detail.command === 'credentials.linked' && a.detail.connection === 'tix' && a.actorPrincipalId === pending!.principalId)).toBe(true);
    expect(JSON.stringify(audits)).not.toMatch(/at-cleo|rt-cleo|pat-ava/);

    // Slack reports a click on a link button too: it needs no answer.
    const click = await postJson(`${app.baseUrl}/console/api/interactions`, { user: 'cleo', entryId: (await dm('cleo')).at(-1)!.id, actionId: 'credentials:signin', value: 'tix' });
    expect(click.body.answer).toEqual({ kind: 'none' });

    await ask('cleo');
    expect(server.calls.at(-1)).toMatchObject({ subject: 'cleo', token: expect.stringMatching(/^at-cleo-/) });
    // Someone who has not linked never runs with anyone else's token.
    await ask('ben');
    expect(server.subjects()).toEqual(['ava', 'cleo']);
    expect(await command('cleo', '/agent connections', 'dm')).toContain('tix: linked (your own account)');
    expect(await command('ben', '/agent connections', 'dm')).toContain('tix: not linked');
  });

  it('a used, unknown, expired or refused sign-in answers 400 and changes nothing', async () => {
    const before = await credentialOf('cleo');
    const exchanges = server.provider.exchanges;
    const reused = await callback(firstCallback);
    expect(reused.status).toBe(400);
    expect(reused.html).toContain('already used or it expired');
    expect(await callback(`${PUBLIC_URL}/oauth/mcp/callback?state=forged-state&code=abc`)).toMatchObject({ status: 400 });
    expect(await callback(`${PUBLIC_URL}/oauth/mcp/callback?code=abc`)).toMatchObject({ status: 400 });

    // The authorization server refuses: nothing stored, and that state is spent too.
    await ask('ben');
    server.provider.denyWith = 'access_denied';
    const refused = await authorize((await signInUrl('ben'))!, 'ben');
    expect(await callback(refused)).toMatchObject({ status: 400, html: expect.stringContaining('did not grant access') });
    expect(await callback(refused)).toMatchObject({ status: 400 });

    // A state without a code.
    await ask('ben');
    const state = new URL((await signInUrl('ben'))!).searchParams.get('state')!;
    expect(await callback(`${PUBLIC_URL}/oauth/mcp/callback?state=${encodeURIComponent(state)}`)).toMatchObject({
      status: 400,
      html: expect.stringContaining('without an authorization code'),
    });

    // An expired state (its 10 minutes are over): moved into the past in the database, no clock waited on.
    await ask('ben');
    const late = await authorize((await signInUrl('ben'))!, 'ben');
    await db.db.update(toolOauthStates).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(toolOauthStates.principalId, await principalOf('ben')));
    expect(await callback(late)).toMatchObject({ status: 400, html: expect.stringContaining('expired') });
    // The scheduled sweep deletes sign-ins past their time.
    const bens = async () => db.db.select().from(toolOauthStates).where(eq(toolOauthStates.principalId, await principalOf('ben')));
    expect((await bens()).length).toBeGreaterThan(0);
    await app.running.deps.agent.confirm!.confirmations.sweep(new Date(), 60_000);
    expect(await bens()).toEqual([]);

    expect(await credentialOf('ben')).toBeUndefined();
    expect(await credentialOf('cleo')).toEqual(before);
    expect(server.provider.exchanges).toBe(exchanges);
  });

  it('a tampered PKCE challenge or another issuer links nothing', async () => {
    await ask('ben');
    const url = new URL((await signInUrl('ben'))!);
    url.searchParams.set('code_challenge', 'x'.repeat(43));
    const done = await callback(await authorize(url.href, 'ben'));
    expect(done).toMatchObject({ status: 400, html: expect.stringContaining('did not accept this sign-in') });
    expect(await credentialOf('ben')).toBeUndefined();
    // RFC 9207: a response naming another issuer than the one the sign-in started with (a mix-up) links nothing.
    await ask('ben');
    const mixed = `${await authorize((await signInUrl('ben'))!, 'ben')}&iss=${encodeURIComponent('https://evil.example.com')}`;
    expect(await callback(mixed)).toMatchObject({ status: 400, html: expect.stringContaining('another authorization server') });
    expect(await credentialOf('ben')).toBeUndefined();
    const calls = server.calls.length;
    await ask('ben');
    expect(server.calls).toHaveLength(calls);
  });

  it('an expired access token is refreshed once and the call runs with the new one', async () => {
    const old = server.calls.at(-1)!.subject === 'cleo' ? server.calls.at(-1)!.token : '';
    server.provider.expireAccessTokens();
    const refreshes = server.provider.refreshes;
    const calls = server.calls.length;
    await ask('cleo');
    expect(server.provider.refreshes).toBe(refreshes + 1);
    expect(server.calls).toHaveLength(calls + 1);
    expect(server.calls.at(-1)).toMatchObject({ subject: 'cleo', token: expect.stringMatching(/^at-cleo-/) });
    expect(server.calls.at(-1)!.token).not.toBe(old);
  });

  it('a refused refresh unlinks: the person gets the sign-in link again', async () => {
    server.provider.expireAccessTokens();
    server.provider.revokeRefreshTokens();
    const calls = server.calls.length;
    const prompts = (await dm('cleo')).filter((e) => e.actions?.some((a) => a.url)).length;
    await ask('cleo');
    expect(server.calls).toHaveLength(calls);
    expect(await credentialOf('cleo')).toBeUndefined();
    expect((await dm('cleo')).filter((e) => e.actions?.some((a) => a.url)).length).toBe(prompts + 1);
    expect(await command('cleo', '/agent connections', 'dm')).toContain('tix: not linked');
  });

  it('forget me removes the OAuth link and any sign-in still pending', async () => {
    // The link shown after the refused refresh is still pending; cleo signs in through a new one.
    const pendingUrl = (await signInUrl('cleo'))!;
    expect((await signIn('cleo')).status).toBe(200);
    await ask('cleo');
    expect(server.calls.at(-1)).toMatchObject({ subject: 'cleo' });
    expect(await credentialOf('cleo')).toMatchObject({ kind: 'oauth' });
    expect(await command('cleo', '/agent forget me', 'dm')).toMatch(/Deleted your data/);
    expect(await credentialOf('cleo')).toBeUndefined();
    expect(await db.db.select().from(toolOauthStates).where(eq(toolOauthStates.principalId, await principalOf('cleo')))).toEqual([]);
    expect((await callback(await authorize(pendingUrl, 'cleo'))).status).toBe(400);
    const calls = server.calls.length;
    await ask('cleo');
    expect(server.calls).toHaveLength(calls);
    expect(await command('cleo', '/agent connections', 'dm')).toContain('tix: not linked');
  });

  it('disconnecting removes every link to that server: a new connection of the same name starts unlinked', async () => {
    expect((await signIn('ben')).status).toBe(200);
    expect(await credentialOf('ben')).toMatchObject({ kind: 'oauth' });
    expect(await command('ben', '/agent disconnect tix')).toContain('Disconnected tix');
    expect(await credentialOf('ben')).toBeUndefined();
    expect(await credentialOf('ava')).toBeUndefined();
    expect(await command('ben', `/agent connect tix ${server.url} auth per-user`)).toContain('Connected tix');
    expect(await command('ben', '/agent connections', 'dm')).toContain('tix: not linked');
  });

  it('a server that does not offer OAuth gets the personal-token prompt only', async () => {
    expect(await command('ben', `/agent connect plain ${plain.url} auth per-user`)).toContain('Connected plain');
    expect(await command('ava', '/agent tools all allow plain.*')).toContain('none → allow');
    const entryId = (await dm('ava')).at(-1)!.id;
    await postJson(`${app.baseUrl}/console/api/interactions`, { user: 'ava', entryId, kind: 'submit', actionId: 'credentials:token', value: 'plain', fields: { secret: 'pat-plain-ava' } });
    wanted = { toolName: 'plain.whoami', input: {} };
    await ask('ava');
    expect(plain.callsOf('whoami')).toHaveLength(1);
    await ask('ben');
    expect(plain.callsOf('whoami')).toHaveLength(1);
    const prompt = (await dm('ben')).filter((e) => e.text.includes('plain works with each person')).at(-1);
    expect(prompt?.actions).toEqual([expect.objectContaining({ actionId: 'credentials:link', value: 'plain' })]);
    // Asked once: the next unlinked call does not discover the server's OAuth again.
    const requests = plain.requests;
    await ask('ben');
    expect(plain.requests).toBe(requests);
    wanted = { toolName: 'tix.whoami', input: {} };
  });
});
