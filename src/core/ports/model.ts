/** The model gate: the one way the core calls a model. */
import type { Scope } from '../identity.js';
import type { WorkspaceSettings } from './stores.js';

/**
 * One message of a prompt. A model's tool calls stay on its assistant message (with their ids),
 * and what a tool returned comes back as a `tool` message naming the call it answers: the
 * provider sends each in its own protocol (OpenAI `tool` messages, Anthropic `tool_result`
 * blocks), so a tool's output is never presented as the user's words.
 */
export type PromptMessage =
  /** `images` (user messages only): pictures the requester shared, sent as image parts where the model takes them. */
  | { role: 'system' | 'user'; content: string; images?: PromptImage[] | undefined }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] | undefined }
  | { role: 'tool'; content: string; toolCallId: string; toolName: string };

/** A picture in a prompt: its bytes and type as a file read them (src/files). */
export interface PromptImage {
  mediaType: string;
  data: Uint8Array;
}

export interface ModelCall {
  scope: Scope;
  principalId: string;
  /** The channel the call answers in: usage is reported by channel. */
  channelExternalId?: string;
  messages: PromptMessage[];
  /** 'answer' uses MODEL_NAME; 'small' uses MODEL_SMALL_NAME. */
  tier?: 'answer' | 'small';
  /** Called when the call waits in a queue, with its position. */
  onQueued?: (position: number) => void;
  signal?: AbortSignal;
  /** The workspace's settings as the turn read them; the gate reads them itself when absent. */
  settings?: WorkspaceSettings;
  /**
   * Tools the model may ask for (name → spec). They have no execute: the model answers with
   * `toolCalls` and the core runs them, as the requester, with permission checks.
   */
  tools?: Record<string, ToolSpec>;
  /** 'none': the tools are offered (the prompt holds earlier calls) but the model must answer in text. */
  toolChoice?: 'auto' | 'none';
  /**
   * Streams the answer: the model is called in streaming mode and each piece of text is passed
   * here as it arrives. Retries and the fallback model apply only until the first piece went out;
   * a failure after that refuses the call (the partial text is not an answer).
   */
  onTextDelta?: (delta: string) => void;
}

/** A tool offered to the model. `inputSchema` is a zod schema or a plain JSON schema object. */
export interface ToolSpec {
  description: string;
  inputSchema: unknown;
}

/** A tool the model asked for, with its (not yet validated) input. */
export interface ToolCall {
  /** The provider's id for the call; its result names it. Absent only from hand-made calls (tests). */
  id?: string | undefined;
  toolName: string;
  input: unknown;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export type ModelOutcome =
  | { kind: 'answer'; text: string; model: string; usage: TokenUsage; latencyMs: number; toolCalls?: ToolCall[] }
  | { kind: 'refused'; reason: 'budget' | 'unavailable' | 'timeout' | 'unusable'; message: string; model?: string; latencyMs: number };

/** The only way anything in Quorum calls a model. Never throws for provider trouble: it answers with an outcome. */
export interface ModelGate {
  generate(call: ModelCall): Promise<ModelOutcome>;
}
