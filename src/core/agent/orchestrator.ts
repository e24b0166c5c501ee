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
  ToolCall,
  ToolSpec,
  TurnStore,
  WorkspaceSettings,
} from '../ports.js';
import { audienceFor } from '../prompt.js';
import { RESULTS_MARKER } from './markers.js';
import { explainToolDenial, TOOL_NAMES, toolAllowed, type ToolName } from './permissions.js';
import { AGGREGATOR_INSTRUCTIONS, ORCHESTRATOR_INSTRUCTIONS, specialists, type Specialist } from './specialists.js';
import { mapBounded } from './bounded.js';
import { builtinTools, type ToolContext } from './tools.js';
import type { LimitDefaults } from '../commands/format.js';

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
}

export const defaultAgentLimits: AgentLimits = {
  maxSteps: 12,
  maxTokens: 60_000,
  parallel: 3,
  maxTasks: 4,
  specialistRounds: 3,
  specialistTimeoutMs: 90_000,
};

export interface AgentDeps {
  model: ModelGate;
  audit: AuditLog;
  turns: TurnStore;
  store: AgentStore;
  log: Logger;
  limits?: Partial<AgentLimits>;
  /** The service's limits where the workspace set none (CoreDeps.limitDefaults). */
  limitDefaults?: LimitDefaults | undefined;
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
}

type SpecialistResult = { specialist: Specialist; ok: true; text: string } | { specialist: Specialist; ok: false; reason: string };

/** One budget per turn, shared by every step; JavaScript's single thread keeps the counts exact. */
class TurnBudget {
  steps = 0;
  usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  stopped: 'steps' | 'tokens' | null = null;
  lastModel = '';

  constructor(
    private readonly gate: ModelGate,
    readonly limits: AgentLimits,
    /** As the turn read them: every step is limited by the same settings, with no read of its own. */
    private readonly settings: WorkspaceSettings,
    /** The whole turn's: aborts every step when the turn runs out of time. */
    private readonly signal?: AbortSignal,
  ) {}

  /** null when the turn's budget is spent: the caller stops. */
  async call(call: ModelCall): Promise<ModelOutcome | null> {
    if (this.stopped) return null;
    if (this.steps >= this.limits.maxSteps) this.stopped = 'steps';
    else if (this.usage.inputTokens + this.usage.outputTokens >= this.limits.maxTokens) this.stopped = 'tokens';
    if (this.stopped) return null;
    this.steps++;
    const signals = [call.signal, this.signal].filter((x): x is AbortSignal => x !== undefined);
    const outcome = await this.gate.generate({
      ...call,
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

export async function runAgentTurn(deps: AgentDeps, turn: AgentTurn): Promise<ModelOutcome> {
  const started = Date.now();
  const limits = { ...defaultAgentLimits, ...deps.limits };
  const budget = new TurnBudget(deps.model, limits, turn.settings, turn.signal);
  const base = { scope: turn.scope, principalId: turn.principal.id };
  const streamed = turn.answer ? { onTextDelta: turn.answer.onTextDelta } : {};

  turn.progress('Planning…');
  const plan = await budget.call({
    ...base,
    messages: withInstructions(turn.messages, ORCHESTRATOR_INSTRUCTIONS),
    tools: Object.fromEntries(specialists.map((s) => [s.name, { description: s.description, inputSchema: taskSchema }])),
    ...(turn.onQueued ? { onQueued: turn.onQueued } : {}),
    ...streamed,
  });
  if (!plan) return stopAnswer(budget, [], started);
  if (plan.kind === 'refused') return plan;
  const tasks = planOf(plan.toolCalls ?? []).slice(0, limits.maxTasks);
  // The one-call path: the orchestrator answered without delegating.
  if (tasks.length === 0) return { ...plan, text: plan.text || '(The model returned an empty answer.)' };
  // Whatever the planner wrote before delegating is not the answer.
  await turn.answer?.discard();

  const toolContext: ToolContext = {
    scope: turn.scope,
    principal: turn.principal,
    envelope: turn.envelope,
    conversationId: turn.conversationId,
    audience: audienceFor(turn.envelope.channel.kind, turn.envelope.channel.id, turn.principal.id),
    store: deps.store,
    turns: deps.turns,
    settings: turn.settings,
    limitDefaults: deps.limitDefaults,
    isMember: turn.isMember,
    history: turn.history,
    log: deps.log,
  };
  const results = await mapBounded(tasks, limits.parallel, (t) => runSpecialist(deps, turn, budget, toolContext, t.specialist, t.task));
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

  turn.progress('Writing the answer…');
  const sections = results.map((r) =>
    r.ok ? `## ${r.specialist.name}\n${r.text}` : `## ${r.specialist.name}\n(missing: this step failed — ${r.reason})`,
  );
  const final = await budget.call({
    ...base,
    tier: 'answer',
    messages: [
      { role: 'system', content: AGGREGATOR_INSTRUCTIONS },
      { role: 'user', content: `${RESULTS_MARKER}\nRequest: ${turn.envelope.text}\n\n${sections.join('\n\n')}` },
    ],
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
    text: `${final.text}${missing}`,
    model: final.model,
    usage: { ...budget.usage },
    latencyMs: Date.now() - started,
  };
}

function withInstructions(messages: PromptMessage[], instructions: string): PromptMessage[] {
  const firstOther = messages.findIndex((m) => m.role !== 'system');
  const at = firstOther === -1 ? messages.length : firstOther;
  return [...messages.slice(0, at), { role: 'system', content: instructions }, ...messages.slice(at)];
}

function planOf(calls: ToolCall[]): { specialist: Specialist; task: string }[] {
  const plan: { specialist: Specialist; task: string }[] = [];
  for (const call of calls) {
    const specialist = specialists.find((s) => s.name === call.toolName);
    const input = taskSchema.safeParse(call.input);
    if (specialist && input.success) plan.push({ specialist, task: input.data.task });
  }
  return plan;
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
  const tools: Record<string, ToolSpec> = Object.fromEntries(
    specialist.tools.map((name) => [name, { description: builtinTools[name].description, inputSchema: builtinTools[name].inputSchema }]),
  );
  const messages: PromptMessage[] = [
    { role: 'system', content: specialist.instructions },
    { role: 'user', content: task },
  ];
  const rounds = budget.limits.specialistRounds;
  for (let round = 0; round < rounds; round++) {
    if (signal.aborted) return { specialist, ok: false, reason: 'timeout' };
    // The last round offers no tools, so a well-behaved model must answer.
    const offerTools = specialist.tools.length > 0 && round < rounds - 1;
    const outcome = await budget.call({
      scope: turn.scope,
      principalId: turn.principal.id,
      tier: specialist.tier,
      messages: [...messages],
      ...(offerTools ? { tools } : {}),
      signal,
    });
    if (!outcome) return { specialist, ok: false, reason: `stopped (${budget.stopped} limit)` };
    if (outcome.kind === 'refused') return { specialist, ok: false, reason: outcome.reason };
    const calls = outcome.toolCalls ?? [];
    if (calls.length === 0) return { specialist, ok: true, text: outcome.text };
    if (!offerTools) return outcome.text ? { specialist, ok: true, text: outcome.text } : { specialist, ok: false, reason: 'too_many_steps' };
    const results = await Promise.all(calls.map((c) => runTool(deps, turn, ctx, specialist, c)));
    messages.push(
      { role: 'assistant', content: `Calling ${calls.map((c) => c.toolName).join(', ')}.` },
      { role: 'user', content: `${RESULTS_MARKER}\n${results.join('\n\n')}` },
    );
  }
  return { specialist, ok: false, reason: 'too_many_steps' };
}

/** Runs one tool call as the requester: permission at call time, validated input, audited. */
async function runTool(deps: AgentDeps, turn: AgentTurn, ctx: ToolContext, specialist: Specialist, call: ToolCall): Promise<string> {
  const audit = (outcome: 'ok' | 'denied' | 'error', detail: Record<string, unknown>) =>
    deps.audit.append(turn.scope, {
      action: 'tool_call',
      outcome,
      actorPrincipalId: turn.principal.id,
      channelExternalId: turn.envelope.channel.id,
      channelKind: turn.envelope.channel.kind,
      // The arguments are stored as their SHA-256 unless the workspace keeps content (channels only).
      content: JSON.stringify(call.input ?? null),
      detail: { tool: call.toolName, specialist: specialist.name, ...detail },
    });
  const name = call.toolName as ToolName;
  if (!(TOOL_NAMES as readonly string[]).includes(name) || !specialist.tools.includes(name)) {
    await audit('denied', { reason: 'unknown_tool' });
    return `${call.toolName}: no such tool is available.`;
  }
  const toolRule = await deps.store.toolRule(turn.scope, turn.envelope.channel.id, name);
  const decision = toolAllowed({ principalId: turn.principal.id, role: turn.principal.role }, name, { ...turn.channel, toolRule });
  if (!decision.allow) {
    await audit('denied', { reason: decision.reason });
    return `${name} is unavailable: ${explainToolDenial(decision)}`;
  }
  const tool = builtinTools[name];
  const input = tool.inputSchema.safeParse(call.input ?? {});
  if (!input.success) {
    await audit('error', { reason: 'invalid_input' });
    return `${name}: the input was not valid.`;
  }
  try {
    const text = await tool.run(ctx, input.data);
    await audit('ok', {});
    return `${name}:\n${text}`;
  } catch (err) {
    deps.log.warn({ event: 'agent.tool_failed', tool: name, err: (err as Error).message }, 'tool failed');
    await audit('error', { reason: 'failed' });
    return `${name}: failed.`;
  }
}
