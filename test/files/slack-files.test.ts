/**
 * Files in a turn through signed Slack events, the fake Slack Web API (files.info, url_private)
 * and the fake OpenAI-compatible provider (what the model really received): a PDF, a DOCX, a CSV
 * and a picture reach the model, as quoted text and an image part; a follow-up in the thread reads
 * them again, as a question about a file posted in the thread without a mention does; what is too large or of an unknown kind is named under the answer; a file the bot
 * may not see is never downloaded; a DM's file never reaches a channel turn.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inbox, knowledgeFileJobs, messages } from '../../src/db/schema.js';
import { FakeOpenAIServer, type FakeRequest } from '../fakes/openai-server.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { docxBytes, DOCX_TYPE, pdfBytes, PNG_BYTES, utf8 } from '../support/files.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, postSlack, startSlackApp } from '../slack/support.js';

const GENERAL = 'C0ACMEGEN1';
const DM = 'D0ACMEDM01';
const BOT = 'U0ACMEBOT1';
const LIMIT = 50_000;

describe.each(drivers)('files in a Slack turn (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  const model = new FakeOpenAIServer(() => ({ kind: 'answer', text: 'read them' }));

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    await model.start();
    app = await startSlackApp(db, api, {
      env: {
        SLACK_BOT_TOKEN: 'xoxb-acme-single',
        MODEL_PROVIDER: 'openai',
        MODEL_NAME: 'gpt-4o-mini',
        MODEL_BASE_URL: model.baseUrl,
        MODEL_API_KEY: 'test-key',
        FILE_MAX_BYTES: String(LIMIT),
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await model.stop();
    await api?.stop();
    await db?.close();
  });
  beforeEach(() => {
    model.requests.length = 0;
  });

  /** Posts the event, waits for its turn, and answers the stored reply. */
  async function turn(event: any): Promise<string> {
    expect((await postSlack(app, event)).status).toBe(200);
    await waitFor(async () => (await db.db.select().from(inbox).where(eq(inbox.idempotencyKey, event.event_id)))[0]?.status === 'done', { timeoutMs: 30_000 });
    const [row] = await db.db.select({ content: messages.content }).from(messages).where(and(eq(messages.idempotencyKey, event.event_id), eq(messages.role, 'assistant')));
    return row?.content ?? '';
  }
  function mention(text: string, files: unknown[], thread?: string): any {
    const event = freshEvent('app_mention_in_thread', { channel: GENERAL, user: 'U0ACMEMEM1', text: `<@${BOT}> ${text}` });
    if (thread) event.event.thread_ts = thread;
    else delete event.event.thread_ts;
    if (files.length) event.event.files = files;
    return event;
  }
  /** The parts of the question's message in every model request of the turn. */
  const questionParts = (r: FakeRequest): Array<{ type: string; text?: string; image_url?: { url: string } }> => {
    const user = r.body.messages.filter((m) => m.role === 'user').at(-1);
    return typeof user?.content === 'string' ? [{ type: 'text', text: user.content }] : ((user?.content ?? []) as never);
  };
  const promptText = () => model.requests.flatMap((r) => questionParts(r).map((p) => p.text ?? '')).join('\n');
  const downloadsOf = (id: string) => api.downloads.filter((d) => d.id === id);

  it('a PDF, a DOCX, a CSV and a picture shared in a thread reach the model; a follow-up reads them again', async () => {
    const files = [
      api.addFile('F0PDF00001', { name: 'retries.pdf', mimetype: 'application/pdf', bytes: pdfBytes('canary-pdf: retry three times with backoff'), channels: [GENERAL] }),
      api.addFile('F0DOC00001', { name: 'spec.docx', mimetype: DOCX_TYPE, bytes: await docxBytes('canary-docx: the spec says idempotent'), channels: [GENERAL] }),
      api.addFile('F0CSV00001', { name: 'costs.csv', mimetype: 'text/csv', bytes: utf8('team,cost\ncanary-csv-row,42\n'), channels: [GENERAL] }),
      api.addFile('F0PNG00001', { name: 'chart.png', mimetype: 'image/png', bytes: PNG_BYTES, channels: [GENERAL] }),
    ];
    const first = mention('compare these', files);
    const answer = await turn(first);
    expect(answer).toBe('read them');

    const parts = questionParts(model.requests[0]!);
    const text = parts.find((p) => p.type === 'text')!.text!;
    expect(text).toMatch(/^compare these/);
    expect(text).toContain('never instructions');
    expect(text).toContain('<file name="retries.pdf" format="pdf">\ncanary-pdf: retry three times with backoff');
    expect(text).toContain('<file name="spec.docx" format="docx">\ncanary-docx: the spec says idempotent');
    expect(text).toContain('<file name="costs.csv" format="csv">\nteam,cost\ncanary-csv-row,42');
    const images = parts.filter((p) => p.type === 'image_url');
    expect(images).toHaveLength(1);
    expect(images[0]!.image_url!.url).toBe(`data:image/png;base64,${Buffer.from(PNG_BYTES).toString('base64')}`);
    // As the bot: files.info first, then url_private with the bot token, once per file.
    for (const id of ['F0PDF00001', 'F0DOC00001', 'F0CSV00001', 'F0PNG00001']) {
      expect(api.called('files.info').filter((c) => c.params.file === id)).toHaveLength(1);
      expect(downloadsOf(id)).toEqual([{ id, token: 'xoxb-acme-single' }]);
    }

    // What is kept: the question's file references, never their content.
    const [kept] = await db.db.select({ files: messages.files }).from(messages).where(and(eq(messages.idempotencyKey, first.event_id), eq(messages.role, 'user')));
    expect(kept?.files?.map((f) => f.id)).toEqual(['F0PDF00001', 'F0DOC00001', 'F0CSV00001', 'F0PNG00001']);
    expect(JSON.stringify(kept)).not.toMatch(/canary|files-pri/);

    // The follow-up carries no file: the thread's files are read again (and only theirs).
    model.requests.length = 0;
    await turn(mention('and what does the pdf say about retries?', [], first.event.ts));
    expect(promptText()).toContain('canary-pdf: retry three times');
    expect(promptText()).toContain('canary-docx');
    expect(downloadsOf('F0PDF00001')).toHaveLength(2);
  });

  it('a file posted in a thread without a mention is read when a later question there speaks of a file', async () => {
    const root = '1767250500.000100';
    const runbook = api.addFile('F0RUNBOOK1', { name: 'runbook.md', mimetype: 'text/markdown', bytes: utf8('canary-runbook: page the on-call twice'), channels: [GENERAL] });
    api.seed(GENERAL, { user: 'U0ACMEOWN1', ts: root, thread_ts: root, text: '', files: [runbook] }, { user: 'U0ACMEADM1', ts: '1767250560.000200', thread_ts: root, text: 'thanks' });
    const replies = () => api.called('conversations.replies').filter((c) => c.params.ts === root).length;
    // Not about a file: the thread is not read for one.
    await turn(mention('who wrote this?', [], root));
    expect(replies()).toBe(0);
    expect(promptText()).not.toContain('canary-runbook');
    await turn(mention('what does the runbook file above say?', [], root));
    expect(replies()).toBe(1);
    expect(promptText()).toContain('<file name="runbook.md" format="markdown">\ncanary-runbook: page the on-call twice');
  });

  it('too large, unknown kinds and damaged files are named under the answer with why, and never sent to the model', async () => {
    const big = api.addFile('F0BIG00001', { name: 'huge.pdf', mimetype: 'application/pdf', bytes: pdfBytes('x'), size: LIMIT + 1, channels: [GENERAL] });
    // files.info says small, the download is not: reading stops at the limit.
    const lying = api.addFile('F0LIE00001', { name: 'lying.txt', mimetype: 'text/plain', bytes: utf8(`canary-lying ${'x'.repeat(LIMIT)}`), size: 10, channels: [GENERAL] });
    const exe = api.addFile('F0EXE00001', { name: 'setup.exe', mimetype: 'application/x-msdownload', bytes: new Uint8Array([0x4d, 0x5a, 0, 1, 2]), channels: [GENERAL] });
    const broken = api.addFile('F0BAD00001', { name: 'broken.pdf', mimetype: 'application/pdf', bytes: utf8('%PDF-1.4 not really'), channels: [GENERAL] });
    const answer = await turn(mention('what are these?', [big, lying, exe, broken]));
    expect(answer).toContain('read them');
    expect(answer).toContain('Skipped `huge.pdf`: it is larger than the 49 KB limit.');
    expect(answer).toContain('Skipped `lying.txt`: it is larger than the 49 KB limit.');
    expect(answer).toMatch(/Skipped `setup\.exe`: a \.exe file \(application\/x-msdownload\): Quorum reads text, Markdown, CSV, JSON, code, PDF, Word \(\.docx\) and images\./);
    expect(answer).toContain('Skipped `broken.pdf`: the PDF could not be read (damaged or password-protected).');
    // The declared size was enough: the big file was not even asked about.
    expect(api.called('files.info').some((c) => c.params.file === 'F0BIG00001')).toBe(false);
    expect(downloadsOf('F0BIG00001')).toEqual([]);
    expect(promptText()).not.toContain('canary-lying');
    expect(promptText()).toContain('Not read: "setup.exe"');
  });

  it('a file the bot cannot see (file_not_found, another workspace, not shared here) is never downloaded', async () => {
    const hidden = { id: 'F0HIDDEN01', name: 'secret.txt', mimetype: 'text/plain', size: 20 };
    const foreign = api.addFile('F0GLOBEX01', { name: 'globex.txt', mimetype: 'text/plain', bytes: utf8('canary-globex'), channels: [GENERAL], user_team: 'T0GLOBEX01' });
    const elsewhere = api.addFile('F0ELSEWH01', { name: 'war-room.txt', mimetype: 'text/plain', bytes: utf8('canary-war-room'), channels: ['C0ACMEINC1'] });
    const answer = await turn(mention('read this', [hidden, foreign, elsewhere]));
    for (const id of ['F0HIDDEN01', 'F0GLOBEX01', 'F0ELSEWH01']) {
      expect(api.called('files.info').some((c) => c.params.file === id)).toBe(true);
      expect(downloadsOf(id)).toEqual([]);
    }
    expect(answer.match(/Quorum cannot see this file/g)).toHaveLength(3);
    expect(promptText()).not.toMatch(/canary-globex|canary-war-room/);
  });

  it('a file shared in a DM never reaches a channel answer', async () => {
    const dmFile = api.addFile('F0DMFILE01', { name: 'salary.txt', mimetype: 'text/plain', bytes: utf8('canary-dm-salary'), channels: [DM] });
    const dm = freshEvent('message_im', { text: 'keep this in mind' });
    dm.event.subtype = 'file_share';
    dm.event.files = [dmFile];
    await turn(dm);
    expect(promptText()).toContain('canary-dm-salary');
    // The knowledge index reads it too, in the background, for the DM's owner: once that is done,
    await waitFor(async () => (await db.db.select().from(knowledgeFileJobs).where(eq(knowledgeFileJobs.fileId, 'F0DMFILE01')))[0]?.status === 'indexed');
    const downloaded = downloadsOf('F0DMFILE01').length;
    // a channel question (another conversation, another audience) never reads it.
    model.requests.length = 0;
    await turn(mention('what did I share with you?', []));
    expect(promptText()).not.toContain('canary-dm-salary');
    expect(downloadsOf('F0DMFILE01')).toHaveLength(downloaded);
  });
});
