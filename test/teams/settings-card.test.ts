/**
 * The Teams settings card: `/agent settings` in the 1:1 chat posts the person's own view as an
 * Adaptive Card (for admins with the settings forms inline); a form submitted from the card runs
 * the `/agent` runner as the clicker and the card is updated in place. The welcome in a 1:1 chat
 * offers the suggested prompts.
 */
import { desc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { suggestedPrompts } from '../../src/core/suggested-prompts.js';
import { auditLog, workspaceSettings, workspaces } from '../../src/db/schema.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, ALEX, CONTOSO, JORDAN, useTeams } from './helpers.js';

const ALEX_CHAT = 'a:1sC1vtvblI-fsWWmRi55E3NVlwOcHtgEGdAsNvB5F13P4Pif6w1RkEtZIX_hX1ntSdRySQriY7QNihcgnnM0IaRzL1WALgfqP';
const JORDAN_CHAT = 'a:1jordanPersonalChatWithQuorum0000000000000000000000000000000000';
let n = 0;

describe.each(drivers)('Teams settings card (%s)', (driver) => {
  const t = useTeams(driver, () => ({ env: { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX}` } }));
  const say = async (who: 'alex' | 'jordan', text: string) => {
    n += 1;
    const a = activity('personal_message', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}${String(n).padStart(4, '0')}`;
      x.text = text;
      if (who === 'jordan') {
        x.from = { id: '29:1jordan', name: 'Jordan Lee', aadObjectId: JORDAN };
        x.conversation = { ...x.conversation, id: JORDAN_CHAT };
      }
    });
    expect((await t.teams.post(a)).status).toBe(200);
  };
  const cardIn = (chat: string) =>
    waitFor(() => t.teams.connector.posted.filter((p) => p.conversationId === chat && (p.body.attachments as unknown[] | undefined)?.length).at(-1));
  const cardText = (attachments: any[] | undefined) => JSON.stringify(attachments?.[0]?.content ?? {});
  const submit = (user: string, chat: string, cardId: string, value: string, fields: Record<string, string>) =>
    t.teams.app.running.interactions.route({
      kind: 'submit', idempotencyKey: `${cardId}-${(n += 1)}`, workspace: { platform: 'teams', externalId: CONTOSO }, user: { id: user },
      channel: { id: chat, kind: 'dm' }, actionId: 'settings:save', value, fields, message: { id: cardId }, receivedAt: new Date(),
    });
  const dailyTokens = async () => {
    const [row] = await t.db.db.select({ v: workspaceSettings.dailyTokens }).from(workspaceSettings).innerJoin(workspaces, eq(workspaces.id, workspaceSettings.workspaceId)).where(eq(workspaces.externalId, CONTOSO));
    return row?.v ?? null;
  };

  it('posts an admin their card with the settings forms, and a submitted form changes the setting and refreshes the card in place', async () => {
    await say('alex', '/agent settings');
    const card = await cardIn(ALEX_CHAT);
    const content = (card.body.attachments as any[])[0];
    expect(content.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(cardText(card.body.attachments as any[])).toContain('Workspace settings');
    const forms = content.content.actions.map((a: any) => a.card.actions[0].data);
    expect(forms).toEqual(['agent', 'guests', 'tools', 'limits', 'budget', 'retention'].map((value) => ({ quorumAction: 'settings:save', value })));
    await waitFor(() => t.teams.connector.posted.find((p) => p.conversationId === ALEX_CHAT && p.body.text?.includes('on the card in our 1:1 chat')));
    // A forged token: 401, nothing changes.
    const forged = activity('message_card_submit', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}7000`;
      x.replyToId = card.id;
      x.value = { quorumAction: 'settings:save', value: 'budget', tokens: '1' };
    });
    expect((await t.teams.post(forged, 'Bearer not-a-token')).status).toBe(401);
    expect(await dailyTokens()).not.toBe(1);

    // The card's Save, as Teams sends it: a message activity whose value holds the data and the inputs.
    const save = activity('message_card_submit', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}7001`;
      x.replyToId = card.id;
      x.value = { quorumAction: 'settings:save', value: 'budget', tokens: '90000' };
    });
    expect((await t.teams.post(save)).status).toBe(200);
    expect(await dailyTokens()).toBe(90_000);
    await waitFor(() => t.teams.connector.posted.find((p) => p.conversationId === ALEX_CHAT && /token budget/i.test(p.body.text ?? '')));
    const [entry] = await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'admin_change')).orderBy(desc(auditLog.id)).limit(1);
    expect(entry!.detail).toMatchObject({ new: '90000' });
    // A wrong value on the card: said in the chat (a card has no field errors), nothing changed.
    const wrong = activity('message_card_submit', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}7002`;
      x.replyToId = card.id;
      x.value = { quorumAction: 'settings:save', value: 'budget', tokens: 'plenty' };
    });
    expect((await t.teams.post(wrong)).status).toBe(200);
    await waitFor(() => t.teams.connector.posted.find((p) => p.conversationId === ALEX_CHAT && p.body.text?.startsWith('Nothing changed. Usage: /agent budget')));
    expect(await dailyTokens()).toBe(90_000);
    const refreshed = t.teams.connector.updated.filter((u) => u.activityId === card.id).at(-1);
    expect(refreshed?.conversationId).toBe(ALEX_CHAT);
    expect(cardText(refreshed?.attachments)).toContain("This workspace's daily token budget: 90,000 tokens/day");
  });

  it('shows a member their own card without forms, and refuses a form they submit anyway', async () => {
    await say('jordan', '/agent settings');
    const card = await cardIn(JORDAN_CHAT);
    expect(cardText(card.body.attachments as any[])).toContain('You are a member here.');
    expect(cardText(card.body.attachments as any[])).not.toContain('Workspace settings');
    expect((card.body.attachments as any[])[0].content.actions).toEqual([]);
    const before = await dailyTokens();
    const result = await submit(JORDAN, JORDAN_CHAT, card.id, 'budget', { tokens: '5' });
    expect(result.status === 'handled' && result.answer).toEqual({ kind: 'notice', text: 'Only workspace admins can do that.' });
    expect(await dailyTokens()).toBe(before);
  });

  it('welcomes a person in a new 1:1 chat with the suggested prompts', async () => {
    const added = activity('conversation_update_members_added', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}9001`;
      x.conversation = { conversationType: 'personal', tenantId: CONTOSO, id: ALEX_CHAT };
      x.membersAdded = [{ id: x.recipient.id }];
      delete x.channelData?.team;
    });
    expect((await t.teams.post(added)).status).toBe(200);
    const welcome = await waitFor(() => t.teams.connector.posted.find((p) => p.conversationId === ALEX_CHAT && p.body.suggestedActions));
    const actions = (welcome.body.suggestedActions as { actions: { type: string; title: string; value: string }[] }).actions;
    expect(actions.map((a) => a.value)).toEqual(suggestedPrompts('member', 'chat').map((p) => p.message));
    expect(actions.every((a) => a.type === 'imBack')).toBe(true);
  });
});
