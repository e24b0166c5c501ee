/**
 * A multi-step turn: the orchestrator (one model call with the specialists offered as tools)
 * either answers at once — the one-call path, no overhead — or plans; the chosen specialists
 * run in parallel (bounded), each with its own instructions, tools and tier; the aggregator
 * writes the reply. Every call goes through the ModelGate, so limits, budgets and retries hold
 * for every step, and one budget per turn (steps, tokens) stops a runaway plan.
 */
import { z } from 'zod';
import type { ChannelResource } from '../access/policy.js';
import type { ChannelKind, Envelope } from '../envelope.js';
import type { Role, Scope } from '../identity.js';
import type {
  AgentStore,
  AuditLog,
  ConversationHistory,
  Logger,
  ModelCall,
  ModelGate,
  ModelOutcome,
  PromptMessage,
  TokenUsage,
  ToolSpec,
  TurnStore,
  WorkspaceSettings,
} from '../ports.js';
import { ADMIN_INSTRUCTIONS_HEADER, audienceFor } from '../prompt.js';
import { AGGREGATOR_INSTRUCTIONS, ORCHESTRATOR_INSTRUCTIONS, specialists, type Specialist } from './specialists.js';
import { mapBounded } from './bounded.js';
import type { TurnModels } from '../models.js';
import { builtinTools, type ToolContext } from './tools.js';
import type { KnowledgeSearch } from '../knowledge/retrieval.js';
import type { LimitDefaults } from '../commands/format.js';
import type { ConfirmDeps, Parking } from '../confirm/park.js';
import { runConfirmed } from '../confirm/resume.js';
import type { PendingConfirmation } from '../ports.js';
import { auditCall, auditRefused, callAndResults, identified, runTool, ToolCallBudget, type IdentifiedCall } from './tool-round.js';
import { offeredConnected, runConnectedCall, withConfirmHooks, type ConnectedDeps } from './connected-call.js';
import type { ConnectedTool } from '../ports.js';
import { PendingAudits, withPendingAudits } from './pending-audits.js';

/** What the requester reads when the model's last step wrote no text (it asked for tools instead, or sent nothing). */
export const NO_TEXT_ANSWER =
  'The model did not write an answer to this request (it sent only tool calls or nothing at all). Please try again or rephrase it.';

export interface AgentLimits {
  /** Model calls per turn, all steps together. */
  maxSteps: number;
  /** Tokens (in + out) per turn; checked before each call. */
  maxTokens: number;
  /** Specialists running at once. */
  parallel: number;
  /** Specialists one plan may start; extra calls are dropped. */
  maxTasks: number;
  /** Model calls one specialist may make (tool rounds + its answer). */
  specialistRounds: number;
  specialistTimeoutMs: number;
  /** Tool calls one model response may have run; the rest are refused. */
  maxToolCallsPerResponse: number;
  /** Tool calls run in one turn, all steps together. */
  maxToolCalls: number;
}

export const defaultAgentLimits: AgentLimits = {
  maxSteps: 12,
  maxTokens: 60_000,
  parallel: 3,
  maxTasks: 4,
  specialistRounds: 3,
  specialistTimeoutMs: 90_000,
  maxToolCallsPerResponse: 8,
  maxToolCalls: 24,
};

export interface AgentDeps {
  model: ModelGate;
  audit: AuditLog;
  turns: TurnStore;
  store: AgentStore;
  /** The knowledge index search_history reads as well (absent where none is kept). */
  knowledge?: KnowledgeSearch | undefined;
  log: Logger;
  limits?: Partial<AgentLimits>;
  /** The service's limits where the workspace set none (CoreDeps.limitDefaults). */
  limitDefaults?: LimitDefaults | undefined;
  /** Connected (MCP) tools; absent: the agent has only its built-in tools. */
  connected?: ConnectedDeps | undefined;
  /** Actions wait for the requester's click (src/core/confirm). */
  confirm?: ConfirmDeps | undefined;
}

export interface AgentTurn {
  scope: Scope;
  principal: { id: string; role: Role };
  envelope: Envelope;
  conversationId: string;
  /** The facts runTurn's decision used; tools are decided against the same channel. */
  channel: ChannelResource;
  settings: WorkspaceSettings;
  /** The one-call prompt runTurn built under the audience rule. */
  messages: PromptMessage[];
  /** The models chosen for this channel (core/models.ts); absent: the gate's defaults. */
  models?: TurnModels;
  progress(status: string): void;
  onQueued?: (position: number) => void;
  /** Aborted when the turn runs out of time or the process stops. */
  signal?: AbortSignal;
  isMember(channelExternalId: string, kind: ChannelKind): Promise<boolean>;
  /** The platform's history port, when it has one (summarize_thread reads through it). */
  history?: ConversationHistory;
  /**
   * Where the reply can stream: the orchestrator's call (the one-call path's answer) and the
   * aggregator's call stream their text; specialists never do. A plan that delegates after
   * some text went out withdraws that text.
   */
  answer?: { onTextDelta(delta: string): void; discard(): Promise<void> };
  /** Where a call that needs a click parks the turn: the turn then stops at its next step. */
  parking?: Parking;
  /** A confirmed call this turn resumes: it runs first, and its result joins the prompt. */
  resume?: PendingConfirmation;
  /** Audit writes of read-only connected calls not waited for yet (runAgentTurn makes one when absent). */
  audits?: PendingAudits;
}

type SpecialistResult = { specialist: Specialist; ok: true; text: string } | { specialist: Specialist; ok: false; reason: string };

/** One budget per turn, shared by every step; JavaScript's single thread keeps the counts exact. */
class TurnBudget {
  steps = 0;
  usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  stopped: 'steps' | 'tokens' | null = null;
  lastModel = '';
  readonly toolCalls: ToolCallBudget;

  constructor(
    private readonly gate: ModelGate,
    readonly limits: AgentLimits,
    /** As the turn read them: every step is limited by the same settings, with no read of its own. */
    private readonly settings: WorkspaceSettings,
    /** The whole turn's: aborts every step when the turn runs out of time. */
    private readonly signal?: AbortSignal,
    readonly models?: TurnModels,
  ) {
    this.toolCalls = new ToolCallBudget(limits.maxToolCallsPerResponse, limits.maxToolCalls);
  }

  /** Whether the model of this tier takes tool definitions (one that does not is offered none). */
  takesTools(tier: 'answer' | 'small'): boolean {
    return this.models?.[tier].tools ?? true;
  }

  /** null when the turn's budget is spent: the caller stops. */
  async call(call: ModelCall): Promise<ModelOutcome | null> {
    if (this.stopped) return null;
    if (this.steps >= this.limits.maxSteps) this.stopped = 'steps';
    else if (this.usage.inputTokens + this.usage.outputTokens >= this.limits.maxTokens) this.stopped = 'tokens';
    if (this.stopped) return null;
    this.steps++;
    const signals = [call.signal, this.signal].filter((x): x is AbortSignal => x !== undefined);
    const chosen = this.models?.[call.tier ?? 'answer'];
    const outcome = await this.gate.generate({
      ...call,
      ...(chosen ? { model: chosen.name } : {}),
      settings: this.settings,
      ...(signals.length > 0 ? { signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals) } : {}),
    });
    if (outcome.kind === 'answer') {
      this.usage.inputTokens += outcome.usage.inputTokens;
      this.usage.outputTokens += outcome.usage.outputTokens;
      this.lastModel = outcome.model;
    }
    return outcome;
  }
}

const taskSchema = z.object({ task: z.string().min(1).max(2000) });

/** Resolves once every audit write of the turn committed: what it answers may rest on the calls they audit. */
export function runAgentTurn(agentDeps: AgentDeps, turn: AgentTurn): Promise<ModelOutcome> {
  const audits = turn.audits ?? new PendingAudits();
  return withPendingAudits(audits, () => agentSteps(agentDeps, { ...turn, audits }));
}

async function agentSteps(agentDeps: AgentDeps, turn: AgentTurn & { audits: PendingAudits }): Promise<ModelOutcome> {
  const started = Date.now();
  // Connected actions park the turn for the requester's click; a resumed turn runs the confirmed call.
  const deps = withConfirmHooks(agentDeps, turn);
  const limits = { ...defaultAgentLimits, ...deps.limits };
  const budget = new TurnBudget(deps.model, limits, turn.settings, turn.signal, turn.models);
  const base = { scope: turn.scope, principalId: turn.principal.id, channelExternalId: turn.envelope.channel.id };
  const streamed = turn.answer ? { onTextDelta: turn.answer.onTextDelta } : {};
  const connected = deps.connected ? await offeredConnected(deps.connected, turn) : [];
  const delegates = delegatesFor(connected);

  const toolContext = toolContextOf(deps, turn);
  const resumed = turn.resume ? await runConfirmed(deps, turn, toolContext, turn.resume) : null;
  const messages = [...turn.messages, ...(resumed?.messages ?? [])];
  const offered = { ...resumed?.tools, ...delegates };

  turn.progress('Planning…');
  const plan = await budget.call({
    ...base,
    // A model without tools cannot delegate: it answers in one call.
    messages: budget.takesTools('answer') ? withInstructions(messages, ORCHESTRATOR_INSTRUCTIONS) : messages,
    ...(budget.takesTools('answer') ? { tools: offered } : {}),
    ...(turn.onQueued ? { onQueued: turn.onQueued } : {}),
    ...streamed,
  });
  if (!plan) return stopAnswer(budget, [], started);
  if (plan.kind === 'refused') return plan;
  const calls = identified(plan.toolCalls ?? [], 'plan');
  // The one-call path: the orchestrator answered without delegating.
  if (calls.length === 0) return { ...plan, text: plan.text || NO_TEXT_ANSWER };
  const { tasks, results: refusals } = await planOf(deps, turn, budget, calls, delegates);
  // Nothing to delegate (every call refused): what the planner wrote is the answer, if anything.
  if (tasks.length === 0 && plan.text) return { ...plan, text: plan.text + budget.toolCalls.note() };
  // Whatever the planner wrote before delegating is not the answer.
  await turn.answer?.discard();

  const results = await mapBounded(tasks, limits.parallel, (t) => runSpecialist(deps, turn, budget, { ...toolContext, connected }, t.specialist, t.task));
  // Parked: the confirmation message takes the answer's place (turn/answer.ts posts it).
  if (turn.parking?.parked) return { kind: 'answer', text: '', model: budget.lastModel || 'none', usage: { ...budget.usage }, latencyMs: Date.now() - started };
  for (const r of results) {
    if (r.ok) continue;
    await deps.audit.append(turn.scope, {
      action: 'model_call',
      outcome: 'error',
      actorPrincipalId: turn.principal.id,
      channelExternalId: turn.envelope.channel.id,
      detail: { step: 'specialist', specialist: r.specialist.name, reason: r.reason },
    });
  }
  if (budget.stopped) return stopAnswer(budget, results, started);
  // The answer streams from here, built on the tools' results: their audit entries are written first.
  await turn.audits.flush();

  turn.progress('Writing the answer…');
  // The specialists' reports answer the planner's calls, as tool results tied to their ids.
  const reports = new Map(refusals);
  tasks.forEach((t, i) => {
    const r = results[i]!;
    reports.set(t.callId, r.ok ? r.text : `(missing: this step failed — ${r.reason})`);
  });
  const final = await budget.call({
    ...base,
    tier: 'answer',
    messages: [...withInstructions(messages, AGGREGATOR_INSTRUCTIONS), ...callAndResults(plan.text, calls, reports)],
    // Offered but not to be used: providers want the tools named when the prompt holds calls to them.
    tools: offered,
    toolChoice: 'none',
    ...streamed,
  });
  if (!final) return stopAnswer(budget, results, started);
  if (final.kind === 'refused') return final;
  const failed = results.filter((r) => !r.ok);
  // Said by Quorum itself, so the reply names what is missing whatever the model wrote.
  const missing = failed.length
    ? `\n\nMissing: ${failed.map((r) => r.specialist.missing).join('; ')} (${failed.length === 1 ? 'a step' : 'some steps'} failed).`
    : '';
  return {
    kind: 'answer',
    text: `${final.text || NO_TEXT_ANSWER}${missing}${budget.toolCalls.note()}`,
    model: final.model,
    usage: { ...budget.usage },
    latencyMs: Date.now() - started,
  };
}

/** The specialists offered to the planner; the connected one only when this turn has connected tools, named in its description. */
function delegatesFor(connected: ConnectedTool[]): Record<string, ToolSpec> {
  const names = connected.slice(0, 20).map((t) => t.name).join(', ');
  return Object.fromEntries(
    specialists
      .filter((s) => !s.connected || connected.length > 0)
      .map((s) => [s.name, { description: s.connected ? `${s.description} Tools: ${names}.` : s.description, inputSchema: taskSchema }]),
  );
}

/** Quorum's step instructions go below its rules and above the admins' block (prompt.ts). */
function toolContextOf(deps: AgentDeps, turn: AgentTurn): ToolContext {
  return {
    scope: turn.scope,
    principal: turn.principal,
    envelope: turn.envelope,
    conversationId: turn.conversationId,
    audience: audienceFor(turn.envelope.channel.kind, turn.envelope.channel.id, turn.principal.id),
    store: deps.store,
    knowledge: deps.knowledge,
    turns: deps.turns,
    settings: turn.settings,
    limitDefaults: deps.limitDefaults,
    isMember: turn.isMember,
    history: turn.history,
    log: deps.log,
  };
}

function withInstructions(messages: PromptMessage[], instructions: string): PromptMessage[] {
  const firstOther = messages.findIndex((m) => m.role !== 'system' || m.content.startsWith(ADMIN_INSTRUCTIONS_HEADER));
  const at = firstOther === -1 ? messages.length : firstOther;
  return [...messages.slice(0, at), { role: 'system', content: instructions }, ...messages.slice(at)];
}

type Task = { specialist: Specialist; task: string; callId: string };

/**
 * The planner's calls: each one a known specialist with a valid task runs (at most maxTasks, and
 * within the tool-call limits); every other call is refused, audited, and answered with why.
 */
async function planOf(
  deps: AgentDeps,
  turn: AgentTurn,
  budget: TurnBudget,
  calls: IdentifiedCall[],
  delegates: Record<string, ToolSpec>,
): Promise<{ tasks: Task[]; results: Map<string, string> }> {
  const tasks: Task[] = [];
  const results = new Map<string, string>();
  const { run, refused } = budget.toolCalls.take(calls);
  for (const call of refused) results.set(call.id, budget.toolCalls.limitResult());
  await auditRefused(deps, turn, 'orchestrator', refused);
  for (const call of run) {
    const audit = auditCall(deps, turn, call, 'orchestrator');
    const specialist = Object.hasOwn(delegates, call.toolName) ? specialists.find((s) => s.name === call.toolName) : undefined;
    const input = taskSchema.safeParse(call.input);
    if (!specialist) {
      await audit('denied', { reason: 'unknown_tool' });
      results.set(call.id, `${call.toolName.slice(0, 100)}: no such tool is available.`);
    } else if (!input.success) {
      await audit('error', { reason: 'invalid_input' });
      results.set(call.id, `${specialist.name}: the input was not valid.`);
    } else if (tasks.length >= budget.limits.maxTasks) {
      results.set(call.id, `Not run: at most ${budget.limits.maxTasks} steps run for one request.`);
      budget.toolCalls.skipped++;
    } else {
      tasks.push({ specialist, task: input.data.task, callId: call.id });
    }
  }
  return { tasks, results };
}

function stopAnswer(budget: TurnBudget, results: SpecialistResult[], started: number): ModelOutcome {
  const { maxSteps, maxTokens } = budget.limits;
  const why =
    budget.stopped === 'tokens'
      ? `it used more than ${maxTokens} tokens, the limit for one request`
      : `it needed more than ${maxSteps} steps, the limit for one request`;
  const done = results.filter((r) => r.ok).map((r) => r.specialist.name);
  return {
    kind: 'answer',
    text:
      `I stopped working on this request: ${why}. Please ask for less at once or split it into smaller requests.` +
      (done.length ? ` (Finished before stopping: ${done.join(', ')}.)` : ''),
    model: budget.lastModel || 'none',
    usage: { ...budget.usage },
    latencyMs: Date.now() - started,
  };
}

async function runSpecialist(
  deps: AgentDeps,
  turn: AgentTurn,
  budget: TurnBudget,
  ctx: ToolContext,
  specialist: Specialist,
  task: string,
): Promise<SpecialistResult> {
  turn.progress(specialist.progress);
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<SpecialistResult>((resolve) => {
    timer = setTimeout(() => {
      abort.abort(new Error('specialist timeout'));
      resolve({ specialist, ok: false, reason: 'timeout' });
    }, budget.limits.specialistTimeoutMs);
  });
  const work = specialistLoop(deps, turn, budget, ctx, specialist, task, abort.signal).catch((err: unknown) => {
    deps.log.warn({ event: 'agent.specialist_failed', specialist: specialist.name, err: (err as Error).message }, 'specialist failed');
    return { specialist, ok: false as const, reason: 'error' };
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function specialistLoop(
  deps: AgentDeps,
  turn: AgentTurn,
  budget: TurnBudget,
  ctx: ToolContext,
  specialist: Specialist,
  task: string,
  signal: AbortSignal,
): Promise<SpecialistResult> {
  const offered = specialist.connected ? (ctx.connected ?? []) : [];
  const tools: Record<string, ToolSpec> = Object.fromEntries([
    ...specialist.tools.map((name) => [name, { description: builtinTools[name].description, inputSchema: builtinTools[name].inputSchema }]),
    ...offered.map((t) => [t.name, { description: t.description, inputSchema: t.inputSchema }]),
  ]);
  const messages: PromptMessage[] = [
    { role: 'system', content: specialist.instructions },
    { role: 'user', content: task },
  ];
  const rounds = budget.limits.specialistRounds;
  const hasTools = Object.keys(tools).length > 0 && budget.takesTools(specialist.tier);
  for (let round = 0; round < rounds; round++) {
    if (signal.aborted) return { specialist, ok: false, reason: 'timeout' };
    // The last round may not call tools, so a well-behaved model must answer. They are still named
    // (toolChoice 'none'): providers want the tools of the calls the prompt holds.
    const mayCall = hasTools && round < rounds - 1;
    const outcome = await budget.call({
      scope: turn.scope,
      principalId: turn.principal.id,
      channelExternalId: turn.envelope.channel.id,
      tier: specialist.tier,
      messages: [...messages],
      ...(hasTools ? { tools, toolChoice: mayCall ? ('auto' as const) : ('none' as const) } : {}),
      signal,
    });
    if (!outcome) return { specialist, ok: false, reason: `stopped (${budget.stopped} limit)` };
    if (outcome.kind === 'refused') return { specialist, ok: false, reason: outcome.reason };
    const calls = identified(outcome.toolCalls ?? [], `${specialist.name}-${round}`);
    if (calls.length === 0) return outcome.text ? { specialist, ok: true, text: outcome.text } : { specialist, ok: false, reason: 'no_text' };
    if (!mayCall) return outcome.text ? { specialist, ok: true, text: outcome.text } : { specialist, ok: false, reason: 'too_many_steps' };
    const { run, refused } = budget.toolCalls.take(calls);
    await auditRefused(deps, turn, specialist.name, refused);
    const results = new Map<string, string>(refused.map((c) => [c.id, budget.toolCalls.limitResult()]));
    const ran = await Promise.all(
      run.map((c) =>
        specialist.connected && deps.connected
          ? runConnectedCall({ ...deps.connected, audit: deps.audit, log: deps.log }, turn, offered, specialist.name, c)
          : runTool(deps, turn, ctx, specialist.tools, specialist.name, c),
      ),
    );
    run.forEach((c, i) => results.set(c.id, ran[i]!));
    if (turn.parking?.parked) return { specialist, ok: false, reason: 'waiting for confirmation' };
    messages.push(...callAndResults(outcome.text, calls, results));
  }
  return { specialist, ok: false, reason: 'too_many_steps' };
}
