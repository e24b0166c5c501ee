/**
 * Knowledge from Teams through signed activities to /api/messages (auth on, the fake Bot
 * Connector): with resource-specific consent the bot receives channel messages without a mention;
 * each is indexed with a Teams deep link and never answered; an edit replaces it, a deletion
 * removes it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGraph } from '../fakes/graph.js';
import { drivers } from '../support/db.js';
import { pdfBytes } from '../support/files.js';
import { waitFor } from '../support/wait.js';
import { activity, useTeams } from '../teams/helpers.js';
import { chunks } from './support.js';

const CHANNEL = '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2';

describe.each(drivers)('knowledge from Teams (%s)', (driver) => {
  const ctx = useTeams(driver);
  const plain = (id: string, text: string, type = 'message', eventType?: string) =>
    activity('channel_mention', ctx.teams.connector.url, (a) => {
      a.id = id;
      a.type = type;
      a.text = text;
      a.entities = [];
      delete a.attachments;
      a.conversation.id = `${CHANNEL};messageid=1767258000123`;
      if (eventType) a.channelData.eventType = eventType;
    });

  it('indexes a channel message sent without a mention, with a deep link, and does not answer it', async () => {
    expect((await ctx.teams.post(plain('1767258000999', '<p>teams-canary: the <b>incident</b> review is on Tuesday</p>'))).status).toBe(200);
    const rows = await chunks(ctx.db, sql`source_id = '1767258000999'`);
    expect(rows.map((r) => r.content)).toEqual(['teams-canary: the incident review is on Tuesday']);
    expect(rows[0]!.channel).toBe(CHANNEL);
    expect(rows[0]!.permalink).toBe(
      `https://teams.microsoft.com/l/message/${encodeURIComponent(CHANNEL)}/1767258000999?tenantId=3f8d2c1a-5b7e-4d9f-8a6c-2e4b1d7f9a3c&parentMessageId=1767258000123`,
    );
    expect(ctx.teams.model.calls).toHaveLength(0);
  });

  it('an edit replaces the entry and a deletion removes it', async () => {
    expect((await ctx.teams.post(plain('1767258000999', 'teams-canary: moved to Wednesday', 'messageUpdate', 'editMessage'))).status).toBe(200);
    expect((await chunks(ctx.db, sql`source_id = '1767258000999'`)).map((r) => r.content)).toEqual(['teams-canary: moved to Wednesday']);
    expect((await ctx.teams.post(plain('1767258000999', '', 'messageDelete', 'softDeleteMessage'))).status).toBe(200);
    expect(await chunks(ctx.db, sql`source_id = '1767258000999'`)).toEqual([]);
  });
});

describe.each(drivers)('files shared in a Teams channel, indexed through Microsoft Graph (%s)', (driver) => {
  const GROUP = 'b7e1c9d3-4f2a-4e8b-a6c5-1d3f5b7a9c2e';
  const graph = new FakeGraph('graph-app-token');
  const ctx = useTeams(driver, () => ({
    graph: {
      get baseUrl() {
        return graph.url;
      },
      token: async () => 'graph-app-token',
    },
  }));
  beforeAll(() => graph.start());
  afterAll(() => graph.stop());

  it("a file shared without a mention is read in the background and indexed with the message's deep link; one from another folder is not", async () => {
    const download = ctx.teams.connector.addFile('/download/postmortem.pdf', pdfBytes('teams-file-canary: the root cause was a full disk'), 'application/octet-stream', false);
    const address = 'https://contoso.sharepoint.com/sites/eng/Shared%20Documents/General/postmortem.pdf';
    const elsewhere = 'https://contoso.sharepoint.com/sites/leads/Shared%20Documents/Leads/reviews.pdf';
    graph.channel(GROUP, CHANNEL, { driveId: 'b!eng', name: 'General' });
    graph.file(address, { name: 'postmortem.pdf', size: 900, mimeType: 'application/pdf', driveId: 'b!eng', parent: '/General', downloadUrl: download });
    graph.file(elsewhere, { name: 'reviews.pdf', size: 900, mimeType: 'application/pdf', driveId: 'b!leads', parent: '/Leads', downloadUrl: download });
    const shared = activity('channel_mention', ctx.teams.connector.url, (a) => {
      a.id = '1767258001500';
      a.text = '';
      a.entities = [];
      a.conversation.id = `${CHANNEL};messageid=1767258001500`;
      a.channelData.team.aadGroupId = GROUP;
      a.attachments = [
        { contentType: 'reference', contentUrl: address, name: 'postmortem.pdf' },
        { contentType: 'reference', contentUrl: elsewhere, name: 'reviews.pdf' },
      ];
    });
    expect((await ctx.teams.post(shared)).status).toBe(200);
    const read = await waitFor(async () => {
      const rows = await chunks(ctx.db, sql`source_kind = 'file'`);
      return rows.some((r) => r.content.includes('teams-file-canary')) && rows.length >= 2 ? rows : null;
    });
    const text = read.find((r) => r.content.includes('teams-file-canary'))!;
    expect(text.channel).toBe(CHANNEL);
    expect(text.permalink).toBe(`https://teams.microsoft.com/l/message/${encodeURIComponent(CHANNEL)}/1767258001500?tenantId=3f8d2c1a-5b7e-4d9f-8a6c-2e4b1d7f9a3c&groupId=${GROUP}`);
    // The other folder's file is known by its name only, never read.
    expect(read.filter((r) => r.content.includes('reviews.pdf')).every((r) => !r.content.includes('teams-file-canary'))).toBe(true);
    expect(ctx.teams.connector.downloads.map((d) => d.path)).toEqual(['/download/postmortem.pdf']);
    expect(ctx.teams.model.calls).toHaveLength(0);
  });
});
