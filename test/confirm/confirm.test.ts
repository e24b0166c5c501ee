/**
 * Confirmations through the console's real entry points: a call that needs a click parks the turn
 * (durably), shows the tool and its exact arguments with Confirm/Cancel, and runs exactly once
 * after the requester's click (asserted on the store the tool writes to); a second click, someone
 * else's click, an expired confirmation, and a click on a second instance after the first stopped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { auditLog, memories, principals } from '../../src/db/schema.js';
import { pendingConfirmations } from '../../src/db/schema-tools.js';
import { answer, ScriptedAgentGate, type AgentScript } from '../fakes/scripted-agent-model.js';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { drivers, useTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

const NOTE = 'launch is on the 14th; tell nobody';

/** Plans to the notes specialist, which asks for `remember`; once the result is in, the answer quotes it. */
const rememberScript: AgentScript = (step, call, withResults) => {
  const last = call.messages.at(-1);
  if (step === 'orchestrator') {
    if (withResults && last?.role === 'tool') return answer(`Done: ${last.content}`);
    return answer('', [{ id: 'plan-1', toolName: 'notes', input: { task: 'remember the note' } }]);
  }
  if (step === 'notes') return withResults ? answer('The note waits for confirmation.') : answer('', [{ id: 'n-1', toolName: 'remember', input: { note: NOTE } }]);
  return answer('aggregated');
};

interface Entry {
  id: string;
  key: string;
  from: string;
  user: string;
  kind: string;
  text: string;
  private: boolean;
  state: string;
  actions: { actionId: string; label: string; value: string }[] | null;
}

describe.each(drivers)('confirmations through the console (%s)', (driver) => {
  const db = useTestDatabase(driver);
  const gate = new ScriptedAgentGate(rememberScript);
  const apps: TestApp[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const app = await startTestApp(db(), { model: gate, env });
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop();
    await db().db.delete(pendingConfirmations);
    await db().db.delete(memories);
  });

  const view = async (app: TestApp, user: string, place: string): Promise<Entry[]> => {
    const res = await fetch(`${app.baseUrl}/console/api/view?user=${user}&place=${place}`);
    return ((await res.json()) as { entries: Entry[] }).entries;
  };
  const say = (app: TestApp, user: string, channel: string, text: string) => postJson(`${app.baseUrl}/console/api/messages`, { user, channel, text });
  const click = (app: TestApp, user: string, entry: Entry, actionId: string) =>
    postJson(`${app.baseUrl}/console/api/interactions`, { user, entryId: entry.id, actionId, value: entry.actions?.find((a) => a.actionId === actionId)?.value ?? '' });
  const principalId = async (app: TestApp, user: string) => {
    await say(app, user, 'dm', '/agent status');
    return (await db().db.select().from(principals).where(eq(principals.platformUserId, user)))[0]!.id;
  };
  const notes = async () => (await db().db.select().from(memories)).map((m) => m.content);

  async function parkInDm(app: TestApp, user = 'cleo'): Promise<Entry> {
    const rule = await say(app, 'ben', 'dm', '/agent tools all confirm remember always');
    expect(rule.body.reply.text).toMatch(/^Confirmation for remember in the whole workspace: (default|always) → always\.$/);
    const asked = await say(app, user, 'dm', 'please remember the launch date');
    expect(asked.status).toBe(200);
    expect(asked.body.reply.kind).toBe('notice');
    const entry = (await view(app, user, 'dm')).find((e) => e.from === 'quorum' && e.actions);
    expect(entry).toBeDefined();
    return entry!;
  }

  it('parks the call, shows its exact arguments with Confirm/Cancel, and runs it once after one click', async () => {
    const app = await start();
    const entry = await parkInDm(app);
    expect(entry.text).toContain('**remember**');
    expect(entry.text).toContain(JSON.stringify({ note: NOTE }, null, 2));
    expect(entry.actions!.map((a) => a.actionId)).toEqual(['confirm:yes', 'confirm:no']);
    // Parked, not run: nothing was written and no answer recorded.
    expect(await notes()).toEqual([]);
    const [row] = await db().db.select().from(pendingConfirmations);
    expect(row).toMatchObject({ state: 'pending', tool: 'remember', input: { note: NOTE } });

    const yes = await click(app, 'cleo', entry, 'confirm:yes');
    expect(yes.status).toBe(200);
    expect(yes.body.answer.kind).toBe('update');
    expect(yes.body.answer.text).toMatch(/^Confirmed by <@cleo>/);
    // The resumed turn answers in the same conversation, with the call's result.
    const resumed = await waitFor(async () => (await view(app, 'cleo', 'dm')).find((e) => e.key === `resume:${row!.id}` && e.kind === 'answer' && e.state === 'done'));
    expect(resumed.text).toBe('Done: Noted.');
    expect(await notes()).toEqual([NOTE]);
    // The message lost its buttons.
    const shown = (await view(app, 'cleo', 'dm')).find((e) => e.id === entry.id)!;
    expect(shown.actions).toBeNull();

    // A second click changes nothing and says why.
    const again = await click(app, 'cleo', entry, 'confirm:yes');
    expect(again.body.answer).toEqual({ kind: 'notice', text: 'This was already confirmed; it runs once, so nothing more was done.' });
    const cancelLate = await click(app, 'cleo', entry, 'confirm:no');
    expect(cancelLate.body.answer.kind).toBe('notice');
    await waitFor(async () => (await db().db.select().from(pendingConfirmations))[0]?.state === 'done');
    expect(await notes()).toEqual([NOTE]);
    // Audited: the parking, who confirmed, and the run with who confirmed it.
    const calls = await db().db.select().from(auditLog).where(eq(auditLog.action, 'tool_call'));
    const stages = calls.map((c) => (c.detail as Record<string, unknown>).stage ?? ((c.detail as Record<string, unknown>).decidedBy ? 'ran' : 'other'));
    expect(stages).toEqual(['awaiting_confirmation', 'confirmed', 'ran']);
    expect(calls.at(-1)!.detail).toMatchObject({ tool: 'remember', confirmation: row!.id, decidedBy: 'cleo' });
  });

  it('refuses someone else\'s click in a channel, and Cancel runs nothing', async () => {
    const app = await start();
    gate.script = (step, call, withResults) => {
      const last = call.messages.at(-1);
      if (step === 'orchestrator') {
        if (withResults && last?.role === 'tool') return answer(`Found: ${last.content}`);
        return answer('', [{ id: 'plan-1', toolName: 'researcher', input: { task: 'search' } }]);
      }
      if (step === 'researcher') return withResults ? answer('searched') : answer('', [{ id: 'r-1', toolName: 'search_history', input: { query: 'launch' } }]);
      return answer('aggregated');
    };
    try {
      await say(app, 'ben', 'engineering', '/agent tools #engineering confirm search_* always');
      const asked = await say(app, 'cleo', 'engineering', 'search for launch');
      expect(asked.body.reply.kind).toBe('notice');
      // The confirmation is in the conversation: ben, a member, sees it too.
      const entry = (await view(app, 'ben', 'engineering')).find((e) => e.actions)!;
      expect(entry.text).toContain('search_history');
      const other = await click(app, 'ben', entry, 'confirm:yes');
      expect(other.body.answer).toEqual({ kind: 'notice', text: 'Only <@cleo>, who asked for it, can confirm or cancel this. Nothing was changed.' });
      expect((await db().db.select().from(pendingConfirmations))[0]!.state).toBe('pending');
      // Someone who cannot see the message cannot click it.
      const outsider = await click(app, 'dev', entry, 'confirm:yes');
      expect(outsider.status).toBe(404);

      const no = await click(app, 'cleo', entry, 'confirm:no');
      expect(no.body.answer.text).toMatch(/^Cancelled by <@cleo>: not run/);
      const [row] = await db().db.select().from(pendingConfirmations);
      expect(row).toMatchObject({ state: 'cancelled', decidedByUserId: 'cleo', result: null });
      const yesAfter = await click(app, 'cleo', entry, 'confirm:yes');
      expect(yesAfter.body.answer.text).toMatch(/already cancelled/);
      // No resumed turn was queued.
      expect((await view(app, 'cleo', 'engineering')).some((e) => e.key.startsWith('resume:'))).toBe(false);
    } finally {
      gate.script = rememberScript;
    }
  });

  it('an expired confirmation runs nothing and says so', async () => {
    const app = await start({ CONFIRM_TTL_MS: '1' });
    const entry = await parkInDm(app);
    await waitFor(async () => {
      const [row] = await db().db.select().from(pendingConfirmations);
      return row && row.expiresAt.getTime() <= Date.now() ? row : null;
    });
    const late = await click(app, 'cleo', entry, 'confirm:yes');
    expect(late.body.answer.kind).toBe('update');
    expect(late.body.answer.text).toMatch(/^Expired: nobody confirmed it in time, so nothing was run/);
    // Still pending, or marked expired by the sweeper: never confirmed, never run.
    expect(['pending', 'expired']).toContain((await db().db.select().from(pendingConfirmations))[0]!.state);
    const again = await click(app, 'cleo', entry, 'confirm:yes');
    expect(again.body.answer.text).toMatch(/^Expired/);
    expect(await notes()).toEqual([]);
  });

  it('resumes on a second instance after the first stopped between the question and the click', async () => {
    const first = await start();
    const entry = await parkInDm(first);
    const value = entry.actions![0]!.value;
    await first.stop();
    apps.splice(apps.indexOf(first), 1);

    const second = await start();
    // The verified click reaches the second instance's router (here: what the console route builds).
    const routed = await second.running.interactions.route({
      kind: 'action',
      idempotencyKey: 'click-after-restart',
      workspace: { platform: 'console', externalId: 'demo' },
      user: { id: 'cleo' },
      channel: { id: 'dm-cleo', kind: 'dm' },
      actionId: 'confirm:yes',
      value,
      receivedAt: new Date(),
    });
    expect(routed).toMatchObject({ status: 'handled', answer: { kind: 'update' } });
    const resumed = await waitFor(async () => (await view(second, 'cleo', 'dm')).find((e) => e.key === `resume:${value}` && e.kind === 'answer' && e.state === 'done'));
    expect(resumed.text).toBe('Done: Noted.');
    expect(await notes()).toEqual([NOTE]);
    const [row] = await db().db.select().from(pendingConfirmations).where(and(eq(pendingConfirmations.id, value)));
    expect(row).toMatchObject({ state: 'done', result: 'Noted.' });
  });

  it('a confirmed call\'s result in a DM never reaches a later channel turn\'s prompt or answer (canary)', async () => {
    const app = await start();
    const CANARY = 'canary-7f3a91-private';
    const channelAnswers: string[] = [];
    gate.script = (step, call, withResults) => {
      const last = call.messages.at(-1);
      const inDm = call.messages.some((m) => m.content.includes('recall my notes'));
      if (step === 'orchestrator') {
        if (withResults && last?.role === 'tool') return answer(`Your notes: ${last.content}`);
        return inDm
          ? answer('', [{ id: 'plan-1', toolName: 'notes', input: { task: 'recall' } }])
          : answer('', [{ id: 'plan-2', toolName: 'researcher', input: { task: 'search' } }]);
      }
      if (step === 'notes') return withResults ? answer('waiting') : answer('', [{ id: 'n-1', toolName: 'recall', input: {} }]);
      if (step === 'researcher') return withResults ? answer(`searched: ${last?.content ?? ''}`) : answer('', [{ id: 'r-1', toolName: 'search_history', input: { query: 'canary' } }]);
      // The aggregator writes what the channel reads: everything its prompt holds.
      const text = call.messages.map((m) => m.content).join(' | ');
      channelAnswers.push(text);
      return answer(text);
    };
    try {
      await db().db.insert(memories).values({ workspaceId: (await app.running.deps.turns.resolveWorkspace({ platform: 'console', externalId: 'demo' })).workspaceId, principalId: (await principalId(app, 'cleo')), content: CANARY });
      await say(app, 'ben', 'dm', '/agent tools all confirm recall always');
      await say(app, 'cleo', 'dm', 'recall my notes');
      const entry = (await view(app, 'cleo', 'dm')).find((e) => e.actions)!;
      await click(app, 'cleo', entry, 'confirm:yes');
      const resumed = await waitFor(async () => (await view(app, 'cleo', 'dm')).find((e) => e.key.startsWith('resume:') && e.state === 'done'));
      expect(resumed.text).toContain(CANARY);
      gate.reset();
      for (const user of ['cleo', 'ben']) {
        const res = await say(app, user, 'general', 'search the channel for canary');
        expect(res.body.reply.text).not.toContain(CANARY);
      }
      expect(gate.calls.length).toBeGreaterThan(0);
      expect(gate.promptsText()).not.toContain(CANARY);
      expect(channelAnswers.join('\n')).not.toContain(CANARY);
    } finally {
      gate.script = rememberScript;
    }
  });

  it('refuses bad clicks with a clear error and changes nothing', async () => {
    const app = await start();
    const entry = await parkInDm(app);
    for (const body of [
      {},
      { user: 'nobody', entryId: entry.id, actionId: 'confirm:yes' },
      { user: 'cleo', entryId: entry.id, actionId: 'not an action id' },
      { user: 'cleo', entryId: 'no-such-entry', actionId: 'confirm:yes' },
    ]) {
      const res = await postJson(`${app.baseUrl}/console/api/interactions`, body);
      expect([400, 404]).toContain(res.status);
      expect(res.body.error).toBeTruthy();
    }
    const forged = await postJson(`${app.baseUrl}/console/api/interactions`, { user: 'cleo', entryId: entry.id, actionId: 'confirm:yes', value: 'not-a-uuid' });
    expect(forged.body.answer.kind).toBe('notice');
    expect((await db().db.select().from(pendingConfirmations))[0]!.state).toBe('pending');
    expect(await notes()).toEqual([]);
  });
});
