/**
 * Data rights through the console: after `forget me` no row in any table holds the user's
 * content (checked table by table) while others' data is untouched; `forget @user` for admins;
 * the audit keeps only that an erasure happened and its chain still verifies.
 */
import { is, sql } from 'drizzle-orm';
import { PgTable, getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAllChains } from '../../src/db/audit-verify.js';
import * as schema from '../../src/db/schema.js';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

const tables = (Object.values(schema) as unknown[]).filter((t): t is PgTable => is(t, PgTable));

describe.each(drivers)('erasure (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;

  const say = async (user: string, channel: string, text: string, threadId?: string) => {
    const res = await postJson(`${app.baseUrl}/console/api/messages`, { user, channel, text, ...(threadId ? { threadId } : {}) });
    expect(res.status).toBe(200);
    return res.body as { threadId: string | null; reply: { kind: string; text: string } };
  };
  /** Every table's rows as text, by table name. */
  async function dump(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const table of tables) {
      const rows = await db.db.select().from(table);
      out.set(getTableConfig(table).name, JSON.stringify(rows));
    }
    return out;
  }

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    app = await startTestApp(db);
    // The workspace opts in to keeping content in the audit log, so that redaction is exercised too.
    expect((await say('ava', 'general', '/agent content on')).reply.text).toMatch(/^Message content in the audit log: hashed → kept\./);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('forget me deletes every trace of the user content, table by table, and nothing of others', async () => {
    const thread = await say('cleo', 'general', 'cleo-secret CANARYCLEO1 in general');
    await say('ben', 'general', 'ben reply CANARYBEN1', thread.threadId!);
    await say('cleo', 'general', 'cleo again CANARYCLEO2', thread.threadId!);
    await say('cleo', 'dm', 'my private CANARYCLEO3');
    await say('ben', 'dm', 'ben private CANARYBEN2');
    await say('cleo', 'engineering', 'eng CANARYCLEO4');
    // A personal note of each (remember/recall store them here).
    const ids = await db.db.select({ id: schema.principals.id, user: schema.principals.platformUserId, ws: schema.principals.workspaceId }).from(schema.principals);
    for (const p of ids.filter((p) => p.user === 'cleo' || p.user === 'ben'))
      await db.db.insert(schema.memories).values({ workspaceId: p.ws, principalId: p.id, content: `note CANARY${p.user.toUpperCase()}MEM` });

    const before = await dump();
    expect([...before.values()].join()).toContain('CANARYCLEO');
    const audit = before.get('audit_log')!;
    expect(audit).toContain('CANARYCLEO1');
    // DMs are kept as hashes only, even with content kept: admins read the audit log.
    for (const dm of ['CANARYCLEO3', 'CANARYBEN2']) expect(audit).not.toContain(dm);

    const res = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'dm', text: '/agent forget me' });
    expect(res.body.reply).toMatchObject({ kind: 'notice', private: true });
    expect(res.body.reply.text).toBe(
      'Deleted your data: 8 messages, 1 notes, 3 usage records, 1 direct-message conversations, 5 queued deliveries, 0 knowledge entries.',
    );

    const after = await dump();
    for (const [table, rows] of after) {
      expect(rows, `table ${table}`).not.toMatch(/CANARYCLEO/);
      expect(rows, `table ${table}`).not.toContain('Cleo (member)');
    }
    // Others' data is untouched: Ben's messages, note, DM, usage and audit content.
    for (const canary of ['CANARYBEN1', 'CANARYBEN2', 'CANARYBENMEM']) expect([...after.values()].join(), canary).toContain(canary);
    expect(after.get('messages')!.match(/CANARYBEN1/g)?.length).toBe(before.get('messages')!.match(/CANARYBEN1/g)?.length);

    const [erasure] = await db.db.select().from(schema.auditLog).where(sql`action = 'erasure'`);
    expect(erasure).toMatchObject({ outcome: 'ok', content: null, contentHash: null });
    expect(erasure!.detail).toEqual({
      target: 'self',
      messages: 8,
      memories: 1,
      // One per channel the calls answered in.
      usageRows: 3,
      dmConversations: 1,
      inboxRows: 5,
      auditContentRedacted: 3,
      knowledgeChunks: 0,
    });
    // Redaction keeps the chain intact: content is covered through its hash only.
    const chains = await verifyAllChains(db.db);
    expect(chains.every((c) => c.ok)).toBe(true);
  });

  it('forget @user is for admins; it deletes that user only', async () => {
    await say('dev', 'general', 'dev says CANARYDEV1');
    const denied = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'dm', text: '/agent forget @dev' });
    expect(denied.body.reply.text).toBe('Only workspace admins can do that.');
    expect(JSON.stringify(await db.db.select().from(schema.messages))).toContain('CANARYDEV1');

    const res = await postJson(`${app.baseUrl}/console/api/messages`, { user: 'ben', channel: 'general', text: '/agent forget <@dev|Dev>' });
    expect(res.body.reply.text).toMatch(/^Deleted @dev's data: 2 messages, 0 notes, 1 usage records, 0 direct-message conversations, \d+ queued deliveries, 0 knowledge entries\.$/);
    const all = [...(await dump()).values()].join();
    expect(all).not.toContain('CANARYDEV1');
    expect(all).toContain('CANARYBEN1');
    const [entry] = await db.db.select().from(schema.auditLog).where(sql`action = 'erasure' and detail->>'target' <> 'self'`);
    expect(entry?.detail).toMatchObject({ messages: 2 });
    expect(JSON.stringify(entry)).not.toContain('CANARY');
  });
});
