/**
 * Shared files read into the knowledge index in the background, through signed Slack events, a
 * real database, the fake Slack (files.info, url_private) and the agent's search_history: a PDF and
 * a DOCX shared in a channel are found by a phrase inside them and cited with the file's link; a
 * private channel's file never reaches a non-member, a DM's file never reaches a channel answer;
 * file_change reads a file again, file_deleted removes it; an oversized file is skipped with its
 * reason in `/agent knowledge`, never downloaded; `forget me` removes what a person shared; a restart while a file is being read resumes it
 * and stores it once.
 */
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog, inbox, knowledgeFileJobs } from '../../src/db/schema.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { drivers, useDatabaseWith, type TestDatabase } from '../support/db.js';
import { docxBytes, DOCX_TYPE, pdfBytes } from '../support/files.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, startSlackApp, useSlackApp } from '../slack/support.js';
import { ADMIN, BOT, chunks, command, eventBody, MEMBER, messageEvent, OWNER, post } from './support.js';

const GEN = 'C0KFGEN001';
const PRIV = 'C0KFPRV001';
const DM_OWNER = 'D0ACMEDM02';
const DM_MEMBER = 'D0ACMEDM01';
const env = { SLACK_BOT_TOKEN: 'xoxb-acme-single', FILE_MAX_BYTES: '50000' };
const link = (id: string, name: string) => `https://acme-corp.slack.com/files/${OWNER}/${id}/${name}`;

async function job(db: TestDatabase, fileId: string) {
  return (await db.db.select().from(knowledgeFileJobs).where(eq(knowledgeFileJobs.fileId, fileId)))[0];
}

/** Waits until the file's job is done (read or skipped), and answers it. */
const settled = (db: TestDatabase, fileId: string) =>
  waitFor(async () => {
    const row = await job(db, fileId);
    return row && (row.status === 'indexed' || row.status === 'skipped') ? row : null;
  }, { timeoutMs: 30_000 });

describe.each(drivers)('shared files in the knowledge index (%s)', (driver) => {
  let query = 'canary';
  const gate = new ScriptedAgentGate((step, _call, withResults) => {
    if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'look it up' } }]);
    if (step === 'researcher') return withResults ? answer('researched') : answer('', [{ toolName: 'search_history', input: { query } }]);
    return answer('final answer');
  });
  const ctx = useSlackApp(driver, () => ({ model: gate, env }), (api) => {
    api.rosters.set(GEN, [MEMBER, OWNER, ADMIN, BOT]);
    api.rosters.set(PRIV, [OWNER, ADMIN, BOT]);
  });
  const toolResult = () => String(gate.calls.find((c) => c.step === 'researcher' && c.withResults)?.call.messages.at(-1)?.content ?? '');

  /** Asks through a signed event and answers the search tool's result. */
  async function ask(event: any, words: string): Promise<string> {
    query = words;
    gate.reset();
    await post(ctx.app, event);
    await waitFor(async () => (await ctx.db.db.select().from(inbox).where(eq(inbox.idempotencyKey, event.event_id)))[0]?.status === 'done', { timeoutMs: 30_000 });
    return toolResult();
  }
  const mention = (channel: string, user: string) => freshEvent('app_mention', { channel, user, text: `<@${BOT}> what do the files say?` });
  const dm = (channel: string, user: string) => freshEvent('message_im', { channel, user, text: 'what do the files say?' });
  /** A file shared in `channel` by `user`, as a file_share message event carries it (with its permalink). */
  function share(channel: string, user: string, ts: string, files: Array<Record<string, unknown>>) {
    const withLinks = files.map((f) => ({ ...f, permalink: link(String(f.id), String(f.name)) }));
    return messageEvent(channel, user, ts, 'files attached', { subtype: 'file_share', files: withLinks });
  }

  it('a PDF and a DOCX shared in a channel are read in the background, found by a phrase inside them and cited with their link', async () => {
    const pdf = ctx.api.addFile('F0KFPDF001', { name: 'retries.pdf', mimetype: 'application/pdf', bytes: pdfBytes('canary-pdfidx: uploads retry five times with jitter'), channels: [GEN] });
    const docx = ctx.api.addFile('F0KFDOC001', { name: 'contract.docx', mimetype: DOCX_TYPE, bytes: await docxBytes('canary-docxidx: the vendor contract renews in March'), channels: [GEN] });
    await post(ctx.app, share(GEN, OWNER, '1767260000.000100', [pdf, docx]));
    expect((await settled(ctx.db, 'F0KFPDF001')).status).toBe('indexed');
    expect((await settled(ctx.db, 'F0KFDOC001')).status).toBe('indexed');

    const pdfHit = await ask(mention(GEN, MEMBER), 'jitter');
    expect(pdfHit).toContain('canary-pdfidx: uploads retry five times with jitter');
    expect(pdfHit).toContain(`(file): File "retries.pdf":`);
    expect(pdfHit).toContain(`source: ${link('F0KFPDF001', 'retries.pdf')}`);
    const docxHit = await ask(mention(GEN, MEMBER), 'renews');
    expect(docxHit).toContain('canary-docxidx: the vendor contract renews in March');
    expect(docxHit).toContain(`source: ${link('F0KFDOC001', 'contract.docx')}`);
    // Each was downloaded once, with the bot's token.
    expect(ctx.api.downloads.filter((d) => d.id === 'F0KFPDF001')).toEqual([{ id: 'F0KFPDF001', token: 'xoxb-acme-single' }]);
    // Each read is audited: where, which file, the outcome; neither its name nor its text.
    const reads = await ctx.db.db.select().from(auditLog).where(sql`action = 'file_read'`).orderBy(auditLog.seq);
    expect(reads.map((r) => [r.channelExternalId, r.detail.file, r.detail.outcome, r.content]).sort()).toEqual([
      [GEN, 'F0KFDOC001', 'indexed', null],
      [GEN, 'F0KFPDF001', 'indexed', null],
    ]);
    for (const secret of ['retries.pdf', 'contract.docx', 'canary']) expect(JSON.stringify(reads)).not.toContain(secret);
  });

  it('a private channel’s file never reaches a non-member; a DM’s file never reaches a channel answer', async () => {
    const priv = ctx.api.addFile('F0KFPRV001', { name: 'plans.pdf', mimetype: 'application/pdf', bytes: pdfBytes('canary-privfile: the reorganisation is planned'), channels: [PRIV] });
    await post(ctx.app, share(PRIV, OWNER, '1767260100.000100', [priv]));
    const mine = ctx.api.addFile('F0KFDM0001', { name: 'salary.pdf', mimetype: 'application/pdf', bytes: pdfBytes('canary-dmfile: my reorganisation notes'), channels: [DM_OWNER] });
    // A DM to the bot is a turn of its own too: answered before the canaries are checked.
    await ask(share(DM_OWNER, OWNER, '1767260200.000100', [mine]), 'nothing');
    expect((await settled(ctx.db, 'F0KFPRV001')).status).toBe('indexed');
    expect((await settled(ctx.db, 'F0KFDM0001')).status).toBe('indexed');
    expect((await job(ctx.db, 'F0KFDM0001'))?.dmOwnerUserId).toBe(OWNER);

    // A member of #general, not of the private channel: in the channel and in their DM.
    await ask(mention(GEN, MEMBER), 'reorganisation');
    await ask(dm(DM_MEMBER, MEMBER), 'reorganisation');
    // The DM's owner asking in a channel (whose audience is the channel): not their DM's file.
    await ask(mention(GEN, OWNER), 'reorganisation');
    for (const canary of ['canary-privfile', 'canary-dmfile']) expect(gate.promptsText()).not.toContain(canary);
    // The owner, from their DM, gets both: the canaries were there to be found.
    const own = await ask(dm(DM_OWNER, OWNER), 'reorganisation');
    expect(own).toContain('canary-privfile');
    expect(own).toContain('canary-dmfile');
  });

  it('file_change reads the file again; file_deleted removes it from the index', async () => {
    ctx.api.files.get('F0KFPDF001')!.bytes = pdfBytes('canary-pdfidx-v2: uploads retry twice');
    await post(ctx.app, eventBody({ type: 'file_change', file_id: 'F0KFPDF001', file: { id: 'F0KFPDF001' }, event_ts: '1767260300.000100' }));
    await waitFor(async () => JSON.stringify(await chunks(ctx.db, sql`source_id = 'F0KFPDF001'`)).includes('canary-pdfidx-v2'), { timeoutMs: 30_000 });
    expect(JSON.stringify(await chunks(ctx.db, sql`source_id = 'F0KFPDF001'`))).not.toContain('five times');

    await post(ctx.app, eventBody({ type: 'file_deleted', file_id: 'F0KFPDF001', event_ts: '1767260400.000100' }));
    expect(await chunks(ctx.db, sql`source_id = 'F0KFPDF001'`)).toEqual([]);
    expect(await job(ctx.db, 'F0KFPDF001')).toBeUndefined();
    expect(JSON.stringify(await chunks(ctx.db))).not.toContain('canary-pdfidx');
  });

  it('an oversized file is skipped with its reason in /agent knowledge, and never downloaded', async () => {
    const huge = ctx.api.addFile('F0KFBIG001', { name: 'huge.pdf', mimetype: 'application/pdf', bytes: pdfBytes('canary-huge'), size: 60_000, channels: [GEN] });
    await post(ctx.app, share(GEN, OWNER, '1767260500.000100', [huge]));
    const row = await settled(ctx.db, 'F0KFBIG001');
    expect(row).toMatchObject({ status: 'skipped', reason: 'it is larger than the 49 KB limit (FILE_MAX_BYTES)' });
    expect(ctx.api.downloads.filter((d) => d.id === 'F0KFBIG001')).toEqual([]);
    // Still found by its name.
    expect((await chunks(ctx.db, sql`source_id = 'F0KFBIG001'`)).map((c) => c.content)).toEqual(['File "huge.pdf" (its text was not read)']);

    const status = await command(ctx.app, ADMIN, 'knowledge');
    expect(status).toContain(`#${GEN}: on · `);
    expect(status).toContain('files: 1 read, 1 skipped, 0 waiting');
    expect(status).toContain('skipped `huge.pdf`: it is larger than the 49 KB limit (FILE_MAX_BYTES)');
    // A DM's files are nobody else's business: not listed.
    expect(status).not.toContain(DM_OWNER);
  });

  it('forget me removes what the person shared: their files’ chunks (their DM’s too) and jobs, with the count', async () => {
    const before = await chunks(ctx.db);
    const mine = before.filter((c) => c.author === OWNER || c.owner === OWNER).length;
    expect(before.filter((c) => c.kind === 'file' && c.author === OWNER).length).toBeGreaterThan(0);
    expect(await command(ctx.app, OWNER, 'forget me')).toContain(`${mine} knowledge entries`);
    const after = await chunks(ctx.db);
    expect(after.filter((c) => c.author === OWNER || c.owner === OWNER)).toEqual([]);
    expect(JSON.stringify(after)).not.toContain('canary-dmfile');
    expect(await ctx.db.db.select().from(knowledgeFileJobs).where(eq(knowledgeFileJobs.authorUserId, OWNER))).toEqual([]);
  });
});

describe.each(drivers)('a file being read when Quorum restarts (%s)', (driver) => {
  const ctx = useDatabaseWith(driver, async (_db, cleanup) => {
    const api = await new FakeSlackApi().start();
    cleanup(() => api.stop());
    api.rosters.set(GEN, [OWNER, BOT]);
    return { api };
  });

  it('is read by the next instance, and stored once', async () => {
    const { api, db } = ctx;
    const file = api.addFile('F0KFRST001', { name: 'notes.docx', mimetype: DOCX_TYPE, bytes: await docxBytes('canary-restart: resumed after a restart'), channels: [GEN] });
    // files.info is held while the first instance asks: it stops there, mid-job.
    const held = api.hold('files.info', (p) => p.file === 'F0KFRST001');
    const first = await startSlackApp(db, api, { env });
    await post(first, messageEvent(GEN, OWNER, '1767261000.000100', 'notes', { subtype: 'file_share', files: [file] }));
    await held.reached;
    expect(await job(db, 'F0KFRST001')).toMatchObject({ status: 'running' });
    await first.stop();
    // Handed back at stop, for any instance to take.
    expect(await job(db, 'F0KFRST001')).toMatchObject({ status: 'pending', claimedBy: null });
    held.release();
    await waitFor(() => api.called('files.info').at(-1)?.response);

    const second = await startSlackApp(db, api, { env });
    try {
      expect(await settled(db, 'F0KFRST001')).toMatchObject({ status: 'indexed', attempts: 0, chunks: 1 });
      const rows = await chunks(db, and(sql`source_kind = 'file'`, sql`source_id = 'F0KFRST001'`));
      expect(rows.map((r) => r.content)).toEqual(['File "notes.docx":\ncanary-restart: resumed after a restart']);
      expect(api.called('files.info').filter((c) => c.params.file === 'F0KFRST001')).toHaveLength(2);
    } finally {
      await second.stop();
    }
  });
});
