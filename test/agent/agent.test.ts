/**
 * Multi-step turns through the real core (runTurn) on a real database: orchestrator, parallel
 * specialists, aggregator; permission-checked tools; the audience rule on search results;
 * step and token limits; progress in order.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { envelopeSchema, type Envelope } from '../../src/core/envelope.js';
import type { AgentLimits } from '../../src/core/agent/orchestrator.js';
import { runTurn, type CoreDeps } from '../../src/core/turn.js';
import { createAgentStore } from '../../src/db/agent-store.js';
import { channelTools } from '../../src/db/schema.js';
import { upsertChannel } from '../../src/db/turn-store.js';
import { FakePlatform } from '../fakes/platform.js';
import { answer, ScriptedAgentGate, type AgentScript } from '../fakes/scripted-agent-model.js';
import { agentDeps } from '../support/agent-deps.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

const WS = { platform: 'slack' as const, externalId: 'T-AGENT' };
let seq = 0;

function say(user: string, channel: { id: string; kind: 'dm' | 'channel' }, text: string): Envelope {
  const key = `agent-${++seq}`;
  return envelopeSchema.parse({
    kind: channel.kind === 'dm' ? 'direct' : 'mention',
    idempotencyKey: key,
    workspace: WS,
    user: { id: user },
    channel,
    messageId: key,
    text,
    receivedAt: new Date(),
  });
}

/** Answers every step with plain text: the one-call path, used to seed history. */
const plain: AgentScript = () => answer('ok');

describe.each(drivers)('multi-step turns (%s)', (driver) => {
  let db: TestDatabase;
  let deps: CoreDeps;
  const gate = new ScriptedAgentGate(plain);
  const platform = new FakePlatform()
    .join('C-LAUNCH', 'U-ANA', 'U-BO', 'U-GUEST')
    .join('C-SECRET', 'U-ANA')
    .join('C-BO', 'U-BO')
    .join('C-DENY', 'U-ANA');
  platform.users.set('U-GUEST', { platformRole: 'guest', deleted: false });

  function withLimits(limits: Partial<AgentLimits>): CoreDeps {
    return { ...deps, agent: { store: createAgentStore(db.db), limits } };
  }

  async function seed(user: string, channel: { id: string; kind: 'dm' | 'channel' }, text: string): Promise<void> {
    gate.script = plain;
    await runTurn(deps, say(user, channel, text));
  }

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    deps = agentDeps(db, gate, platform);
    await seed('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'canary-launch: we decided to ship on Friday');
    await seed('U-ANA', { id: 'C-SECRET', kind: 'channel' }, 'canary-secret: the acquisition closes in May');
    await seed('U-BO', { id: 'C-BO', kind: 'channel' }, 'canary-bo: Bo only channel note');
    await seed('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'canary-dm: my private reminder');
    await seed('U-ANA', { id: 'C-DENY', kind: 'channel' }, 'canary-deny: hidden by the admin rule');
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(() => {
    gate.reset();
    gate.delayMs = 0;
    platform.posted.length = 0;
    platform.progressed.length = 0;
  });

  it('answers a simple request with one model call and no orchestration', async () => {
    gate.script = () => answer('hello back');
    await runTurn(deps, say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'hello'));
    expect(gate.calls.map((c) => c.step)).toEqual(['orchestrator']);
    expect(platform.posted.map((p) => p.reply.text)).toEqual(['hello back']);
  });

  it('runs two specialists in parallel, gives the aggregator both results, posts once, reports progress in order', async () => {
    gate.delayMs = 40;
    gate.script = (step, call, withResults) => {
      if (step === 'orchestrator')
        return answer('', [
          { toolName: 'researcher', input: { task: 'search what #launch decided' } },
          { toolName: 'writer', input: { task: 'draft the announcement' } },
        ]);
      if (step === 'researcher')
        return withResults
          ? answer(`research-result: ${call.messages.at(-1)?.content.includes('canary-launch') ? 'ship on Friday' : 'nothing'}`)
          : answer('', [{ toolName: 'search_history', input: { query: 'decided' } }]);
      if (step === 'writer') return answer('writer-result: We ship on Friday!');
      return answer(`final: ${call.messages.at(-1)?.content}`);
    };
    await runTurn(deps, say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'summarize what we decided and draft the announcement'));

    const research = gate.calls.find((c) => c.step === 'researcher');
    const writer = gate.calls.find((c) => c.step === 'writer');
    expect(research && writer).toBeTruthy();
    // Overlapping call windows: each started before the other ended.
    expect(research!.start).toBeLessThan(writer!.end);
    expect(writer!.start).toBeLessThan(research!.end);
    expect(research!.call.tier).toBe('small');
    expect(writer!.call.tier).toBe('answer');

    const aggregator = gate.calls.filter((c) => c.step === 'aggregator');
    expect(aggregator).toHaveLength(1);
    const aggPrompt = aggregator[0]!.call.messages.map((m) => m.content).join('\n');
    expect(aggPrompt).toContain('research-result: ship on Friday');
    expect(aggPrompt).toContain('writer-result: We ship on Friday!');

    expect(platform.posted).toHaveLength(1);
    expect(platform.posted[0]!.reply.text).toContain('final:');
    expect(platform.progressed.map((p) => p.status)).toEqual(['Planning…', 'Searching history…', 'Drafting…', 'Writing the answer…']);
  });

  it('a failed specialist does not sink the turn: the reply says what is missing and the audit shows it', async () => {
    gate.script = (step) => {
      if (step === 'orchestrator')
        return answer('', [
          { toolName: 'status', input: { task: 'my status' } },
          { toolName: 'writer', input: { task: 'draft a note' } },
        ]);
      if (step === 'writer')
        return { kind: 'refused', reason: 'timeout', message: 'too slow', model: 'fake-model', latencyMs: 5 };
      if (step === 'status') return answer('status-result: fine');
      return answer('final answer');
    };
    await runTurn(deps, say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'status and draft'));
    expect(platform.posted).toHaveLength(1);
    expect(platform.posted[0]!.reply.text).toContain('final answer');
    expect(platform.posted[0]!.reply.text).toContain('Missing: the draft');

    const scope = await deps.turns.resolveWorkspace(WS);
    const audit = await deps.audit.list(scope, { limit: 50 });
    expect(audit.some((e) => e.action === 'model_call' && e.outcome === 'error' && e.detail.specialist === 'writer' && e.detail.reason === 'timeout')).toBe(true);
  });

  it('a specialist that throws or times out is reported the same way', async () => {
    gate.script = async (step, call) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'writer', input: { task: 'draft' } }, { toolName: 'notes', input: { task: 'recall' } }]);
      if (step === 'writer') throw new Error('boom');
      if (step === 'notes')
        return new Promise((_, reject) => call.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      return answer('final answer');
    };
    await runTurn(withLimits({ specialistTimeoutMs: 100 }), say('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'draft and recall'));
    expect(platform.posted).toHaveLength(1);
    expect(platform.posted[0]!.reply.text).toContain('Missing: the draft; your personal notes');
  });

  it('denies a tool to a guest: the model is told it is unavailable, nothing leaks', async () => {
    gate.script = (step, call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'status', input: { task: 'my status' } }]);
      if (step === 'status') return withResults ? answer(`saw: ${call.messages.at(-1)?.content}`) : answer('', [{ toolName: 'workspace_status', input: {} }]);
      return answer('final');
    };
    await runTurn(deps, say('U-GUEST', { id: 'C-LAUNCH', kind: 'channel' }, 'what is my status'));
    const prompts = gate.promptsText();
    expect(prompts).toContain('workspace_status is unavailable: That tool is not available to your role.');
    expect(prompts).not.toContain('Your usage today');

    const scope = await deps.turns.resolveWorkspace(WS);
    const audit = await deps.audit.list(scope, { limit: 50 });
    const denied = audit.find((e) => e.action === 'tool_call' && e.outcome === 'denied' && e.detail.tool === 'workspace_status');
    expect(denied?.detail.reason).toBe('tool_role');
    // The arguments are stored as a hash, not as text.
    expect(denied?.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(denied?.content).toBeNull();
  });

  it('tells the model the limits in force, the service defaults marked so', async () => {
    gate.script = (step, call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'status', input: { task: 'my limits' } }]);
      if (step === 'status') return withResults ? answer(`saw: ${call.messages.at(-1)?.content}`) : answer('', [{ toolName: 'workspace_status', input: {} }]);
      return answer('final');
    };
    const withDefaults = { ...deps, limitDefaults: { rpm: 120, concurrency: 2, dailyTokens: null } };
    await runTurn(withDefaults, say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'what are my limits'));
    expect(gate.promptsText()).toContain('Limits: 120 requests/min (default), 2 at once (default), no daily token budget.');
  });

  it('denies a tool in a channel where an admin switched it off', async () => {
    const scope = await deps.turns.resolveWorkspace(WS);
    const channel = await upsertChannel(db.db, scope, { id: 'C-DENY', kind: 'channel' });
    await db.db.insert(channelTools).values({ workspaceId: scope.workspaceId, channelId: channel.id, tool: 'search_history', allowed: false });
    gate.script = (step, _call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'search canary' } }]);
      if (step === 'researcher') return withResults ? answer('done') : answer('', [{ toolName: 'search_history', input: { query: 'canary' } }]);
      return answer('final');
    };
    await runTurn(deps, say('U-ANA', { id: 'C-DENY', kind: 'channel' }, 'search canary'));
    const prompts = gate.promptsText();
    expect(prompts).toContain('search_history is unavailable: That tool is switched off here by a workspace admin.');
    expect(prompts).not.toContain('canary-deny');
  });

  it('personal notes only in the requester’s own DM', async () => {
    gate.script = (step, _call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'notes', input: { task: 'remember' } }]);
      if (step === 'notes') return withResults ? answer('done') : answer('', [{ toolName: 'remember', input: { note: 'canary-note: buy milk' } }]);
      return answer('final');
    };
    await runTurn(deps, say('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'remember to buy milk'));
    await runTurn(deps, say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'remember to buy milk'));
    expect(gate.promptsText()).toContain('remember is unavailable: That tool works only in your direct messages with the agent.');

    gate.reset();
    gate.script = (step, _call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'notes', input: { task: 'recall' } }]);
      if (step === 'notes') return withResults ? answer('done') : answer('', [{ toolName: 'recall', input: {} }]);
      return answer('final');
    };
    await runTurn(deps, say('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'recall my notes'));
    expect(gate.promptsText()).toContain('canary-note: buy milk');
    gate.reset();
    await runTurn(deps, say('U-BO', { id: 'D-BO', kind: 'dm' }, 'recall my notes'));
    expect(gate.promptsText()).not.toContain('canary-note');
  });

  it('the store’s full-text search returns only the named channels and the one owner’s DMs', async () => {
    const store = createAgentStore(db.db);
    const scope = await deps.turns.resolveWorkspace(WS);
    const inChannel = await store.searchMessages(scope, { text: 'canary', channelExternalIds: ['C-LAUNCH'], dmOwnerPrincipalId: null, limit: 50 });
    expect(inChannel.length).toBeGreaterThan(0);
    expect(inChannel.every((m) => m.channelExternalId === 'C-LAUNCH' && m.conversationKind === 'channel')).toBe(true);
    const ana = await deps.turns.resolvePrincipal(scope, { id: 'U-ANA' }, { platformRole: 'member', deleted: false });
    const dmOnly = await store.searchMessages(scope, { text: 'private reminder', channelExternalIds: [], dmOwnerPrincipalId: ana.id, limit: 50 });
    expect(dmOnly.map((m) => m.content)).toContain('canary-dm: my private reminder');
    expect(dmOnly.every((m) => m.conversationKind === 'dm' && m.ownerPrincipalId === ana.id)).toBe(true);
    expect(await store.searchMessages(scope, { text: 'zzqxv', channelExternalIds: ['C-LAUNCH'], dmOwnerPrincipalId: ana.id, limit: 50 })).toEqual([]);
    expect(await store.searchMessages(scope, { text: 'canary', channelExternalIds: [], dmOwnerPrincipalId: null, limit: 50 })).toEqual([]);
  });

  describe('search_history and the audience rule', () => {
    const searchScript: AgentScript = (step, call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'search canary' } }]);
      if (step === 'researcher')
        return withResults ? answer(`found: ${call.messages.at(-1)?.content}`) : answer('', [{ toolName: 'search_history', input: { query: 'canary' } }]);
      return answer(`final: ${call.messages.at(-1)?.content}`);
    };

    it('from a channel: only that channel, never another channel or any DM', async () => {
      gate.script = searchScript;
      await runTurn(deps, say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'search canary'));
      const seen = `${gate.promptsText()}\n${platform.posted.map((p) => p.reply.text).join('\n')}`;
      expect(seen).toContain('canary-launch'); // the control: search works
      expect(seen).not.toContain('canary-secret'); // Bo (in the audience) is not in C-SECRET
      expect(seen).not.toContain('canary-bo');
      expect(seen).not.toContain('canary-dm');
      expect(seen).not.toContain('canary-note');
    });

    it('from a DM: the requester’s own DMs and channels they are in, nothing else', async () => {
      gate.script = searchScript;
      await runTurn(deps, say('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'search canary'));
      const seen = gate.promptsText();
      expect(seen).toContain('canary-launch');
      expect(seen).toContain('canary-secret');
      expect(seen).toContain('canary-dm');
      expect(seen).not.toContain('canary-bo');

      gate.reset();
      await runTurn(deps, say('U-BO', { id: 'D-BO', kind: 'dm' }, 'search canary'));
      const bo = gate.calls.filter((c) => c.step !== 'orchestrator').map((c) => c.call.messages.map((m) => m.content).join('\n')).join('\n');
      expect(bo).toContain('canary-bo');
      expect(bo).not.toContain('canary-secret');
      expect(bo).not.toContain('canary-dm');
    });
  });

  it('summarize_thread of another channel: only from a DM, only a channel the requester is in', async () => {
    gate.script = (step, _call, withResults) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'summarize #secret' } }]);
      if (step === 'researcher')
        return withResults ? answer('done') : answer('', [{ toolName: 'summarize_thread', input: { channel: 'C-SECRET' } }]);
      return answer('final');
    };
    await runTurn(deps, say('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'summarize #secret'));
    expect(gate.promptsText()).toContain('canary-secret');
    gate.reset();
    await runTurn(deps, say('U-BO', { id: 'D-BO', kind: 'dm' }, 'summarize #secret'));
    expect(gate.promptsText()).toContain('That channel is not available to you.');
    expect(gate.promptsText()).not.toContain('canary-secret');
    gate.reset();
    await runTurn(deps, say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'summarize #secret'));
    expect(gate.promptsText()).toContain('Only this conversation can be summarized here');
    expect(gate.promptsText()).not.toContain('canary-secret');
  });

  it('the step limit stops a runaway plan with a clear answer', async () => {
    gate.script = (step) => {
      if (step === 'orchestrator')
        return answer('', [
          { toolName: 'researcher', input: { task: 'loop a' } },
          { toolName: 'researcher', input: { task: 'loop b' } },
        ]);
      return answer('', [{ toolName: 'summarize_thread', input: {} }]);
    };
    await runTurn(withLimits({ maxSteps: 4, specialistRounds: 10 }), say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'loop forever'));
    expect(gate.calls).toHaveLength(4);
    expect(gate.calls.some((c) => c.step === 'aggregator')).toBe(false);
    expect(platform.posted).toHaveLength(1);
    expect(platform.posted[0]!.reply.text).toContain('I stopped working on this request: it needed more than 4 steps');
  });

  it('the token ceiling stops a runaway plan with a clear answer', async () => {
    gate.script = (step) => {
      if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'big' } }], 5_000);
      return answer('more', undefined, 5_000);
    };
    await runTurn(withLimits({ maxTokens: 4_000 }), say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'use many tokens'));
    expect(gate.calls.map((c) => c.step)).toEqual(['orchestrator']);
    expect(platform.posted).toHaveLength(1);
    expect(platform.posted[0]!.reply.text).toContain('it used more than 4000 tokens');
  });
});
