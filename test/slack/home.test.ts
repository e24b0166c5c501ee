/**
 * The App Home tab and the admin settings behind it: `app_home_opened` through POST /slack/events
 * (signed) publishes each person's own view; a settings form submitted as an interaction (through
 * the service's interaction router, which the adapters hand verified clicks to) runs the `/agent`
 * command runner as the clicker: applied and audited for an admin, refused for a member or for
 * an admin demoted since the form opened, and the Home is published again.
 */
import { and, desc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { InteractionInput } from '../../src/core/interactions.js';
import { answerCommand } from '../../src/core/turn.js';
import { envelopeSchema } from '../../src/core/envelope.js';
import { auditLog, principals, usage, workspaceSettings, workspaces } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, interactionFixture, interactionForm, postSlack, useSlackApp } from './support.js';

const PRIYA = { id: 'U0ACMEOWN1', username: 'priya', name: 'priya', team_id: 'T0ACME0001' };
const ACME = { platform: 'slack' as const, externalId: 'T0ACME0001' };
let clicks = 0;

describe.each(drivers)('Slack App Home and its settings (%s)', (driver) => {
  const slack = useSlackApp(driver, () => ({ model: new RecordingModelGate() }));
  const deps = () => slack.app.running.deps;
  const router = () => slack.app.running.interactions;
  const click = (user: string, actionId: string, value = '', fields: Record<string, string> = {}, kind: InteractionInput['kind'] = 'submit') => {
    clicks += 1;
    return router().route({ kind, idempotencyKey: `view-${process.pid}-${clicks}`, workspace: ACME, user: { id: user }, actionId, value, fields, receivedAt: new Date() });
  };
  const openHome = async (user: string) => {
    slack.api.homeViews.delete(user);
    expect((await postSlack(slack.app, freshEvent('app_home_opened', { user }))).status).toBe(200);
    const view = slack.api.homeViews.get(user);
    expect(view, `Home of ${user}`).toBeDefined();
    return view!;
  };
  const text = (view: { blocks: any[] }) => JSON.stringify(view.blocks);
  const blockIds = (view: { blocks: any[] }) => view.blocks.map((b) => b.block_id).filter(Boolean);
  const settings = async () => {
    const [ws] = await slack.db.db.select().from(workspaces).where(eq(workspaces.externalId, 'T0ACME0001'));
    const [row] = await slack.db.db.select().from(workspaceSettings).where(eq(workspaceSettings.workspaceId, ws!.id));
    return row;
  };
  const lastAudit = async () => (await slack.db.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1))[0]!;

  it('shows a member their role, notes and usage this week, and no workspace settings', async () => {
    await openHome('U0ACMEMEM1');
    const [dana] = await slack.db.db.select().from(principals).where(eq(principals.platformUserId, 'U0ACMEMEM1'));
    const scope = await deps().turns.resolveWorkspace(ACME);
    await deps().agent.store.remember(scope, dana!.id, 'Prefers answers in bullet points');
    await slack.db.db.insert(usage).values({ workspaceId: dana!.workspaceId, principalId: dana!.id, day: new Date().toISOString().slice(0, 10), model: 'fake-model', calls: 3, inputTokens: 1_000, outputTokens: 234, costMicroUsd: 25_000 });

    const view = await openHome('U0ACMEMEM1');
    expect(blockIds(view)).toEqual(['home_about', 'home_role', 'home_notes', 'home_usage']);
    expect(text(view)).toContain('You are a member here.');
    expect(text(view)).toContain('Prefers answers in bullet points');
    expect(text(view)).toContain('3 model calls, 1,234 tokens, $0.03');
    expect(text(view)).not.toContain('settings:');
    expect(view.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('shows an admin the workspace settings, the channels with rules and the usage and cost, with buttons', async () => {
    const view = await openHome('U0ACMEADM1');
    expect(blockIds(view)).toEqual(expect.arrayContaining(['home_role', 'home_settings', 'home_settings_actions', 'home_channels', 'home_spend', 'home_feedback']));
    expect(text(view)).toContain('You are an admin here.');
    expect(text(view)).toMatch(/No feedback on answers in the last 7 days|Feedback on answers, last 7 days/);
    expect(text(view)).toMatch(/Today: \d+ model calls/);
    expect(text(view)).toContain('This month:');
    const buttons = view.blocks.find((b) => b.block_id === 'home_settings_actions').elements.map((e: any) => e.action_id);
    expect(buttons).toEqual(['settings:agent', 'settings:guests', 'settings:tools', 'settings:limits', 'settings:budget', 'settings:retention']);
    // Block Kit refuses two buttons of one block with the same action_id.
    expect(new Set(buttons).size).toBe(buttons.length);
  });

  it('opens a form filled with what is in force for an admin, and refuses to open it for a member', async () => {
    const opened = await click('U0ACMEADM1', 'settings:budget', '', {}, 'action');
    expect(opened.status === 'handled' && opened.answer.kind).toBe('dialog');
    if (opened.status === 'handled' && opened.answer.kind === 'dialog') {
      expect(opened.answer.dialog).toMatchObject({ actionId: 'settings:save', value: 'budget', fields: [expect.objectContaining({ name: 'tokens' })] });
    }
    const refused = await click('U0ACMEMEM1', 'settings:budget', '', {}, 'action');
    expect(refused.status === 'handled' && refused.answer).toEqual({ kind: 'notice', text: 'Only workspace admins can do that.' });
  });

  it('applies a change submitted by an admin, audits it with old and new value, and refreshes the Home', async () => {
    const published = slack.api.called('views.publish').length;
    const result = await click('U0ACMEADM1', 'settings:save', 'budget', { tokens: '150000' });
    expect(result.status === 'handled' && result.answer.kind === 'notice' && result.answer.text).toMatch(/token budget/i);
    expect((await settings())!.dailyTokens).toBe(150_000);
    const entry = await lastAudit();
    expect(entry.action).toBe('admin_change');
    expect(entry.detail).toMatchObject({ setting: expect.any(String), old: expect.any(String), new: '150000' });
    expect(entry.channelExternalId).toBe('app_home');
    expect(slack.api.called('views.publish').length).toBe(published + 1);
    expect(text(slack.api.homeViews.get('U0ACMEADM1')!)).toContain("This workspace's daily token budget: 150,000 tokens/day");
  });

  it('refuses a change submitted by a member: nothing changes, the refusal is audited', async () => {
    const before = await settings();
    const result = await click('U0ACMEMEM1', 'settings:save', 'guests', { state: 'off' });
    expect(result.status === 'handled' && result.answer).toEqual({ kind: 'notice', text: 'Only workspace admins can do that.' });
    expect((await settings())?.guestsEnabled ?? true).toBe(before?.guestsEnabled ?? true);
    expect(await lastAudit()).toMatchObject({ action: 'denial', outcome: 'denied' });
  });

  it('refuses a form submitted by someone who lost admin after opening it', async () => {
    const opened = await click('U0ACMEADM1', 'settings:guests', '', {}, 'action');
    expect(opened.status === 'handled' && opened.answer.kind).toBe('dialog');
    // Priya (owner) demotes Marcus in between.
    const demote = envelopeSchema.parse({
      kind: 'command', idempotencyKey: `demote-${process.pid}`, workspace: ACME, user: { id: 'U0ACMEOWN1' },
      channel: { id: 'D0ACMEDM02', kind: 'dm' }, messageId: `demote-${process.pid}`, text: '/agent role @U0ACMEADM1 member', receivedAt: new Date(),
    });
    expect((await answerCommand(deps(), demote)).text).toContain('admin → member');
    const result = await click('U0ACMEADM1', 'settings:save', 'guests', { state: 'off' });
    expect(result.status === 'handled' && result.answer).toEqual({ kind: 'notice', text: 'Only workspace admins can do that.' });
    expect((await settings())?.guestsEnabled ?? true).toBe(true);
    // Their Home no longer offers the settings.
    expect(text(slack.api.homeViews.get('U0ACMEADM1')!)).not.toContain('settings:');
  });

  it('answers bad input with an error on the field and changes nothing', async () => {
    const before = await settings();
    const count = (await slack.db.db.select().from(auditLog).where(and(eq(auditLog.action, 'admin_change')))).length;
    for (const [value, fields, field] of [
      ['budget', { tokens: 'lots' }, 'tokens'],
      ['retention', { days: '' }, 'days'],
      ['agent', { channel: '#a b', state: 'off' }, 'channel'],
      ['tools', { channel: 'C0ACMEGEN1', rule: 'allow', tool: 'rm_rf' }, 'channel'],
      ['limits', {}, 'rpm'],
    ] as const) {
      const result = await click('U0ACMEOWN1', 'settings:save', value, fields);
      expect(result.status === 'handled' && result.answer.kind === 'invalid' && Object.keys(result.answer.errors), value).toEqual([field]);
    }
    const unknown = await click('U0ACMEOWN1', 'settings:save', 'everything', {});
    expect(unknown.status === 'handled' && unknown.answer.kind).toBe('notice');
    expect(await settings()).toEqual(before);
    expect((await slack.db.db.select().from(auditLog).where(eq(auditLog.action, 'admin_change'))).length).toBe(count);
  });

  it('round-trips through signed requests: a Home button opens the modal, its submission is applied and the Home published again', async () => {
    // Priya (owner): Marcus was demoted above.
    const click = interactionFixture('block_actions_home', slack.api, (p) => (p.user = PRIYA));
    expect((await postSlack(slack.app, interactionForm(click))).status).toBe(200);
    const opened = await waitFor(() => slack.api.called('views.open').find((c) => c.params.trigger_id === click.trigger_id));
    const modal = JSON.parse(opened.params.view!);
    expect(modal).toMatchObject({ type: 'modal', callback_id: 'settings:save', title: { text: 'Budget' } });
    const published = slack.api.called('views.publish').length;
    const submission = interactionFixture('view_submission', slack.api, (p) => {
      p.user = PRIYA;
      p.view.callback_id = modal.callback_id;
      p.view.private_metadata = modal.private_metadata;
      p.view.state.values = { tokens: { tokens: { type: 'plain_text_input', value: '120000' } } };
    });
    const res = await postSlack(slack.app, interactionForm(submission));
    expect(res.status).toBe(200);
    await waitFor(async () => (await settings())?.dailyTokens === 120_000);
    expect(await lastAudit()).toMatchObject({ action: 'admin_change', detail: expect.objectContaining({ new: '120000' }) });
    await waitFor(() => slack.api.called('views.publish').length > published);
    expect(text(slack.api.homeViews.get('U0ACMEOWN1')!)).toContain("This workspace's daily token budget: 120,000 tokens/day");

    // Bad input comes back as errors in the modal, inside the ack; nothing changes.
    const bad = interactionFixture('view_submission', slack.api, (p) => {
      p.user = PRIYA;
      p.view.callback_id = modal.callback_id;
      p.view.private_metadata = modal.private_metadata;
      p.view.state.values = { tokens: { tokens: { type: 'plain_text_input', value: 'a lot' } } };
    });
    const refused = await postSlack(slack.app, interactionForm(bad));
    expect(JSON.parse(refused.text)).toMatchObject({ response_action: 'errors', errors: { tokens: expect.stringContaining('Usage') } });
    // A forged signature: 401; a payload that is not one: 400; neither changes anything.
    const forged = interactionFixture('view_submission', slack.api, (p) => {
      p.user = PRIYA;
      p.view.callback_id = modal.callback_id;
      p.view.private_metadata = modal.private_metadata;
      p.view.state.values = { tokens: { tokens: { type: 'plain_text_input', value: '7' } } };
    });
    expect((await postSlack(slack.app, interactionForm(forged), { secret: 'not-the-secret' })).status).toBe(401);
    expect((await postSlack(slack.app, interactionForm({ type: 'view_submission', view: { nope: true } }))).status).toBe(400);
    expect((await settings())!.dailyTokens).toBe(120_000);
  });

  it('publishes nothing for the Messages tab, and refuses an unsigned Home event with 401', async () => {
    const before = slack.api.called('views.publish').length;
    const messages = freshEvent('app_home_opened');
    messages.event.tab = 'messages';
    expect((await postSlack(slack.app, messages)).status).toBe(200);
    expect((await postSlack(slack.app, freshEvent('app_home_opened'), { unsigned: true })).status).toBe(401);
    expect(slack.api.called('views.publish').length).toBe(before);
  });
});
