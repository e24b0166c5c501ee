/**
 * `/agent audit export` in Teams: the admin gets a file consent card in their 1:1 chat; when they
 * accept, Teams sends `fileConsent/invoke` with an upload URL, Quorum PUTs the file there with a
 * Content-Range, and posts a file info card. The uploaded file verifies with the signing key; a
 * member is refused; an answer for a file that is not pending (or from someone else) sends nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSigningKey } from '../../src/db/audit-signing.js';
import { verifyExportFile } from '../../src/db/audit-export.js';
import { FILE_CONSENT_CARD, FILE_INFO_CARD } from '../../adapters/teams/file-consent.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { ENCRYPTION_KEY } from '../slack/support.js';
import { activity, ALEX, CONTOSO, JORDAN, startTeams, useTeams } from './helpers.js';

const KEY = auditSigningKey({ encryptionKey: Buffer.from(ENCRYPTION_KEY, 'base64') });

/** A stand-in for the OneDrive upload URL Teams hands out. */
class UploadServer {
  readonly puts: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  private server: Server | null = null;
  url = '';
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'PUT') this.puts.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/upload/session-1`;
    return this;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe.each(drivers)('audit export in Teams: consent card, then upload on accept (%s)', (driver) => {
  const env = { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX}`, QUORUM_ENCRYPTION_KEY: ENCRYPTION_KEY };
  const t = useTeams(driver, () => ({ env }));
  const upload = new UploadServer();
  let n = 0;
  beforeAll(() => upload.start());
  afterAll(() => upload.stop());

  const say = (text: string, patch: (a: Record<string, any>) => void = () => {}) =>
    t.teams.post(
      activity('personal_message', t.teams.connector.url, (a) => {
        a.id = `${Date.now()}${++n}`;
        a.text = text;
        patch(a);
      }),
    );
  const consentCards = () => t.teams.connector.posted.filter((p) => (p.body.attachments as { contentType: string }[] | undefined)?.[0]?.contentType === FILE_CONSENT_CARD);
  const answer = (action: 'accept' | 'decline', fileId: string, from?: Record<string, unknown>, teams = t.teams) =>
    teams.post(
      activity('personal_message', teams.connector.url, (a) => {
        a.id = `${Date.now()}${++n}`;
        a.type = 'invoke';
        a.name = 'fileConsent/invoke';
        delete a.text;
        if (from) a.from = from;
        a.value = {
          type: 'fileUpload',
          action,
          context: { fileId },
          uploadInfo: { uploadUrl: upload.url, contentUrl: 'https://contoso-my.sharepoint.com/personal/alex/export.jsonl', name: 'export.jsonl', uniqueId: 'U1', fileType: 'jsonl' },
        };
      }),
    );

  it('offers the file in the 1:1 chat, uploads it on accept, and it verifies', async () => {
    expect((await say('/agent limit rpm 60')).status).toBe(200);
    // Teams commands go through the inbox: the change is in before the export is asked for.
    await waitFor(() => t.teams.connector.messages().find((p) => p.body.text?.startsWith('Requests per minute')));
    expect((await say('/agent audit export 30d')).status).toBe(200);
    const card = await waitFor(() => consentCards()[0]);
    const reply = await waitFor(() => t.teams.connector.messages().find((p) => p.body.text?.includes('accept it there')));
    expect(reply.body.text).toMatch(/^I offered you the audit trail of the last 30 days \(\d+ entries\) as a file in our 1:1 chat/);
    expect(card.conversationId).toMatch(/^a:1sC1/);
    const attachment = (card.body.attachments as any[])[0];
    expect(attachment.content.acceptContext.fileId).toMatch(/^[0-9a-f]{32}$/);

    // Someone else answering the card takes nothing.
    const res0 = await answer('accept', attachment.content.acceptContext.fileId, { id: '29:other', name: 'Jordan', aadObjectId: JORDAN });
    expect(res0.status).toBe(200);
    expect(upload.puts).toHaveLength(0);

    const res = await answer('accept', attachment.content.acceptContext.fileId);
    expect(res.status).toBe(200);
    expect(upload.puts).toHaveLength(1);
    const put = upload.puts[0]!;
    const size = Buffer.byteLength(put.body);
    expect(put.headers['content-range']).toBe(`bytes 0-${size - 1}/${size}`);
    expect(attachment.content.sizeInBytes).toBe(size);
    expect(put.body).toContain('"setting":"rpm"');
    expect(verifyExportFile(put.body, KEY)).toMatchObject({ ok: true, signature: 'valid' });
    const info = await waitFor(() => t.teams.connector.posted.find((p) => (p.body.attachments as any[] | undefined)?.[0]?.contentType === FILE_INFO_CARD));
    expect((info.body.attachments as any[])[0]).toMatchObject({ name: 'export.jsonl', contentUrl: 'https://contoso-my.sharepoint.com/personal/alex/export.jsonl' });

    // The same card answered twice uploads once.
    await answer('accept', attachment.content.acceptContext.fileId);
    expect(upload.puts).toHaveLength(1);
  });

  it('takes the answer on another instance (the file waits in the database), once', async () => {
    const before = consentCards().length;
    expect((await say('/agent audit export 7d')).status).toBe(200);
    const card = await waitFor(() => consentCards()[before]);
    const fileId = (card.body.attachments as any[])[0].content.acceptContext.fileId as string;
    const second = await startTeams(t.db, { env });
    try {
      const puts = upload.puts.length;
      expect((await answer('accept', fileId, undefined, second)).status).toBe(200);
      expect(upload.puts).toHaveLength(puts + 1);
      expect(verifyExportFile(upload.puts.at(-1)!.body, KEY)).toMatchObject({ ok: true, signature: 'valid' });
      await waitFor(() => second.connector.posted.find((p) => (p.body.attachments as any[] | undefined)?.[0]?.contentType === FILE_INFO_CARD));
      // The first instance, answered the same card afterwards, has nothing left to send.
      await answer('accept', fileId);
      expect(upload.puts).toHaveLength(puts + 1);
      await waitFor(() => t.teams.connector.messages().find((p) => p.body.text === 'That file is no longer available. Please ask for it again.'));
    } finally {
      await second.stop();
    }
  });

  it('refuses a member', async () => {
    const before = consentCards().length;
    await say('/agent audit export 30d', (a) => {
      a.from = { id: '29:jordan', name: 'Jordan Lee', aadObjectId: JORDAN };
    });
    await waitFor(() => t.teams.connector.messages().find((p) => /admin/i.test(p.body.text ?? '') && p.body.text !== undefined && !p.body.text.includes('offered')));
    expect(consentCards()).toHaveLength(before);
  });
});
