/** Signed Slack events and commands for the knowledge tests, and what the index holds. */
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { knowledgeChunks } from '../../src/db/schema.js';
import type { TestApp } from '../support/app.js';
import type { TestDatabase } from '../support/db.js';
import { commandFixture, freshEvent, postSlack } from '../slack/support.js';

export const BOT = 'U0ACMEBOT1';
export const OWNER = 'U0ACMEOWN1';
export const ADMIN = 'U0ACMEADM1';
export const MEMBER = 'U0ACMEMEM1';

/** An Events API body from Acme around `event` (a fresh event_id each time). */
export function eventBody(event: Record<string, unknown>): any {
  const body = freshEvent('app_mention');
  body.event = event;
  return body;
}

/** A person's message in a channel (or a DM with channel_type 'im'), as message.channels delivers it. */
export function messageEvent(channel: string, user: string, ts: string, text: string, extra: Record<string, unknown> = {}): any {
  const type = channel.startsWith('D') ? 'im' : channel.startsWith('G') ? 'group' : 'channel';
  return eventBody({ type: 'message', channel, user, ts, text, channel_type: type, event_ts: ts, team: 'T0ACME0001', ...extra });
}

export async function post(app: TestApp, body: unknown): Promise<void> {
  expect((await postSlack(app, body)).status).toBe(200);
}

/** A signed /agent command (the help fixture with another user, channel and text); answers its ephemeral text. */
export async function command(app: TestApp, user: string, text: string, channel = 'C0ACMEGEN1'): Promise<string> {
  const form = commandFixture('agent_help')
    .replace(/user_id=[^&]+/, `user_id=${user}`)
    .replace(/channel_id=[^&]+/, `channel_id=${channel}`)
    .replace(/text=[^&]*/, `text=${encodeURIComponent(text)}`);
  const res = await postSlack(app, form);
  expect(res.status).toBe(200);
  return JSON.parse(res.text).text as string;
}

/** The index's rows (content and where from), oldest first. */
export async function chunks(db: TestDatabase, where = sql`true`) {
  return db.db
    .select({
      content: knowledgeChunks.content,
      channel: knowledgeChunks.channelExternalId,
      kind: knowledgeChunks.sourceKind,
      sourceId: knowledgeChunks.sourceId,
      author: knowledgeChunks.authorUserId,
      permalink: knowledgeChunks.permalink,
      owner: knowledgeChunks.dmOwnerUserId,
    })
    .from(knowledgeChunks)
    .where(where)
    .orderBy(knowledgeChunks.id);
}
