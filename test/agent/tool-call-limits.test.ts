/**
 * A hostile model through the real core (runTurn) on a real database: one response with 50 tool
 * calls runs only the per-response cap, every call still gets a result tied to its id, a turn
 * stops running tools at its cap, the user is told, and the refusal is audited once per response.
 * A model that answers with tool calls only never leaves the user with an empty message.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { envelopeSchema, type Envelope } from '../../src/core/envelope.js';
import { NO_TEXT_ANSWER } from '../../src/core/agent/orchestrator.js';
import type { PromptMessage } from '../../src/core/ports.js';
import { runTurn, type CoreDeps } from '../../src/core/turn.js';
import { FakePlatform } from '../fakes/platform.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';
import { agentDeps } from '../support/agent-deps.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

const WS = { platform: 'slack' as const, externalId: 'T-HOSTILE' };
let seq = 0;

function dm(text: string): Envelope {
  const key = `hostile-${++seq}`;
  return envelopeSchema.parse({
    kind: 'direct',
    idempotencyKey: key,
    workspace: WS,
    user: { id: 'U-ANA' },
    channel: { id: 'D-ANA', kind: 'dm' },
    messageId: key,
    text,
    receivedAt: new Date(),
  });
}

const many = (n: number, name = 'workspace_status') => Array.from({ length: n }, (_, i) => ({ id: `call-${i}`, toolName: name, input: {} }));
const toolMessages = (messages: PromptMessage[]) => messages.filter((m): m is Extract<PromptMessage, { role: 'tool' }> => m.role === 'tool');

describe.each(drivers)('tool-call limits and tools-only answers (%s)', (driver) => {
  let db: TestDatabase;
  let deps: CoreDeps;
  const gate = new ScriptedAgentGate(() => answer('ok'));
  const platform = new FakePlatform();

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    deps = agentDeps(db, gate, platform);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(() => {
    gate.reset();
    platform.posted.length = 0;
  });

  const toolAudit = async () => {
    const scope = await deps.turns.resolveWorkspace(WS);
    return (await deps.audit.list(scope, { limit: 500 })).filter((e) => e.action === 'tool_call');
  };

  it('one response with 50 tool calls runs 8; each call gets a result with its id; the user is told', async () => {
    const before = (await toolAudit()).length;
    gate.script = (step, _call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ id: 'plan-1', toolName: 'status', input: { task: 'my status' } }]);
      if (step === 'status') return withResults ? answer('status-done') : answer('', many(50));
      return answer('final');
    };
    await runTurn(deps, dm('what is my status'));
    const second = gate.calls.find((c) => c.step === 'status' && c.withResults)!;
    const results = toolMessages(second.call.messages);
    expect(results.map((r) => r.toolCallId)).toEqual(many(50).map((c) => c.id));
    expect(results.filter((r) => r.content.startsWith('Your role:'))).toHaveLength(8);
    expect(results.slice(8).every((r) => r.content.startsWith('Not run: the model asked for more tool calls than Quorum allows'))).toBe(true);

    const all = await toolAudit();
    const audit = all.slice(0, all.length - before); // newest first: this turn's entries
    expect(audit.filter((e) => e.outcome === 'ok')).toHaveLength(8);
    expect(audit.filter((e) => e.detail.reason === 'tool_call_limit').map((e) => e.detail.refused)).toEqual([42]);
    expect(platform.posted).toHaveLength(1);
    expect(platform.posted[0]!.reply.text).toMatch(/^final\n\n\(Quorum did not run 42 of the tool calls the model asked for: at most 8 per step and 24 per request\.\)$/);
  });

  it('a turn stops running tools at its own cap, across specialists and rounds', async () => {
    gate.script = (step) => {
      if (step === 'orchestrator')
        return answer('', [
          { toolName: 'status', input: { task: 'a' } },
          { toolName: 'status', input: { task: 'b' } },
        ]);
      if (step === 'status') return answer('', many(6));
      return answer('final');
    };
    await runTurn({ ...deps, agent: { ...deps.agent, limits: { maxToolCalls: 10, specialistRounds: 3 } } }, dm('status twice'));
    const ran = gate.calls
      .filter((c) => c.step === 'status' && c.withResults)
      .flatMap((c) => toolMessages(c.call.messages).slice(-6))
      .filter((m) => m.content.startsWith('Your role:'));
    // Two specialists, two tool rounds each, six calls a round: 24 asked for, 10 run, minus the planner's 2.
    expect(ran).toHaveLength(8);
    expect(platform.posted[0]!.reply.text).toContain('at most 8 per step and 10 per request');
  });

  it('the planner asking for 50 specialists starts at most maxTasks of them', async () => {
    gate.script = (step) => {
      if (step === 'orchestrator') return answer('', many(50, 'writer').map((c) => ({ ...c, input: { task: 'draft' } })));
      if (step === 'writer') return answer('draft');
      return answer('final');
    };
    await runTurn(deps, dm('draft fifty things'));
    expect(gate.calls.filter((c) => c.step === 'writer')).toHaveLength(4);
    const aggregator = gate.calls.find((c) => c.step === 'aggregator')!;
    const results = toolMessages(aggregator.call.messages);
    expect(results.map((r) => r.toolCallId)).toEqual(many(50).map((c) => c.id));
    expect(results.filter((r) => r.content === 'draft')).toHaveLength(4);
    expect(platform.posted[0]!.reply.text).toContain('Quorum did not run 46 of the tool calls');
  });

  it('tool calls only, at every step: the user reads a clear message, never an empty one', async () => {
    gate.script = (step) =>
      step === 'orchestrator' ? answer('', [{ toolName: 'writer', input: { task: 'x' } }]) : answer('', [{ toolName: 'writer', input: { task: 'y' } }]);
    await runTurn(deps, dm('do it'));
    expect(platform.posted.map((p) => p.reply.text)).toEqual([`${NO_TEXT_ANSWER}\n\nMissing: the draft (a step failed).`]);

    platform.posted.length = 0;
    // The planner answers at once (it delegates nothing), and sends only a call to a tool it was not offered.
    gate.script = () => answer('', [{ toolName: 'remember', input: { note: 'x' } }]);
    await runTurn(deps, dm('hello'));
    expect(platform.posted.map((p) => p.reply.text)).toEqual([NO_TEXT_ANSWER]);
  });
});
