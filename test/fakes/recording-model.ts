/** A ModelGate that records every prompt it receives and answers from a script. */
import type { ModelCall, ModelGate, ModelOutcome, PromptMessage } from '../../src/core/ports.js';

export type Script = (call: ModelCall, index: number) => ModelOutcome | Promise<ModelOutcome>;

/** Streaming like a provider: an answer's text goes to onTextDelta in pieces before the outcome returns. */
export interface StreamingOptions {
  /** Words per piece. */
  words: number;
  /** Pause between pieces (a model writing), so that throttled platforms see several updates. */
  pauseMs?: number;
  /** Pieces sent before the call fails instead (a stream that breaks midway). */
  failAfter?: number;
}

export class RecordingModelGate implements ModelGate {
  readonly calls: ModelCall[] = [];

  constructor(
    private readonly script: Script = (call) => RecordingModelGate.echo(call),
    /** Set to stream answers (tests may change it between turns). */
    public streaming?: StreamingOptions,
  ) {}

  static echo(call: ModelCall): ModelOutcome {
    const last = call.messages[call.messages.length - 1]?.content ?? '';
    return { kind: 'answer', text: `echo: ${last}`, model: 'fake-model', usage: { inputTokens: 10, outputTokens: 5 }, latencyMs: 1 };
  }

  async generate(call: ModelCall): Promise<ModelOutcome> {
    this.calls.push(call);
    const outcome = await this.script(call, this.calls.length - 1);
    if (!this.streaming || !call.onTextDelta || outcome.kind !== 'answer') return outcome;
    const { words, pauseMs = 0, failAfter } = this.streaming;
    const all = outcome.text.split(/(?<= )/);
    for (let i = 0, piece = 0; i < all.length; i += words, piece++) {
      if (failAfter !== undefined && piece >= failAfter) {
        return { kind: 'refused', reason: 'unavailable', message: 'The model stopped in the middle of its answer.', model: outcome.model, latencyMs: 1 };
      }
      if (pauseMs > 0 && piece > 0) await new Promise((r) => setTimeout(r, pauseMs));
      call.onTextDelta(all.slice(i, i + words).join(''));
    }
    return outcome;
  }

  /** Every prompt's text, joined, for canary assertions. */
  promptsText(): string[] {
    return this.calls.map((c) => c.messages.map((m: PromptMessage) => m.content).join('\n'));
  }
}
