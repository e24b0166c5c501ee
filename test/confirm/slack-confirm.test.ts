/**
 * A confirmation on Slack through the real, signed entry points: a mention whose call needs a
 * click posts the tool and its exact arguments with Confirm/Cancel buttons; a signed block_actions
 * click by someone else changes nothing, the requester's Confirm replaces the message and resumes
 * the turn, which answers in the same thread, once. A click after the confirmation expired, by
 * anyone, runs nothing, replaces the message with "Expired" and says to ask again.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../src/db/schema.js';
import { pendingConfirmations, toolConfirmRules } from '../../src/db/schema-tools.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, interactionFixture, interactionForm, postSlack, useSlackApp } from '../slack/support.js';

const gate = new ScriptedAgentGate((step, call, withResults) => {
  const last = call.messages.at(-1);
  if (step === 'orchestrator') {
    if (withResults && last?.role === 'tool') return answer(`Searched, result: ${last.content.slice(0, 40)}`);
    return answer('', [{ id: 'plan-1', toolName: 'researcher', input: { task: 'search' } }]);
  }
  if (step === 'researcher') return withResults ? answer('searched') : answer('', [{ id: 'r-1', toolName: 'search_history', input: { query: 'overdue items' } }]);
  return answer('aggregated');
});

describe.each(drivers)('confirmations on Slack (%s)', (driver) => {
  const s = useSlackApp(driver, () => ({ model: gate }));
  const clickAs = (user: string, actionId: string, value: string) =>
    interactionFixture('block_actions', s.api, (p) => {
      p.user.id = user;
      p.actions[0].action_id = actionId;
      p.actions[0].value = value;
    });

  it('asks with buttons, ignores another user\'s click, and resumes once on the requester\'s Confirm', async () => {
    const scope = await s.app.running.deps.turns.resolveWorkspace({ platform: 'slack', externalId: 'T0ACME0001' });
    await s.db.db.insert(toolConfirmRules).values({ workspaceId: scope.workspaceId, channelExternalId: '*', pattern: 'search_*', mode: 'always' });
    const event = freshEvent('app_mention', { text: '<@U0ACMEBOT1> find the overdue items' });
    expect((await postSlack(s.app, event)).status).toBe(200);
    const [row] = await waitFor(async () => {
      const rows = await s.db.db.select().from(pendingConfirmations);
      return rows.length ? rows : null;
    });
    const asked = await waitFor(() => s.api.calls.find((p) => JSON.stringify(p.params).includes('confirm:yes')));
    expect(JSON.stringify(asked.params)).toContain('search_history');
    expect(JSON.stringify(asked.params)).toContain('overdue items');
    expect(row).toMatchObject({ state: 'pending', requesterUserId: 'U0ACMEMEM1' });

    const other = clickAs('U0ACMEOTHER', 'confirm:yes', row!.id);
    expect((await postSlack(s.app, interactionForm(other))).status).toBe(200);
    const otherHook = await waitFor(() => s.api.hooks.find((h) => h.path === new URL(other.response_url).pathname));
    expect(otherHook.body).toMatchObject({ response_type: 'ephemeral' });
    expect(otherHook.body.text).toMatch(/Only <@U0ACMEMEM1>/);
    expect((await s.db.db.select().from(pendingConfirmations))[0]!.state).toBe('pending');

    const before = s.api.calls.length;
    const mine = clickAs('U0ACMEMEM1', 'confirm:yes', row!.id);
    expect((await postSlack(s.app, interactionForm(mine))).status).toBe(200);
    const hook = await waitFor(() => s.api.hooks.find((h) => h.path === new URL(mine.response_url).pathname));
    expect(hook.body.text ?? JSON.stringify(hook.body)).toMatch(/Confirmed by/);
    const resumed = await waitFor(() => s.api.calls.slice(before).find((p) => p.method.startsWith('chat.') && JSON.stringify(p.params).includes('Searched, result')));
    expect(resumed.params.channel).toBe('C0ACMEGEN1');
    // The resumed turn's messages are in the mention's thread (its status message, which the answer replaces).
    const resumedPosts = s.api.calls.slice(before).filter((c) => c.method === 'chat.postMessage');
    expect(resumedPosts.length).toBeGreaterThan(0);
    for (const p of resumedPosts) expect(p.params.thread_ts).toBe(event.event.ts);
    await waitFor(async () => (await s.db.db.select().from(pendingConfirmations))[0]?.state === 'done');
  });
});

describe.each(drivers)('an expired confirmation on Slack (%s)', (driver) => {
  // Expired as soon as it is parked: every click below comes after its time.
  const s = useSlackApp(driver, () => ({ model: gate, env: { CONFIRM_TTL_MS: '1', SLACK_BOT_TOKEN: 'xoxb-acme-single' } }));
  const clickAs = (user: string, actionId: string, value: string) =>
    interactionFixture('block_actions', s.api, (p) => {
      p.user.id = user;
      p.actions[0].action_id = actionId;
      p.actions[0].value = value;
    });

  it('runs nothing on a late click, by the requester or anyone else, and replaces the message with Expired and what to do', async () => {
    const scope = await s.app.running.deps.turns.resolveWorkspace({ platform: 'slack', externalId: 'T0ACME0001' });
    await s.db.db.insert(toolConfirmRules).values({ workspaceId: scope.workspaceId, channelExternalId: '*', pattern: 'search_*', mode: 'always' });
    expect((await postSlack(s.app, freshEvent('app_mention', { text: '<@U0ACMEBOT1> find the overdue items' }))).status).toBe(200);
    const [row] = await waitFor(async () => {
      const rows = await s.db.db.select().from(pendingConfirmations);
      return rows.length && rows[0]!.expiresAt.getTime() <= Date.now() ? rows : null;
    });
    await waitFor(() => s.api.calls.find((p) => JSON.stringify(p.params).includes('confirm:yes')));
    const before = s.api.calls.length;

    for (const [user, action] of [['U0ACMEMEM1', 'confirm:yes'], ['U0ACMEOTHER', 'confirm:yes'], ['U0ACMEMEM1', 'confirm:no']] as const) {
      const click = clickAs(user, action, row!.id);
      expect((await postSlack(s.app, interactionForm(click))).status).toBe(200);
      const hook = await waitFor(() => s.api.hooks.find((h) => h.path === new URL(click.response_url).pathname));
      // The parked message itself is replaced: its buttons go, it says it expired and to ask again.
      expect(hook.body.replace_original).toBe(true);
      expect(hook.body.text).toMatch(/^Expired: nobody confirmed it in time, so nothing was run/);
      expect(hook.body.text).toContain('search_history');
      expect(hook.body.text).toContain('ask again');
      expect(hook.body.blocks.some((b: { type: string }) => b.type === 'actions')).toBe(false);
    }
    // Never confirmed, never resumed: no answer was posted after the clicks.
    expect(['pending', 'expired']).toContain((await s.db.db.select().from(pendingConfirmations))[0]!.state);
    expect(s.api.calls.slice(before).some((p) => JSON.stringify(p.params).includes('Searched, result'))).toBe(false);
    const late = (await s.db.db.select().from(auditLog).where(eq(auditLog.action, 'denial'))).filter((e) => (e.detail as { reason?: string }).reason === 'confirmation_expired');
    expect(late).toHaveLength(3);
  });

  it('a click on a confirmation no longer kept says so privately, and what to do', async () => {
    const click = clickAs('U0ACMEMEM1', 'confirm:yes', '00000000-0000-4000-8000-000000000000');
    expect((await postSlack(s.app, interactionForm(click))).status).toBe(200);
    const hook = await waitFor(() => s.api.hooks.find((h) => h.path === new URL(click.response_url).pathname));
    expect(hook.body).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: expect.stringMatching(/^That confirmation is no longer kept .*ask again/) });
  });
});
