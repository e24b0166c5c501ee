/**
 * Files in a Teams turn, through activities posted to /api/messages with auth on and the fake Bot
 * Connector serving the files: a 1:1 file (download info) is fetched from its pre-authorised link
 * without the bot's token, a pasted picture or a file on the connector with it; a picture on a
 * host outside MICROSOFT_SERVICE_URL_HOSTS is never fetched; a channel's SharePoint file is named
 * as skipped, the message's own HTML copy is not a file; without an image-capable model a picture
 * gets a note.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox } from '../../src/db/schema.js';
import type { ModelCall } from '../../src/core/ports.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { OUTBOUND_TOKEN } from '../fakes/bot-openid.js';
import { FakeGraph } from '../fakes/graph.js';
import { drivers } from '../support/db.js';
import { docxBytes, pdfBytes, PNG_BYTES } from '../support/files.js';
import { waitFor } from '../support/wait.js';
import { activity, CONTOSO, useTeams, type Activity } from '../teams/helpers.js';

const DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
const answered = () => new RecordingModelGate(() => ({ kind: 'answer', text: 'read them', model: 'fake-model', usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1 }));
const question = (call: ModelCall | undefined) => call?.messages.filter((m) => m.role === 'user').at(-1);

describe.each(drivers)('files in a Teams turn, image-capable model (%s)', (driver) => {
  const model = answered();
  const t = useTeams(driver, () => ({ model, env: { MODEL_PROVIDER: 'openai', MODEL_NAME: 'gpt-4o', MODEL_API_KEY: 'unused' } }));
  let n = 0;
  async function post(name: string, patch: (a: Activity) => void): Promise<void> {
    const a = activity(name, t.teams.connector.url, (x) => {
      x.id = `17672590000${++n}`;
      patch(x);
    });
    expect((await t.teams.post(a)).status).toBe(200);
    await waitFor(async () => {
      const rows = await t.db.db.select().from(inbox);
      return rows.length > 0 && rows.every((r) => r.status === 'done');
    });
  }
  /** What a Teams client shows of the bot's messages (a status message replaced by the answer included). */
  const replies = () => [...t.teams.connector.shown.values()].map((m) => m.text);

  it('a 1:1 file comes from its download link without the token, a pasted picture from the connector with it', async () => {
    const docx = t.teams.connector.addFile('/download/plan.docx', await docxBytes('canary-teams-docx: ship on Tuesday'), 'application/octet-stream', false);
    const picture = t.teams.connector.addFile('/v3/attachments/0-img-1/views/original', PNG_BYTES, 'image/png', true);
    model.calls.length = 0;
    await post('personal_message', (a) => {
      a.text = '';
      a.attachments = [
        { contentType: DOWNLOAD_INFO, contentUrl: 'https://contoso-my.sharepoint.com/personal/alex/plan.docx', name: 'plan.docx', content: { downloadUrl: docx, uniqueId: 'A1B2', fileType: 'docx' } },
        { contentType: 'image/png', contentUrl: picture },
      ];
    });
    const asked = question(model.calls[0]);
    expect(asked?.content).toContain('<file name="plan.docx" format="docx">\ncanary-teams-docx: ship on Tuesday');
    expect(asked?.role === 'user' && asked.images?.map((i) => i.mediaType)).toEqual(['image/png']);
    expect(t.teams.connector.downloads).toEqual([
      { path: '/download/plan.docx', authorization: undefined },
      { path: '/v3/attachments/0-img-1/views/original', authorization: `Bearer ${OUTBOUND_TOKEN}` },
    ]);
    expect(replies()).toContain('read them');
  });

  it('a channel file on the connector is read with the token; one on SharePoint is named as skipped; another host is never fetched', async () => {
    t.teams.connector.downloads.length = 0;
    model.calls.length = 0;
    const timeline = t.teams.connector.addFile('/v3/attachments/0-pdf-1/views/original', pdfBytes('canary-teams-pdf: paged at 02:10'), 'application/pdf', true);
    await post('channel_mention', (a) => {
      a.attachments = [
        ...a.attachments,
        { contentType: 'application/pdf', contentUrl: timeline, name: 'timeline.pdf' },
        { contentType: 'reference', contentUrl: 'https://contoso.sharepoint.com/sites/eng/Shared%20Documents/runbook.pdf', name: 'runbook.pdf' },
        { contentType: 'image/png', contentUrl: 'https://images.example.com/steal.png', name: 'steal.png' },
      ];
    });
    const reply = replies().filter((r) => r.startsWith('read them')).at(-1)!;
    expect(reply).toContain('Skipped `runbook.pdf`: it could not be downloaded (files shared in Teams channels are read through Microsoft Graph, which this installation does not reach (it needs the app password)).');
    expect(reply).toContain('Skipped `steal.png`: Quorum cannot see this file');
    // The message's own HTML copy is not a file.
    expect(reply.match(/Skipped/g)).toHaveLength(2);
    // The turn reads it, and so may the knowledge index in the background (a channel's files are indexed): always with the token, nothing else.
    expect(t.teams.connector.downloads).toContainEqual({ path: '/v3/attachments/0-pdf-1/views/original', authorization: `Bearer ${OUTBOUND_TOKEN}` });
    expect(t.teams.connector.downloads.every((d) => d.path === '/v3/attachments/0-pdf-1/views/original' && d.authorization === `Bearer ${OUTBOUND_TOKEN}`)).toBe(true);
    expect(question(model.calls[0])?.content).toContain('<file name="timeline.pdf" format="pdf">\ncanary-teams-pdf: paged at 02:10');
    expect(question(model.calls[0])?.content).toContain('Not read: "runbook.pdf"');
  });
});

describe.each(drivers)('files shared in a Teams channel, read through Microsoft Graph (%s)', (driver) => {
  const GROUP = 'b7e1c9d3-4f2a-4e8b-a6c5-1d3f5b7a9c2e';
  const CHANNEL = '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2';
  const graph = new FakeGraph('graph-app-token');
  const tenants: string[] = [];
  const model = answered();
  const t = useTeams(driver, () => ({
    model,
    graph: {
      get baseUrl() {
        return graph.url;
      },
      token: async (tenant) => (tenants.push(tenant), 'graph-app-token'),
    },
  }));
  beforeAll(() => graph.start());
  afterAll(() => graph.stop());
  let n = 0;
  async function mention(attachments: Activity[], patch: (a: Activity) => void = () => {}): Promise<string> {
    model.calls.length = 0;
    const a = activity('channel_mention', t.teams.connector.url, (x) => {
      x.id = `17672591000${++n}`;
      x.channelData.team.aadGroupId = GROUP;
      x.attachments = [...x.attachments, ...attachments];
      patch(x);
    });
    expect((await t.teams.post(a)).status).toBe(200);
    await waitFor(async () => (await t.db.db.select().from(inbox)).every((r) => r.status === 'done') && model.calls.length > 0);
    return [...t.teams.connector.shown.values()].map((m) => m.text).filter((text) => text.startsWith('read them')).at(-1)!;
  }

  it("reads a file in the channel's own folder, with the app token to Graph and none to the download", async () => {
    const download = t.teams.connector.addFile('/download/runbook.pdf', pdfBytes('canary-graph-pdf: page the on-call first'), 'application/octet-stream', false);
    const address = 'https://contoso.sharepoint.com/sites/eng/Shared%20Documents/General/runbook.pdf';
    graph.channel(GROUP, CHANNEL, { driveId: 'b!eng', name: 'General' });
    graph.file(address, { name: 'runbook.pdf', size: 900, mimeType: 'application/pdf', driveId: 'b!eng', parent: '/General', downloadUrl: download });
    t.teams.connector.downloads.length = 0;
    const reply = await mention([{ contentType: 'reference', contentUrl: address, name: 'runbook.pdf' }]);
    expect(reply).not.toContain('Skipped');
    expect(question(model.calls[0])?.content).toContain('<file name="runbook.pdf" format="pdf">\ncanary-graph-pdf: page the on-call first');
    expect(tenants.at(-1)).toBe(CONTOSO);
    expect(graph.requests.every((r) => r.authorization === 'Bearer graph-app-token')).toBe(true);
    expect(graph.requests.map((r) => r.path)).toContain(`/v1.0/teams/${GROUP}/channels/${CHANNEL}/filesFolder`);
    // The turn reads it, and so may the knowledge index in the background: never with a token.
    expect(t.teams.connector.downloads.map((d) => d.path)).toContain('/download/runbook.pdf');
    expect(t.teams.connector.downloads.every((d) => d.path === '/download/runbook.pdf' && d.authorization === undefined)).toBe(true);
  });

  it("never reads a file from another channel's folder, or one Graph does not show", async () => {
    const download = t.teams.connector.addFile('/download/salaries.xlsx', new Uint8Array([1, 2, 3]), 'application/octet-stream', false);
    const elsewhere = 'https://contoso.sharepoint.com/sites/eng-leads/Shared%20Documents/Leads/salaries.csv';
    const sibling = 'https://contoso.sharepoint.com/sites/eng/Shared%20Documents/General%20Old/notes.txt';
    graph.channel(GROUP, CHANNEL, { driveId: 'b!eng', name: 'General' });
    graph.file(elsewhere, { name: 'salaries.csv', size: 3, mimeType: 'text/csv', driveId: 'b!leads', parent: '/Leads', downloadUrl: download });
    // Same drive, a folder whose name only starts like the channel's.
    graph.file(sibling, { name: 'notes.txt', size: 3, mimeType: 'text/plain', driveId: 'b!eng', parent: '/General Old', downloadUrl: download });
    t.teams.connector.downloads.length = 0;
    const reply = await mention([
      { contentType: 'reference', contentUrl: elsewhere, name: 'salaries.csv' },
      { contentType: 'reference', contentUrl: sibling, name: 'notes.txt' },
      { contentType: 'reference', contentUrl: 'https://contoso.sharepoint.com/sites/eng/Shared%20Documents/General/gone.txt', name: 'gone.txt' },
    ]);
    expect(reply).toContain('Skipped `salaries.csv`: Quorum cannot see this file');
    expect(reply).toContain('Skipped `notes.txt`: Quorum cannot see this file');
    expect(reply).toContain('Skipped `gone.txt`: Quorum cannot see this file');
    expect(t.teams.connector.downloads.filter((d) => d.path === '/download/salaries.xlsx')).toEqual([]);
  });

  it("a OneDrive link in a group chat is not read through Graph (it is someone's own file)", async () => {
    model.calls.length = 0;
    const a = activity('group_chat_message', t.teams.connector.url, (x) => {
      x.id = `17672592000${++n}`;
      x.attachments = [{ contentType: 'reference', contentUrl: 'https://contoso-my.sharepoint.com/personal/jordan/Documents/review.docx', name: 'review.docx' }];
    });
    expect((await t.teams.post(a)).status).toBe(200);
    await waitFor(async () => (await t.db.db.select().from(inbox)).every((r) => r.status === 'done') && model.calls.length > 0);
    const reply = [...t.teams.connector.shown.values()].map((m) => m.text).filter((text) => text.startsWith('read them')).at(-1)!;
    expect(reply).toContain('Skipped `review.docx`: it could not be downloaded (files linked in Teams chats are read only when sent in a 1:1 chat with Quorum)');
    const review = Buffer.from('https://contoso-my.sharepoint.com/personal/jordan/Documents/review.docx').toString('base64url');
    expect(graph.requests.filter((r) => r.path.includes(review))).toEqual([]);
  });

  it('a file too large by Graph\'s word is not downloaded', async () => {
    const download = t.teams.connector.addFile('/download/dump.bin', new Uint8Array([0]), 'application/octet-stream', false);
    const address = 'https://contoso.sharepoint.com/sites/eng/Shared%20Documents/General/dump.txt';
    graph.channel(GROUP, CHANNEL, { driveId: 'b!eng', name: 'General' });
    graph.file(address, { name: 'dump.txt', size: 50 * 1024 * 1024, mimeType: 'text/plain', driveId: 'b!eng', parent: '/General', downloadUrl: download });
    t.teams.connector.downloads.length = 0;
    const reply = await mention([{ contentType: 'reference', contentUrl: address, name: 'dump.txt' }]);
    expect(reply).toMatch(/Skipped `dump\.txt`: .*(large|limit)/);
    expect(t.teams.connector.downloads.filter((d) => d.path === '/download/dump.bin')).toEqual([]);
  });
});

describe.each(drivers)('files in a Teams turn, a model without images (%s)', (driver) => {
  const model = answered();
  const t = useTeams(driver, () => ({ model }));

  it('a picture is not sent; the answer says why', async () => {
    const picture = t.teams.connector.addFile('/v3/attachments/0-img-2/views/original', PNG_BYTES, 'image/png', true);
    const a = activity('personal_message', t.teams.connector.url, (x) => {
      x.text = 'what is in this picture?';
      x.attachments = [{ contentType: 'image/png', contentUrl: picture, name: 'whiteboard.png' }];
    });
    expect((await t.teams.post(a)).status).toBe(200);
    await waitFor(async () => (await t.db.db.select().from(inbox)).every((r) => r.status === 'done') && t.teams.connector.messages().length > 0);
    const asked = question(model.calls[0]);
    expect(asked?.role === 'user' && asked.images).toBeFalsy();
    expect(asked?.content).toContain('Not read: "whiteboard.png" (it is an image, and the configured model does not take images)');
    expect(t.teams.connector.messages().at(-1)?.body.text).toContain('Skipped `whiteboard.png`: it is an image, and the configured model does not take images.');
  });
});
