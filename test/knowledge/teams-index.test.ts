/**
 * Knowledge from Teams through signed activities to /api/messages (auth on, the fake Bot
 * Connector): with resource-specific consent the bot receives channel messages without a mention;
 * each is indexed with a Teams deep link and never answered; an edit replaces it, a deletion
 * removes it.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { drivers } from '../support/db.js';
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
