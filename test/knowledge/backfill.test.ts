/**
 * Backfill of a channel's history when the bot joins it: 3 pages of conversations.history (and a
 * thread's conversations.replies) from the fake Slack, a 429 with Retry-After on the second page,
 * and a restart half-way. It completes once (every message stored once, no page read again after
 * it was stored, each page with its cursor in one transaction), a file shared in the history is
 * read in the background, and `/agent knowledge` shows it; admins switch a channel off and on (audited).
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeRows } from '../../src/db/raw.js';
import { auditLog, knowledgeChannels } from '../../src/db/schema.js';
import { FakeSlackApi, type SeededMessage } from '../fakes/slack-api.js';
import type { TestApp } from '../support/app.js';
import { drivers, useDatabaseWith } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { startSlackApp } from '../slack/support.js';
import { ADMIN, BOT, chunks, command, eventBody, MEMBER, messageEvent, OWNER, post } from './support.js';

const CHANNEL = 'C0KNBKF001';
const ROOT = '1767240000.000100';
const FILE = 'F0KNBKF001';
const env = { SLACK_BOT_TOKEN: 'xoxb-acme-single', KNOWLEDGE_BACKFILL_PAGE_SIZE: '2', KNOWLEDGE_BACKFILL_RPM: '6000' };
const cursorOf = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');

const history: SeededMessage[] = [
  { user: OWNER, ts: ROOT, thread_ts: ROOT, text: 'backfill-1 root: should we retry uploads?' },
  { user: ADMIN, ts: '1767240060.000100', thread_ts: ROOT, text: 'backfill-reply-1: three retries with backoff' },
  { user: MEMBER, ts: '1767240120.000100', thread_ts: ROOT, text: 'backfill-reply-2: agreed' },
  { user: OWNER, ts: '1767240180.000100', text: 'backfill-2' },
  // Shares a file: its job is queued with the page, and the file worker reads it.
  { user: ADMIN, ts: '1767240240.000100', text: 'backfill-3', subtype: 'file_share', files: [{ id: FILE, name: 'runbook.md', mimetype: 'text/markdown' }] },
  { user: MEMBER, ts: '1767240300.000100', text: 'backfill-4' },
  { user: OWNER, ts: '1767240360.000100', text: 'backfill-5' },
  { subtype: 'channel_join', user: BOT, ts: '1767240420.000100', text: '<@U0ACMEBOT1> has joined the channel' },
];

describe.each(drivers)('channel backfill (%s)', (driver) => {
  const ctx = useDatabaseWith(driver, async (db, cleanup) => {
    const api = await new FakeSlackApi().start();
    cleanup(() => api.stop());
    api.rosters.set(CHANNEL, [OWNER, ADMIN, MEMBER, BOT]);
    api.seed(CHANNEL, ...history);
    api.addFile(FILE, { name: 'runbook.md', mimetype: 'text/markdown', bytes: new TextEncoder().encode('canary-bkfile: page the on-call twice'), channels: [CHANNEL] });
    return { api };
  });
  const state = async () => (await ctx.db.db.select().from(knowledgeChannels).where(sql`channel_external_id = ${CHANNEL}`))[0];

  it('3 pages, a 429 on the second and a restart half-way: completes once, resumes at the stored cursor, shows in /agent knowledge', async () => {
    const { api, db } = ctx;
    // Page 2 is held while the first instance asks for it: that instance stops there.
    const held = api.hold('conversations.history', (p) => p.channel === CHANNEL && p.cursor === cursorOf(2));
    let first: TestApp | null = await startSlackApp(db, api, { env });
    await post(first, eventBody({ type: 'member_joined_channel', user: BOT, channel: CHANNEL, channel_type: 'C', team: 'T0ACME0001', event_ts: '1767240500.000100' }));
    await held.reached;
    // Page 1 (the two newest top-level messages) is stored with its cursor before page 2 is asked for.
    expect(await state()).toMatchObject({ backfill: 'running', pages: 1, cursor: cursorOf(2) });
    await first.stop();
    first = null;
    held.release();
    // The held call is answered (to an instance that is gone) before the restart.
    await waitFor(() => api.called('conversations.history').at(-1)?.response);

    // The restarted service meets a rate limit on its first call (page 2) and waits its Retry-After.
    api.rateLimits.set('conversations.history', { times: 1, retryAfter: 1 });
    const second = await startSlackApp(db, api, { env });
    try {
      await waitFor(async () => (await state())?.backfill === 'done', { timeoutMs: 20_000 });
      const calls = api.called('conversations.history').filter((c) => c.params.channel === CHANNEL);
      // Page 1 once; page 2 held (first instance, its answer dropped), refused with 429, then read; page 3 once.
      expect(calls.map((c) => c.params.cursor ?? 'first')).toEqual(['first', cursorOf(2), cursorOf(2), cursorOf(2), cursorOf(4)]);
      expect(calls.map((c) => c.response?.ok)).toEqual([true, true, false, true, true]);
      // The thread (root and two replies) in two pages of two, each read once.
      expect(api.called('conversations.replies').filter((c) => c.params.ts === ROOT).map((c) => c.params.cursor ?? 'first')).toEqual(['first', cursorOf(2)]);

      const rows = await chunks(db, sql`channel_external_id = ${CHANNEL}`);
      // Every message of the channel once (the join line is not knowledge), replies included.
      expect(rows.filter((r) => r.kind === 'message').map((r) => r.content).sort()).toEqual(history.filter((m) => m.subtype !== 'channel_join').map((m) => m.text).sort());
      // The file shared on page 2 is read in the background, with the channel as its audience.
      await waitFor(async () => JSON.stringify(await chunks(db, sql`source_id = ${FILE}`)).includes('canary-bkfile'), { timeoutMs: 20_000 });
      expect((await chunks(db, sql`source_id = ${FILE}`)).map((r) => [r.channel, r.author])).toEqual([[CHANNEL, ADMIN]]);
      expect(rows.find((r) => r.sourceId === '1767240060.000100')?.permalink).toBe(
        `https://acme-corp.slack.com/archives/${CHANNEL}/p1767240060000100?thread_ts=${ROOT}&cid=${CHANNEL}`,
      );
      expect(await state()).toMatchObject({ backfill: 'done', pages: 3, messages: 7, cursor: null });
      // Written per page: each page's rows (the thread's replies with their root's page) in one transaction with its cursor.
      const xids = decodeRows(
        z.object({ x: z.string() }),
        await db.db.execute(sql`select distinct xmin::text as x from knowledge_chunks where channel_external_id = ${CHANNEL} and source_kind = 'message'`),
      );
      expect(xids).toHaveLength(3);

      const status = await command(second, ADMIN, 'knowledge');
      expect(status).toContain(`#${CHANNEL}: on · 8 entries · backfill done (3 pages, 7 messages) · files: 1 read, 0 skipped, 0 waiting`);
      expect(await command(second, MEMBER, 'knowledge')).toBe('Only workspace admins can do that.');
    } finally {
      await second.stop();
    }
  });

  it('admins switch a channel off (its entries deleted, nothing indexed) and on again (backfilled anew), audited', async () => {
    const app = await startSlackApp(ctx.db, ctx.api, { env });
    try {
      expect(await command(app, ADMIN, `knowledge <#${CHANNEL}|backfill> off`)).toBe(`Knowledge of #${CHANNEL}: on → off. What was indexed from it is deleted.`);
      expect(await chunks(ctx.db, sql`channel_external_id = ${CHANNEL}`)).toEqual([]);
      await post(app, messageEvent(CHANNEL, OWNER, '1767240600.000100', 'backfill-after-off'));
      expect(await chunks(ctx.db, sql`channel_external_id = ${CHANNEL}`)).toEqual([]);
      expect(await command(app, ADMIN, 'knowledge')).toContain(`#${CHANNEL}: off · 0 entries`);
      expect(await command(app, ADMIN, 'knowledge #nope maybe')).toMatch(/^Usage: \/agent knowledge/);

      expect(await command(app, ADMIN, `knowledge <#${CHANNEL}> on`)).toBe(`Knowledge of #${CHANNEL}: off → on. Its history will be indexed in the background.`);
      await waitFor(async () => (await state())?.backfill === 'done', { timeoutMs: 20_000 });
      await waitFor(async () => (await chunks(ctx.db, sql`channel_external_id = ${CHANNEL}`)).length === 8);
      const changes = await ctx.db.db.select({ detail: auditLog.detail }).from(auditLog).where(sql`action = 'admin_change' and detail->>'setting' = ${`knowledge:${CHANNEL}`}`);
      expect(changes.map((c) => [c.detail.old, c.detail.new])).toEqual([
        ['on', 'off'],
        ['off', 'on'],
      ]);
    } finally {
      await app.stop();
    }
  });
});
