/** A ModelGate that records every prompt it receives and answers from a script. */
import type { ModelCall, ModelGate, ModelOutcome, PromptMessage } from '../../src/core/ports.js';

export type Script = (call: ModelCall, index: number) => ModelOutcome | Promise<ModelOutcome>;

export class RecordingModelGate implements ModelGate {
  readonly calls: ModelCall[] = [];

  constructor(private readonly script: Script = (call) => RecordingModelGate.echo(call)) {}

  static echo(call: ModelCall): ModelOutcome {
    const last = call.messages[call.messages.length - 1]?.content ?? '';
    return { kind: 'answer', text: `echo: ${last}`, model: 'fake-model', usage: { inputTokens: 10, outputTokens: 5 }, latencyMs: 1 };
  }

  async generate(call: ModelCall): Promise<ModelOutcome> {
    this.calls.push(call);
    return this.script(call, this.calls.length - 1);
  }

  /** Every prompt's text, joined, for canary assertions. */
  promptsText(): string[] {
    return this.calls.map((c) => c.messages.map((m: PromptMessage) => m.content).join('\n'));
  }
}
