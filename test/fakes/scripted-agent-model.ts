/**
 * A ModelGate for multi-step turns: knows which step a call is (orchestrator, a specialist by
 * name, aggregator), answers from a script after an optional delay, and records each call's
 * time window so tests can assert that specialists overlapped.
 */
import { AGGREGATOR_INSTRUCTIONS, specialists } from '../../src/core/agent/specialists.js';
import type { ModelCall, ModelGate, ModelOutcome, ToolCall } from '../../src/core/ports.js';

export type Step = 'orchestrator' | 'aggregator' | string;

export interface RecordedCall {
  step: Step;
  call: ModelCall;
  /** The call ends with tool results of an earlier round (a specialist's second round, the aggregator). */
  withResults: boolean;
  start: number;
  end: number;
}

export type AgentScript = (step: Step, call: ModelCall, withResults: boolean) => ModelOutcome | Promise<ModelOutcome>;

export function answer(text: string, toolCalls?: ToolCall[], tokens = 15): ModelOutcome {
  return {
    kind: 'answer',
    text,
    model: 'fake-model',
    usage: { inputTokens: tokens - 5, outputTokens: 5 },
    latencyMs: 1,
    ...(toolCalls ? { toolCalls } : {}),
  };
}

export function stepOf(call: ModelCall): Step {
  // The aggregator is offered the specialists too (toolChoice 'none'): its instructions tell it apart.
  if (call.messages.some((m) => m.role === 'system' && m.content === AGGREGATOR_INSTRUCTIONS)) return 'aggregator';
  if (call.tools && specialists.some((s) => s.name in (call.tools ?? {}))) return 'orchestrator';
  const system = call.messages[0]?.content ?? '';
  return specialists.find((s) => s.instructions === system)?.name ?? 'orchestrator';
}

export class ScriptedAgentGate implements ModelGate {
  readonly calls: RecordedCall[] = [];

  constructor(
    public script: AgentScript,
    public delayMs = 0,
  ) {}

  async generate(call: ModelCall): Promise<ModelOutcome> {
    const step = stepOf(call);
    const withResults = call.messages.at(-1)?.role === 'tool';
    const record: RecordedCall = { step, call, withResults, start: performance.now(), end: 0 };
    this.calls.push(record);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    try {
      return await this.script(step, call, withResults);
    } finally {
      record.end = performance.now();
    }
  }

  reset(): void {
    this.calls.length = 0;
  }

  /** Every prompt's text, for canary assertions. */
  promptsText(): string {
    return this.calls.map((c) => c.call.messages.map((m) => m.content).join('\n')).join('\n---\n');
  }
}
