/**
 * What keeps a governed connected call fast without loosening it, through the console entry
 * point with a real MCP server and a scripted model: the rules are cached and a change applies
 * at once (on this instance, and through the invalidation bus on another one on the same
 * database); a read-only call's audit entry is written while the model reads its result, and the
 * answer waits for it: when that write fails, no answer goes out and the user is told.
 */
import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerCommand } from '../../src/core/turn.js';
import { envelopeSchema } from '../../src/core/envelope.js';
import type { ToolCall } from '../../src/core/ports.js';
import { verifyAuditChain } from '../../src/db/audit-store.js';
import { auditLog } from '../../src/db/schema.js';
import { FakeMcpServer } from '../fakes/mcp-server.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { describeWith } from '../support/services.js';
import { toolScript } from '../support/tool-script.js';
import { waitFor } from '../support/wait.js';

const DEMO = { platform: 'console' as const, externalId: 'demo' };
const ENV = { TOOLS_ALLOW_PRIVATE_NETWORKS: 'true', INBOX_MAX_ATTEMPTS: '1' };

/** A database that refuses `tool_call` audit entries of calls that ran: a real write failure, in the database. */
async function failToolAudits(db: TestDatabase, on: boolean): Promise<void> {
  if (!on) {
    await db.db.execute(sql.raw('drop trigger if exists test_fail_tool_audit on audit_log'));
    return;
  }
  await db.db.execute(
    sql.raw(`create or replace function test_fail_tool_audit() returns trigger language plpgsql as $$
      begin
        if new.action = 'tool_call' and new.outcome = 'ok' then raise exception 'audit write refused by the test'; end if;
        return new;
      end $$`),
  );
  await db.db.execute(sql.raw('create trigger test_fail_tool_audit before insert on audit_log for each row execute function test_fail_tool_audit()'));
}

describe.each(drivers)('governed connected calls (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  let server: FakeMcpServer;
  let wanted: ToolCall | null = null;
  const gate = toolScript(() => wanted);
  const { say, command } = consoleSpeaker(() => app);
  const toolAudits = async (query: string) =>
    (await db.db.select().from(auditLog).where(and(eq(auditLog.action, 'tool_call'), eq(auditLog.contentHash, sha(query))))).map((e) => e.outcome);
  const sha = (query: string) => createHash('sha256').update(JSON.stringify({ query })).digest('hex');

  beforeAll(async () => {
    server = await new FakeMcpServer([{ name: 'search', readOnly: true }]).start();
    db = await openTestDatabase(driver);
    app = await startTestApp(db, { model: gate, env: ENV });
    for (const u of ['ava', 'ben', 'cleo']) await say(u, 'hello');
    expect(await command('ben', `/agent connect wiki ${server.url}`)).toContain('Connected wiki');
    expect(await command('ava', '/agent tools #general allow wiki.*')).toContain('none → allow');
  });
  afterAll(async () => {
    await app?.stop();
    await server?.stop();
    await db?.close();
  });

  it("a read-only call's audit entry is written when its answer arrives, in the chain", async () => {
    wanted = { toolName: 'wiki.search', input: { query: 'roadmap' } };
    const reply = await say('cleo', 'look it up');
    expect(reply.text).toContain('search ran with {"query":"roadmap"}');
    expect(await toolAudits('roadmap')).toEqual(['ok']);
    const scope = await app.running.deps.turns.resolveWorkspace(DEMO);
    expect(await verifyAuditChain(db.db, scope)).toMatchObject({ ok: true });
  });

  it('an audit write that fails: the answer built on the call is not delivered, the user is told', async () => {
    await failToolAudits(db, true);
    try {
      wanted = { toolName: 'wiki.search', input: { query: 'unaudited' } };
      const before = server.callsOf('search').length;
      const reply = await say('cleo', 'look it up');
      // The call ran (read-only calls do not wait for their audit), but nothing built on it went out.
      expect(server.callsOf('search').length).toBe(before + 1);
      expect(reply).toMatchObject({ kind: 'error' });
      expect(reply.text).toMatch(/could not answer that request/);
      expect(reply.text).not.toContain('unaudited');
      expect(await toolAudits('unaudited')).toEqual([]);
    } finally {
      await failToolAudits(db, false);
    }
  });

  it('a deny applies to the next call at once, though the rules were cached', async () => {
    wanted = { toolName: 'wiki.search', input: { query: 'cached' } };
    expect((await say('cleo', 'look it up')).text).toContain('search ran with {"query":"cached"}');
    const before = server.callsOf('search').length;
    expect(await command('ava', '/agent tools #general deny wiki.search')).toContain('none → deny');
    wanted = { toolName: 'wiki.search', input: { query: 'after the deny' } };
    expect((await say('cleo', 'look it up')).text).not.toContain('search ran with');
    expect(server.callsOf('search').length).toBe(before);
  });
});

describeWith('postgres', 'connected-tool rules across two instances (postgres)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let server: FakeMcpServer;
  let wanted: ToolCall | null = null;
  const gate = toolScript(() => wanted);
  const { say } = consoleSpeaker(() => b);
  /** An admin's command answered by instance A (as Slack's slash commands are answered, inline). */
  const onA = async (user: string, text: string) => {
    const envelope = envelopeSchema.parse({
      kind: 'command',
      idempotencyKey: `${user}:${text}`,
      workspace: DEMO,
      user: { id: user },
      channel: { id: 'general', kind: 'channel', name: '#general' },
      messageId: `${user}:${text}`,
      text,
      receivedAt: new Date(),
    });
    return (await answerCommand(a.running.deps, envelope)).text;
  };

  beforeAll(async () => {
    server = await new FakeMcpServer([{ name: 'search', readOnly: true }]).start();
    db = await openTestDatabase('postgres');
    a = await startTestApp(db, { model: gate, env: ENV });
    b = await startTestApp(db, { model: gate, env: ENV });
    // Every turn runs on B (A takes no work from the shared inbox), every rule change on A.
    await a.running.worker.stop(0);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await server?.stop();
    await db?.close();
  });

  it('a deny on instance A stops the call on instance B, whose rules were cached', async () => {
    for (const u of ['ava', 'ben', 'cleo']) await say(u, 'hello');
    expect(await onA('ben', `/agent connect wiki ${server.url}`)).toContain('Connected wiki');
    expect(await onA('ava', '/agent tools #general allow wiki.*')).toContain('none → allow');
    wanted = { toolName: 'wiki.search', input: { query: 'on B' } };
    expect((await say('cleo', 'look it up')).text).toContain('search ran with {"query":"on B"}');
    const calls = server.callsOf('search').length;

    expect(await onA('ava', '/agent tools #general deny wiki.search')).toContain('none → deny');
    // B hears of it through the bus (PostgreSQL NOTIFY): a bounded wait, far below the cache's TTL.
    const tools = b.running.deps.agent.connected!.tools;
    const scope = await b.running.deps.turns.resolveWorkspace(DEMO);
    await waitFor(async () => (await tools.rules(scope, DEMO, 'general')).some((r) => r.pattern === 'wiki.search' && !r.allowed), { timeoutMs: 5_000 });
    wanted = { toolName: 'wiki.search', input: { query: 'after the deny' } };
    expect((await say('cleo', 'look it up')).text).not.toContain('search ran with');
    expect(server.callsOf('search').length).toBe(calls);
  });
});
