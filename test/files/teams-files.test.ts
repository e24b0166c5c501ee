/**
 * Files in a Teams turn, through activities posted to /api/messages with auth on and the fake Bot
 * Connector serving the files: a 1:1 file (download info) is fetched from its pre-authorised link
 * without the bot's token, a pasted picture or a file on the connector with it; a picture on a
 * host outside MICROSOFT_SERVICE_URL_HOSTS is never fetched; a channel's SharePoint file is named
 * as skipped, the message's own HTML copy is not a file; without an image-capable model a picture
 * gets a note.
 */
import { describe, expect, it } from 'vitest';
import { inbox } from '../../src/db/schema.js';
import type { ModelCall } from '../../src/core/ports.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { OUTBOUND_TOKEN } from '../fakes/bot-openid.js';
import { drivers } from '../support/db.js';
import { docxBytes, pdfBytes, PNG_BYTES } from '../support/files.js';
import { waitFor } from '../support/wait.js';
import { activity, useTeams, type Activity } from '../teams/helpers.js';

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
    expect(reply).toContain('Skipped `runbook.pdf`: it could not be downloaded (files shared in Teams channels are read through Microsoft Graph, which Quorum does not call yet).');
    expect(reply).toContain('Skipped `steal.png`: Quorum cannot see this file');
    // The message's own HTML copy is not a file.
    expect(reply.match(/Skipped/g)).toHaveLength(2);
    expect(t.teams.connector.downloads).toEqual([{ path: '/v3/attachments/0-pdf-1/views/original', authorization: `Bearer ${OUTBOUND_TOKEN}` }]);
    expect(question(model.calls[0])?.content).toContain('<file name="timeline.pdf" format="pdf">\ncanary-teams-pdf: paged at 02:10');
    expect(question(model.calls[0])?.content).toContain('Not read: "runbook.pdf"');
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
