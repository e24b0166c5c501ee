/**
 * A fake Anthropic Messages API (POST /v1/messages) on 127.0.0.1, in Anthropic's real wire
 * format: a `message` object with content blocks and usage, errors as `{type: 'error', error}`,
 * and a streamed answer as message_start, content_block_* and message_delta/message_stop
 * events. Scripting and recording as in provider-server.ts.
 */
import { FakeProviderServer, type FakeToolCall, type Usage } from './provider-server.js';

export class FakeAnthropicServer extends FakeProviderServer {
  protected readonly path = '/messages';

  protected errorBody(status: number) {
    const type = status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
    return { type: 'error', error: { type, message: `scripted ${status}` } };
  }

  protected answerBody(index: number, model: string, text: string, usage: Usage, toolCalls: FakeToolCall[]) {
    // Anthropic sends a tool's input as an object: arguments that do not parse arrive as a string field.
    const input = (raw: string) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return { raw };
      }
    };
    const uses = toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: input(c.arguments) }));
    return {
      id: `msg_${index}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [...(text || uses.length === 0 ? [{ type: 'text', text }] : []), ...uses],
      stop_reason: uses.length ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    };
  }

  /** Anthropic always reports usage in a stream: input in message_start, output in message_delta. */
  protected streamUsage() {
    return true;
  }

  protected streamStart(index: number, model: string, usage: Usage | null) {
    const message = { id: `msg_${index}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null };
    return (
      event('message_start', { message: { ...message, usage: { input_tokens: usage?.input ?? 0, output_tokens: 1 } } }) +
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
    );
  }

  protected streamPiece(_index: number, _model: string, piece: string) {
    return event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
  }

  protected streamEnd(_index: number, _model: string, usage: Usage | null) {
    return (
      event('content_block_stop', { index: 0 }) +
      event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage?.output ?? 0 } }) +
      event('message_stop', {})
    );
  }

  protected streamToolCalls(index: number, model: string, text: string, toolCalls: FakeToolCall[], usage: Usage | null) {
    const message = { id: `msg_${index}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null };
    const blocks = [
      ...(text ? [event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }), event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }), event('content_block_stop', { index: 0 })] : []),
      ...toolCalls.map((c, i) => {
        const at = i + (text ? 1 : 0);
        return (
          event('content_block_start', { index: at, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }) +
          event('content_block_delta', { index: at, delta: { type: 'input_json_delta', partial_json: c.arguments } }) +
          event('content_block_stop', { index: at })
        );
      }),
    ];
    return (
      event('message_start', { message: { ...message, usage: { input_tokens: usage?.input ?? 0, output_tokens: 1 } } }) +
      blocks.join('') +
      event('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: usage?.output ?? 0 } }) +
      event('message_stop', {})
    );
  }
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}
