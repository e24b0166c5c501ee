import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denyExplanation } from '../../src/core/access/policy.js';
import { eq } from 'drizzle-orm';
import { inbox, principals } from '../../src/db/schema.js';
import { OUTBOUND_TOKEN } from '../fakes/bot-openid.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, ALEX, FABRIKAM, startTeams, type Activity, type TeamsHarness } from './helpers.js';

const CHANNEL = '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2';
const TEAM = '19:4b2d9f7a1c3e4f6a8b0d2e4f6a8c0e1b@thread.tacv2';

describe.each(drivers)('Teams conversations over /api/messages (%s)', (driver) => {
  let db: TestDatabase;
  let teams: TeamsHarness;
  let seq = 0;
  let release: () => void = () => {};
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const fresh = (a: Activity): Activity => ({ ...a, id: `${Date.now()}${String(++seq).padStart(4, '0')}` });

  /** Waits until every inbox row is done, then returns what the connector got. */
  async function settled() {
    await waitFor(async () => (await db.db.select().from(inbox)).every((r) => r.status === 'done' || r.status === 'dead'));
    return teams.connector.messages();
  }

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    const model = new RecordingModelGate(async (call) => {
      const last = call.messages[call.messages.length - 1]?.content ?? '';
      if (last.includes('BLOCK')) await blocked;
      return RecordingModelGate.echo(call);
    });
    teams = await startTeams(db, { model });
  });
  afterAll(async () => {
    await teams?.stop();
    await db?.close();
  });

  it('answers a channel mention once, in its reply chain, in its status message, with the bot token and without the mention', async () => {
    const a = activity('channel_mention', teams.connector.url);
    expect((await teams.post(a)).status).toBe(200);
    await settled();
    // One message in the reply chain: the status message, which the answer then replaced.
    const mine = teams.connector.messages().filter((p) => p.replyToId === a.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.conversationId).toBe(`${CHANNEL};messageid=${a.id}`);
    expect(mine[0]!.authorization).toBe(`Bearer ${OUTBOUND_TOKEN}`);
    expect(mine[0]!.body).toMatchObject({ textFormat: 'markdown', text: '_Planning…_' });
    const answer = teams.connector.updated.filter((u) => u.activityId === mine[0]!.id).at(-1)!;
    expect(answer.authorization).toBe(`Bearer ${OUTBOUND_TOKEN}`);
    expect(teams.connector.visible(`${CHANNEL};messageid=${a.id}`).map((m) => m.text)).toEqual(['echo: summarize the incident timeline for INC-2291']);
    expect(teams.model.promptsText().at(-1)).not.toContain('<at>');
  });

  it('answers inside an existing reply chain, and the same activity twice only once', async () => {
    const a = activity('channel_mention_in_reply_chain', teams.connector.url);
    expect((await teams.post(a)).status).toBe(200);
    expect((await teams.post(a)).status).toBe(200);
    await settled();
    const mine = teams.connector.visible(`${CHANNEL};messageid=1767257400456`);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.replyToId).toBe('1767257400456');
    expect(mine[0]!.text).toBe('echo: which alerts fired first?');
  });

  it('answers a 1:1 message in the personal chat, with a typing indicator first', async () => {
    const a = fresh(activity('personal_message', teams.connector.url));
    expect((await teams.post(a)).status).toBe(200);
    await settled();
    const here = teams.connector.posted.filter((p) => p.conversationId === (a.conversation as { id: string }).id);
    expect(here.map((p) => p.body.type)).toEqual(['typing', 'message']);
    expect(here[1]!.body.text).toContain('Help me prepare my 1:1 notes');
  });

  it('answers a group chat mention in the group chat', async () => {
    const a = activity('group_chat_message', teams.connector.url);
    expect((await teams.post(a)).status).toBe(200);
    await settled();
    const here = teams.connector.visible('19:7a5c3e1f9b2d4c6e8a0b2d4f6a8c0e2f@thread.v2');
    expect(here.map((m) => m.text)).toEqual(['echo: turn this chat into a list of action items']);
  });

  it('answers `/agent help` as a command, not with the model', async () => {
    const calls = teams.model.calls.length;
    const a = fresh(activity('personal_message', teams.connector.url, (x) => (x.text = '/agent help')));
    expect((await teams.post(a)).status).toBe(200);
    await settled();
    const reply = teams.connector.messages().find((p) => p.replyToId === a.id);
    expect(reply?.body.text).toMatch(/^Quorum commands\./);
    expect(reply?.body.text).toContain("`/agent status` — ");
    expect(teams.model.calls.length).toBe(calls);
  });

  it('reads the team roster across pages, and a removed member loses access at once', async () => {
    // Dev Sharma is on page 2 of the roster only.
    const dev = fresh(
      activity('channel_mention', teams.connector.url, (x) => {
        x.from = { id: '29:dev', name: 'Dev Sharma', aadObjectId: '8a6e4c2b-0f9d-4b1a-8c3e-5d7f9a1b3c5d' };
        x.text = '<at>Quorum</at> roster question';
      }),
    );
    dev.conversation = { ...(dev.conversation as object), id: `${CHANNEL};messageid=${dev.id}` };
    await teams.post(dev);
    await settled();
    expect(teams.connector.visible(dev.conversation.id).map((m) => m.text)).toEqual(['echo: roster question']);
    expect(teams.connector.requests.some((r) => r.path === `/v3/conversations/${TEAM}/pagedmembers`)).toBe(true);

    // Jordan leaves the team; the fake connector still lists Jordan, so only the event can deny.
    expect((await teams.post(activity('conversation_update_members_removed', teams.connector.url))).status).toBe(200);
    const jordan = fresh(activity('channel_mention_in_reply_chain', teams.connector.url, (x) => (x.text = '<at>Quorum</at> after leaving')));
    const calls = teams.model.calls.length;
    await teams.post(jordan);
    await settled();
    const reply = teams.connector.visible(`${CHANNEL};messageid=1767257400456`).find((m) => m.text !== 'echo: which alerts fired first?');
    expect(reply?.text).toBe(denyExplanation.not_a_member);
    expect(teams.model.calls.length).toBe(calls);
  });

  it('keeps tenants and users apart: no prompt sees another person\'s personal chat', async () => {
    // Fabrikam installs Quorum, then Riley (Fabrikam) writes 1:1.
    const install = activity('installation_update_add', teams.connector.url, (x) => {
      x.conversation.tenantId = FABRIKAM;
      x.conversation.id = x.channelData.team.id = x.channelData.channel.id = '19:c1a3e5b7d9f14b2c8e6a0d2f4b6c8e1a@thread.tacv2';
      x.channelData.tenant.id = FABRIKAM;
    });
    expect((await teams.post(install)).status).toBe(200);
    const rileyChat = 'a:1riley-personal-chat';
    const riley = { id: '29:riley', name: 'Riley Chen', aadObjectId: '3d1f9b7e-5a4c-4d6f-8b0e-0a2c4e6f8a1d' };
    teams.connector.rosters.set(rileyChat, [{ members: [{ ...riley, tenantId: FABRIKAM, userRole: 'user' }] }]);
    const inFabrikam = (text: string) =>
      fresh(
        activity('personal_message', teams.connector.url, (x) => {
          x.text = text;
          x.from = riley;
          x.conversation = { conversationType: 'personal', tenantId: FABRIKAM, id: rileyChat };
          x.channelData = { tenant: { id: FABRIKAM } };
        }),
      );
    const asAlex = (text: string) => fresh(activity('personal_message', teams.connector.url, (x) => (x.text = text)));
    const sofiaChat = 'a:1sofia-personal-chat';
    const asSofia = (text: string) =>
      fresh(
        activity('personal_message', teams.connector.url, (x) => {
          x.text = text;
          x.from = { id: '29:1haq', name: 'Sofia Martins', aadObjectId: '2c0e8a6d-4f3b-4c5e-9a7d-9f1b3d5e7a9c' };
          x.conversation = { ...x.conversation, id: sofiaChat };
        }),
      );

    await teams.post(asAlex('CANARY-ALEX-7731 is my salary'));
    await teams.post(inFabrikam('CANARY-RILEY-5512 is our bid'));
    await settled();
    await teams.post(asAlex('what did I tell you?'));
    await teams.post(inFabrikam('what did I tell you?'));
    await teams.post(asSofia('what did Alex or Riley tell you?'));
    await settled();

    const prompts = teams.model.calls.map((c) => ({ user: c.principalId, text: c.messages.map((m) => m.content).join('\n') }));
    const last = (needle: string) => prompts.filter((p) => p.text.includes(needle)).at(-1)!.text;
    const alexSecond = prompts.filter((p) => p.text.includes('what did I tell you?') && p.text.includes('CANARY-ALEX-7731'));
    expect(alexSecond).toHaveLength(1);
    expect(alexSecond[0]!.text).not.toContain('CANARY-RILEY-5512');
    const rileySecond = prompts.filter((p) => p.text.includes('what did I tell you?') && p.text.includes('CANARY-RILEY-5512'));
    expect(rileySecond).toHaveLength(1);
    expect(rileySecond[0]!.text).not.toContain('CANARY-ALEX-7731');
    const sofia = last('what did Alex or Riley tell you?');
    expect(sofia).not.toContain('CANARY-ALEX-7731');
    expect(sofia).not.toContain('CANARY-RILEY-5512');
    // Riley's answer went to Riley's chat only.
    const rileyReplies = teams.connector.messages().filter((p) => p.conversationId === rileyChat);
    expect(rileyReplies.every((p) => !p.body.text?.includes('CANARY-ALEX'))).toBe(true);
    expect(ALEX).toBeTruthy();
  });

  it('stops a conversation\'s work when Quorum is removed, and refuses the tenant afterwards', async () => {
    const remove = activity('installation_update_remove', teams.connector.url);
    expect((await teams.post(remove)).status).toBe(200);
    const riley = fresh(
      activity('personal_message', teams.connector.url, (x) => {
        x.from = { id: '29:riley', name: 'Riley Chen', aadObjectId: '3d1f9b7e-5a4c-4d6f-8b0e-0a2c4e6f8a1d' };
        x.conversation = { conversationType: 'personal', tenantId: FABRIKAM, id: 'a:1riley-personal-chat' };
        x.channelData = { tenant: { id: FABRIKAM } };
      }),
    );
    expect((await teams.post(riley)).status).toBe(403);
  });

  it('treats a B2B guest as a guest, from the member lookup', async () => {
    const a = activity('guest_personal_message', teams.connector.url);
    expect((await teams.post(a)).status).toBe(200);
    await settled();
    const [row] = await db.db.select().from(principals).where(eq(principals.platformUserId, '6f4d2b0e-8c7a-4e9f-b1d3-5e7a9c1e3f5b'));
    expect(row?.platformRole).toBe('guest');
  });

  it('drops the pending reply of a conversation Quorum was removed from while it worked', async () => {
    const chat = '19:7a5c3e1f9b2d4c6e8a0b2d4f6a8c0e2f@thread.v2';
    const a = fresh(activity('group_chat_message', teams.connector.url, (x) => (x.text = '<at>Quorum</at> BLOCK until removed')));
    expect((await teams.post(a)).status).toBe(200);
    await waitFor(() => teams.model.promptsText().some((t) => t.includes('BLOCK until removed')));
    const removed = activity('conversation_update_members_removed', teams.connector.url, (x) => {
      x.id = 'f:bot-removed';
      x.conversation = { isGroup: true, conversationType: 'groupChat', tenantId: x.conversation.tenantId, id: chat };
      delete x.channelData.team;
      delete x.channelData.eventType;
      x.membersRemoved = [{ id: x.recipient.id }];
    });
    expect((await teams.post(removed)).status).toBe(200);
    release();
    await settled();
    // The status message shown before the removal stays; no answer follows it.
    expect(teams.connector.visible(chat).filter((m) => m.replyToId === a.id).map((m) => m.text)).toEqual(['_Planning…_']);
  });

  it('welcomes a conversation the bot is added to', async () => {
    const added = activity('conversation_update_members_added', teams.connector.url, (x) => {
      x.id = 'f:bot-added';
      x.conversation.id = '19:7a5c3e1f9b2d4c6e8a0b2d4f6a8c0e2f@thread.v2';
      x.conversation.conversationType = 'groupChat';
      delete x.channelData.team;
      x.membersAdded = [{ id: x.recipient.id }];
    });
    expect((await teams.post(added)).status).toBe(200);
    const welcome = teams.connector.messages().filter((p) => p.conversationId === '19:7a5c3e1f9b2d4c6e8a0b2d4f6a8c0e2f@thread.v2' && p.body.text?.startsWith("Hi, I'm Quorum"));
    expect(welcome).toHaveLength(1);
  });
});
